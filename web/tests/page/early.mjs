// page.mjs --early: a video is watched while it still encodes. The processing view offers
// "Watch now" once the start plays; the library lists the video marked as encoding; the
// player plays the growing (EVENT) playlists from the start, shows how much is ready, takes
// the sprite sheets (seek previews) that fill while it encodes, and plays on across the
// switch to the final (VOD) playlists without reloading or an error.
// The server must encode slowly enough to be caught in the act (the Rust test holds slices
// back with SLICECAST_SLOW_SLICES).
import { CheckError, round, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { authHeaders, streamHref } from './signed.mjs';
import { processingVideoId } from './upload.mjs';

/** The first media playlist of the master at `masterUrl`, as text. */
async function firstMediaPlaylist(masterUrl) {
  const master = await (await fetch(masterUrl)).text();
  const uri = master.split('\n').find((l) => l && !l.startsWith('#') && l.includes('.m3u8'));
  if (!uri) throw new CheckError('the master playlist lists no media playlist');
  return (await fetch(new URL(uri.trim(), masterUrl))).text();
}

/** What the player shows now. */
function playerState() {
  const v = document.querySelector('#video');
  const el = document.querySelector('#player');
  const err = document.querySelector('#player-error');
  return {
    t: v.currentTime,
    paused: v.paused,
    engine: el.dataset.engine ?? null,
    growing: el.dataset.growing ?? null,
    readyUntil: Number(document.querySelector('#seek-bar').dataset.readyUntil ?? NaN),
    pendingShown: !document.querySelector('#seek-pending').hidden,
    thumbnails: Number(el.dataset.thumbnails) || 0,
    dashEnabled: !document.querySelector('#protocol-dash').disabled,
    error: err.hidden ? null : err.textContent,
    events: window.__earlyEvents ?? null,
  };
}

/** Counts the video element's reloads (emptied, loadstart) and stalls (waiting) from now on. */
function countEvents() {
  const v = document.querySelector('#video');
  const ev = { emptied: 0, loadstart: 0, waiting: 0, timeWentBack: 0, last: v.currentTime };
  for (const name of ['emptied', 'loadstart', 'waiting']) v.addEventListener(name, () => { ev[name]++; });
  v.addEventListener('timeupdate', () => {
    if (v.currentTime + 0.25 < ev.last) ev.timeWentBack++;
    ev.last = v.currentTime;
  });
  window.__earlyEvents = ev;
}

/** While the video encodes: "Watch now", the library's badge, and playback from the start. */
export async function watchWhileEncoding(t) {
  const { page, opts, result, step } = t;
  const ok = await step('the start plays while the rest encodes', async () => {
    const id = await processingVideoId(t);
    const job = `[data-testid="processing-job"][data-video-id="${id}"]`;
    const p0 = Date.now();
    const st = await waitFor(page, '"Watch now" in the processing view', (q) => {
      const el = document.querySelector(q);
      return el && { status: el.dataset.status, playable: el.dataset.playable, stage: el.querySelector('[data-testid="processing-stage"]').textContent };
    }, job, (s) => s && (s.playable === 'true' || s.status !== 'processing'), { timeout: opts.timeoutMs });
    if (st.status !== 'processing') {
      throw new CheckError(`the video was ${st.status} before its start played: the server must encode slowly enough to watch it early`);
    }
    const offeredS = round((Date.now() - p0) / 1000, 1);
    const offered = await (await fetch(`${opts.base}/status/${id}`, { headers: authHeaders(opts) })).json();
    const media = offered.assets?.hls_master ? await firstMediaPlaylist(streamHref(opts, offered, offered.assets.hls_master)) : '';
    const card = `[data-testid="library-item"][data-video-id="${id}"][data-status="processing"]`;
    await page.waitForSelector(card, { timeout: 10000 });
    const badge = await page.textContent(`${card} [data-testid="library-encoding"]`);
    if (!/^Encoding · \d+:\d\d ready$/.test(badge ?? '')) throw new CheckError(`the library card's badge reads ${JSON.stringify(badge)}`);
    const libraryWatch = await page.isVisible(`${card} [data-testid="library-watch"]`);
    if (!libraryWatch) throw new CheckError('the library card offers no "Watch now"');

    await page.click(`${job} [data-testid="processing-play"]`);
    await page.waitForSelector(`#player[data-video-id="${id}"][data-growing="true"]`, { timeout: 10000 });
    await page.evaluate(countEvents);
    const playing = await waitFor(page, 'playback past 1 s while encoding', playerState, null,
      (s) => s.error || (s.t > 1 && !s.paused), { timeout: 30000 });
    if (playing.error) throw new CheckError(`the player shows an error: ${playing.error}`);
    const m = await (await fetch(`${opts.base}/status/${id}`)).json();
    if (m.status !== 'processing') {
      throw new CheckError(`the video finished (${m.status}) before the page played it: encode more slowly`);
    }
    if (m.playable !== true || !(m.playable_after_ms >= 0)) throw new CheckError(`the manifest says playable=${m.playable}, playable_after_ms=${m.playable_after_ms}`);
    if (!playing.pendingShown || !(playing.readyUntil > 0)) {
      throw new CheckError(`the seek bar does not show what is ready (${JSON.stringify(playing)})`);
    }
    if (playing.engine !== 'hls.js') throw new CheckError(`played by ${playing.engine}, not hls.js`);
    if (!media.includes('#EXT-X-PLAYLIST-TYPE:EVENT') || media.includes('#EXT-X-ENDLIST')) {
      throw new CheckError('the media playlist played while encoding is not a growing EVENT playlist');
    }
    // Sprite sheets that filled while it encoded: the player previews from them.
    const sprites = await waitFor(page, 'seek previews while encoding', playerState, null,
      (s) => s.error || s.growing !== 'true' || s.thumbnails > 0, { timeout: 30000 });
    if (sprites.error) throw new CheckError(`the player shows an error: ${sprites.error}`);
    if (!(sprites.thumbnails > 0)) {
      throw new CheckError('no sprite sheet reached the player before the video was complete');
    }
    t.early = { readyAtStart: playing.readyUntil, playableAfterMs: m.playable_after_ms };
    result.early = {
      offeredAfterS: offeredS, badge, libraryWatch, stageText: st.stage, playedAt: round(playing.t, 2),
      readyUntil: playing.readyUntil, playableAfterMs: m.playable_after_ms,
      thumbnailsWhileEncoding: sprites.thumbnails, readyWithThumbnails: sprites.readyUntil,
      duration: m.duration_s, slicesDone: m.progress?.slices_done, slicesTotal: m.progress?.slices_total,
    };
    return result.early;
  });
  if (!ok) throw new CheckError('the video did not play while it encoded');
}

/** After processing completed: the same playback goes on, past what was ready at first. */
export async function playsOnAfterComplete(t) {
  const { page, opts, result, step } = t;
  await step('plays on across the switch to VOD', async () => {
    const done = await waitFor(page, 'the player to notice the video is complete', playerState, null,
      (s) => s.growing === 'false' || s.error, { timeout: 15000 });
    if (done.error) throw new CheckError(`the player shows an error: ${done.error}`);
    if (done.pendingShown) throw new CheckError('the seek bar still shows a part as encoding');
    if (!done.dashEnabled && opts.dash) throw new CheckError('DASH is not offered once the video is complete');
    const duration = t.manifest?.duration_s ?? 0;
    const target = Math.min(duration - 2, Math.max(t.early.readyAtStart + 10, 20));
    await page.evaluate((rate) => { document.querySelector('#video').playbackRate = rate; }, opts.rate);
    const seen = [];
    const end = Date.now() + 90000;
    let s;
    for (;;) {
      s = await page.evaluate(playerState);
      seen.push(round(s.t, 1));
      if (s.error) throw new CheckError(`the player shows an error: ${s.error}`);
      if (s.t >= target) break;
      if (s.paused) throw new CheckError(`playback paused at ${round(s.t, 2)} s`);
      if (Date.now() > end) throw new CheckError(`playback did not reach ${round(target, 1)} s (at ${round(s.t, 2)} s)`);
      await sleep(250);
    }
    const ev = s.events;
    if (ev.emptied || ev.loadstart) throw new CheckError(`the player reloaded the video (${JSON.stringify(ev)})`);
    if (ev.timeWentBack) throw new CheckError(`playback jumped back ${ev.timeWentBack} time(s)`);
    const media = await firstMediaPlaylist(streamHref(opts, t.manifest, t.manifest.assets.hls_master));
    if (!media.includes('#EXT-X-PLAYLIST-TYPE:VOD') || !media.includes('#EXT-X-ENDLIST')) {
      throw new CheckError('the final media playlist is not VOD with ENDLIST');
    }
    result.early = { ...result.early, playedTo: round(s.t, 2), target: round(target, 1), stalls: ev.waiting };
    return { playedTo: round(s.t, 2), target: round(target, 1), stalls: ev.waiting };
  });
}
