// In-page harness for play.mjs. The page has <video id="v"> and exactly one player
// library loaded (hls.js, Shaka Player or dash.js). play.mjs calls window.__start()
// once and then polls window.__state().
/* global Hls, shaka, dashjs */
(() => {
  const video = document.getElementById('v');
  const r = {
    fatal: [],      // errors that end playback: hls.js fatal, shaka CRITICAL, dash.js 'error', load() rejection
    nonFatal: [],   // hls.js non-fatal, shaka RECOVERABLE
    video: [],      // <video> 'error' events
    waiting: [],    // currentTime of each 'waiting' (stall) event
    seeked: [],     // currentTime at each 'seeked' event
    rateResets: 0,
  };
  const short = (v) => {
    try { return (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)).slice(0, 400); }
    catch { return String(v).slice(0, 400); }
  };
  const t = () => Math.round(video.currentTime * 1000) / 1000;

  video.addEventListener('error', () =>
    r.video.push({ code: video.error?.code ?? null, message: video.error?.message ?? '', at: t() }));
  video.addEventListener('waiting', () => r.waiting.push(t()));
  video.addEventListener('seeked', () => r.seeked.push(t()));

  let rate = 1;
  let codec = null; // steer to renditions of this codec prefix (--codec)
  const setups = {
    'hls.js': (url) => {
      if (!Hls.isSupported()) throw new Error('hls.js: MSE not supported');
      // From the start also on a growing (EVENT) playlist, which it would join near its end.
      const hls = new Hls({ startPosition: 0 });
      hls.on(Hls.Events.ERROR, (_e, d) => (d.fatal ? r.fatal : r.nonFatal).push({
        type: d.type, details: d.details,
        reason: short(d.reason ?? d.error?.message ?? ''),
        url: d.frag?.url ?? d.context?.url ?? d.url ?? '',
        at: t(),
      }));
      if (codec) {
        hls.on(Hls.Events.MANIFEST_PARSED, () => {
          const i = hls.levels.findIndex((l) => l.videoCodec?.startsWith(codec));
          if (i < 0) r.fatal.push({ message: `hls.js kept no ${codec} level` });
          else hls.currentLevel = i;
        });
      }
      hls.loadSource(url);
      hls.attachMedia(video);
      return hls;
    },
    shaka: (url) => {
      shaka.polyfill.installAll();
      if (!shaka.Player.isBrowserSupported()) throw new Error('shaka: browser not supported');
      const player = new shaka.Player();
      // At 4x on a small machine many frames drop; don't let ABR ban renditions for that.
      player.configure({ abr: { droppedFrames: false } });
      if (codec) player.configure({ preferredVideoCodecs: [codec] });
      const push = (err) => (err?.severity === 1 ? r.nonFatal : r.fatal).push({
        severity: err?.severity ?? null, category: err?.category ?? null, code: err?.code ?? null,
        data: short(err?.data ?? err?.message ?? err), at: t(),
      });
      player.addEventListener('error', (ev) => push(ev.detail));
      player.attach(video)
        .then(() => player.load(url, 0)) // from the start, also on a growing playlist
        .then(() => video.play())
        .catch((err) => { if (!r.fatal.some((e) => e.code === err?.code)) push(err); });
      return player;
    },
    dashjs: (url) => {
      const player = dashjs.MediaPlayer().create();
      const push = (ev) => r.fatal.push({
        type: ev.type, code: ev.error?.code ?? null,
        message: short(ev.error?.message ?? ev.error ?? ''), at: t(),
      });
      player.on(dashjs.MediaPlayer.events.ERROR, push);
      player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, push);
      // Text off until __subtitles() turns it on, as a viewer's CC button does. dash.js 5.2
      // drops the cues of a whole-file WebVTT that arrives during its start-up seek (between
      // STREAM_INITIALIZED and the first seeked: the track stays empty, and the file is not
      // fetched again); on a busy machine that was half the runs. Fetched on demand, after
      // start-up, they arrived in 16 runs of 16 under the same load.
      player.updateSettings({ streaming: { text: { defaultEnabled: false } } });
      if (codec) {
        player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: false } } } });
        player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
          const sets = player.getTracksFor('video');
          const want = sets.find((t) => (t.codec ?? '').includes(codec));
          if (want) player.setCurrentTrack(want);
          else r.fatal.push({ message: `dash.js has no ${codec} video set` });
        });
      }
      player.initialize(video, url, true);
      return player;
    },
  };

  window.__start = (lib, url, playbackRate, wantCodec) => {
    rate = playbackRate;
    codec = wantCodec ?? null;
    video.muted = true;
    video.defaultPlaybackRate = rate;
    video.playbackRate = rate;
    try {
      window.__player = setups[lib](url);
    } catch (err) {
      r.fatal.push({ message: short(err?.message ?? err) });
    }
    video.play().catch(() => {}); // may reject before the source is ready; players retry
  };

  // Video renditions the player kept after filtering out what the browser cannot play.
  const renditions = () => {
    const p = window.__player;
    let list = [];
    try {
      if (window.Hls && p?.levels) {
        list = p.levels.map((l) => [l.width, l.height, l.bitrate, [l.videoCodec, l.audioCodec].filter(Boolean).join(',')]);
      } else if (window.shaka && p?.getVariantTracks) {
        list = p.getVariantTracks().map((v) => [v.width, v.height, v.bandwidth, v.codecs]);
      } else if (window.dashjs && p?.getRepresentationsByType) {
        list = p.getRepresentationsByType('video').map((v) => [v.width, v.height, v.bandwidth, v.codecs]);
      }
    } catch { /* not loaded yet */ }
    return list.map(([width, height, bandwidth, codecs]) => ({ width, height, bandwidth, codecs }));
  };

  // The video codec of the rendition playing now.
  const playingCodec = () => {
    const p = window.__player;
    try {
      if (window.Hls && p?.levels) return p.levels[p.currentLevel]?.videoCodec ?? null;
      if (window.shaka && p?.getVariantTracks) return p.getVariantTracks().find((t) => t.active)?.videoCodec ?? null;
      if (window.dashjs && p?.getCurrentTrackFor) {
        const c = p.getCurrentTrackFor('video')?.codec ?? '';
        return /codecs="?([^";]+)/.exec(c)?.[1] ?? (c || null);
      }
    } catch { /* not loaded yet */ }
    return null;
  };

  // Snapshot for play.mjs; also keeps the playback rate and playing state up.
  window.__state = () => {
    if (video.playbackRate !== rate && video.playbackRate !== 0) { video.playbackRate = rate; r.rateResets++; }
    const q = video.getVideoPlaybackQuality?.() ?? {};
    const buffered = [];
    for (let i = 0; i < video.buffered.length; i++) {
      buffered.push([+video.buffered.start(i).toFixed(3), +video.buffered.end(i).toFixed(3)]);
    }
    return {
      currentTime: t(),
      duration: Number.isFinite(video.duration) ? video.duration : null,
      paused: video.paused, ended: video.ended, seeking: video.seeking,
      readyState: video.readyState,
      videoWidth: video.videoWidth, videoHeight: video.videoHeight,
      totalVideoFrames: q.totalVideoFrames ?? null, droppedVideoFrames: q.droppedVideoFrames ?? null,
      buffered,
      renditions: renditions(),
      playingCodec: playingCodec(),
      ...r,
    };
  };

  // Turns the first subtitle track on through the player's own API.
  window.__subtitles = () => {
    const p = window.__player;
    try {
      if (window.Hls && p?.subtitleTracks) {
        if (!p.subtitleTracks.length) return { ok: false, detail: 'hls.js lists no subtitle track' };
        p.subtitleDisplay = true;
        p.subtitleTrack = 0;
      } else if (window.shaka && p?.getTextTracks) {
        const tracks = p.getTextTracks();
        if (!tracks.length) return { ok: false, detail: 'shaka lists no text track' };
        p.selectTextTrack(tracks[0]);
        // Shaka 4 has setTextTrackVisibility; Shaka 5 moved visibility to its text displayer.
        if (typeof p.setTextTrackVisibility === 'function') p.setTextTrackVisibility(true);
        else p.getTextDisplayer?.()?.setTextVisibility?.(true);
      } else if (window.dashjs && p?.getTracksFor) {
        const tracks = p.getTracksFor('text');
        if (!tracks.length) return { ok: false, detail: 'dash.js lists no text track' };
        p.enableText(true);
        p.setTextTrack(0);
      } else {
        return { ok: false, detail: 'no player' };
      }
    } catch (err) {
      return { ok: false, detail: short(err?.message ?? err) };
    }
    return { ok: true };
  };

  // Text of every active cue of every text track that is on.
  window.__activeCues = () => [...video.textTracks]
    .filter((t) => t.mode !== 'disabled')
    .flatMap((t) => [...(t.activeCues ?? [])].map((c) => (c.text ?? '').replace(/\s+/g, ' ').trim()));

  // Every text track with its mode and first cues (for failure reports).
  window.__textTracks = () => [...video.textTracks].map((t) => ({
    kind: t.kind, label: t.label, mode: t.mode,
    cues: [...(t.cues ?? [])].slice(0, 4).map((c) => [+c.startTime.toFixed(3), +c.endTime.toFixed(3), (c.text ?? '').slice(0, 40)]),
  }));

  window.__pauseAt = (to) => {
    video.pause();
    video.currentTime = to;
  };

  window.__resume = () => { video.play().catch(() => {}); };

  window.__seek = (to) => {
    video.currentTime = to;
    if (video.paused) video.play().catch(() => {});
  };
})();
