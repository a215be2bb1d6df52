// page.mjs's player steps: play past the slice seam, scrub with the seek bar, switch quality,
// subtitles (with --subtitles), DASH, and the screenshot.
import { CheckError, round, waitFor } from '../../../tests/harness/chromium.mjs';
import { a11yStep } from './a11y.mjs';
import { checkFit, openAdvanced } from './fit.mjs';
import { authHeaders, streamHref } from './signed.mjs';

// Snapshot of the <video> element and the player's own view of itself.
export function videoState() {
  const v = document.querySelector('#video');
  const p = document.querySelector('#player');
  const q = v.getVideoPlaybackQuality?.() ?? {};
  const badge = document.querySelector('#current-quality');
  return {
    currentTime: v.currentTime,
    duration: Number.isFinite(v.duration) ? v.duration : null,
    paused: v.paused,
    ended: v.ended,
    seeking: v.seeking,
    readyState: v.readyState,
    videoWidth: v.videoWidth,
    videoHeight: v.videoHeight,
    frames: q.totalVideoFrames ?? null,
    dropped: q.droppedVideoFrames ?? null,
    playbackRate: v.playbackRate,
    engine: p.dataset.engine ?? null,
    protocol: p.dataset.protocol ?? null,
    error: p.dataset.error ?? null,
    playLabel: document.querySelector('#play-button').getAttribute('aria-label'),
    level: badge.textContent,
    levelHeight: Number(badge.dataset.height) || null,
    quality: document.querySelector('#quality-menu').value,
    sectionHidden: document.querySelector('#player-section').hidden,
  };
}

/** The player steps on the video at `itemSel`, whose manifest is `manifest`. */
export async function playerSteps({ page, opts, result, step, itemSel, manifest }) {
  const seam = manifest.slice_starts_s?.[1] ?? null;
  const duration = manifest.duration_s;

  // ---------------------------------------------------------------- play past the seam
  const setRate = () => page.evaluate((r) => { document.querySelector('#video').playbackRate = r; }, opts.rate);
  const played = await step('play past the slice seam (HLS)', async () => {
    await page.click(`${itemSel} [data-testid="library-play"]`);
    await waitFor(page, 'player visible', () => !document.querySelector('#player-section').hidden, null, Boolean, { timeout: 5000 });
    const first = await waitFor(page, 'first frame', videoState, null,
      (s) => s.error || (s.readyState >= 2 && s.videoWidth > 0 && s.currentTime > 0), { timeout: 30000 });
    if (first.error) throw new CheckError(`player error: ${first.error}`);
    // The play button pauses and plays again.
    await page.click('#play-button');
    await waitFor(page, 'paused by the play button', videoState, null, (s) => s.paused && s.playLabel === 'Play', { timeout: 5000 });
    await page.click('#play-button');
    await waitFor(page, 'playing again', videoState, null, (s) => !s.paused && s.playLabel === 'Pause', { timeout: 5000 });
    await setRate();
    const target = seam != null ? seam + 1.5 : Math.min(duration / 2, 20);
    const s = await waitFor(page, `playback past ${round(target, 2)} s`, videoState, null,
      (x) => x.error || x.currentTime >= target || x.ended, { timeout: Math.max(30000, (target / opts.rate) * 1000 * 3 + 15000) });
    if (s.error) throw new CheckError(`player error: ${s.error}`);
    if (s.currentTime < target) throw new CheckError(`stopped at ${s.currentTime} s (ended: ${s.ended})`);
    result.playback = {
      engine: s.engine, seam, target: round(target), reached: round(s.currentTime),
      videoSize: `${s.videoWidth}x${s.videoHeight}`, frames: s.frames, dropped: s.dropped, level: s.level,
    };
    return result.playback;
  });
  if (!played) throw new CheckError('playback failed');
  await checkFit({ page, opts, result, step });
  await a11yPlayer({ page, opts, result, step });

  // ---------------------------------------------------------------- scrub
  const hoverBar = async (frac) => {
    const box = await page.locator('#seek-bar .seek-track').boundingBox();
    const x = box.x + box.width * frac;
    const y = box.y + box.height / 2;
    await page.mouse.move(x - 30, y - 40); // into the player first (shows the controls)
    await page.mouse.move(x, y, { steps: 4 });
    return { x, y };
  };
  const previewState = () => {
    const el = document.querySelector('#seek-preview');
    const img = document.querySelector('#seek-preview-img');
    const r = img.getBoundingClientRect();
    return {
      visible: !el.hidden && el.getBoundingClientRect().width > 0,
      time: Number(el.dataset.time),
      sprite: el.dataset.sprite ?? '',
      loaded: el.dataset.loaded === 'true',
      xywh: el.dataset.xywh ?? '',
      img: { w: Math.round(r.width), h: Math.round(r.height), bg: getComputedStyle(img).backgroundImage.slice(0, 200) },
      label: document.querySelector('#seek-preview-time').textContent,
    };
  };
  await step('scrub with the seek bar (preview thumbnail, click, arrow keys)', async () => {
    const frac = 0.7;
    const target = duration * frac;
    const { x, y } = await hoverBar(frac);
    const pv = await waitFor(page, 'preview thumbnail while hovering', previewState, null,
      (p) => p.visible && p.loaded && p.sprite.includes('sprite_') && p.img.w > 0 && p.img.bg.includes('sprite_'), { timeout: 8000 });
    if (Math.abs(pv.time - target) > 1.5) throw new CheckError(`preview is for ${pv.time} s, hovering at ${round(target)} s`);
    const [, , cw, ch] = pv.xywh.split(',').map(Number);
    if (!(cw > 0 && ch > 0) || pv.img.w < cw || pv.img.h < ch) throw new CheckError(`preview tile ${pv.xywh} drawn at ${pv.img.w}x${pv.img.h}`);
    // Click there: the video seeks and keeps playing.
    await page.mouse.down();
    await page.mouse.move(x, y);
    await page.mouse.up();
    const afterClick = await waitFor(page, `seek to ${round(target, 1)} s`, videoState, null,
      (s) => !s.seeking && Math.abs(s.currentTime - target) < 3 && s.currentTime > target - 0.5, { timeout: 15000 });
    const resumed = await waitFor(page, 'playing after the seek', videoState, null,
      (s) => s.currentTime > target + 0.5 || s.ended, { timeout: 20000 });
    // Arrow keys on the focused seek bar (focus moved there with the click).
    const focused = await page.evaluate(() => document.activeElement?.id);
    await page.focus('#seek-bar');
    const before = (await page.evaluate(videoState)).currentTime;
    await page.keyboard.press('ArrowLeft');
    const afterKey = await waitFor(page, 'ArrowLeft seeks back 5 s', videoState, null,
      (s) => !s.seeking && s.currentTime < before - 3 && s.currentTime > before - 8, { timeout: 10000 });
    const aria = await page.evaluate(() => ({
      now: Number(document.querySelector('#seek-bar').getAttribute('aria-valuenow')),
      text: document.querySelector('#seek-bar').getAttribute('aria-valuetext'),
    }));
    result.scrub = {
      hoverAt: round(target, 2), preview: { time: pv.time, label: pv.label, sprite: pv.sprite.replace(opts.base, ''), xywh: pv.xywh, drawn: `${pv.img.w}x${pv.img.h}` },
      clickSeekedTo: round(afterClick.currentTime, 2), resumedTo: round(resumed.currentTime, 2), focusAfterClick: focused,
      arrowLeft: { from: round(before, 2), to: round(afterKey.currentTime, 2) }, aria,
    };
    return result.scrub;
  });

  // ---------------------------------------------------------------- quality
  const switchQuality = async (pick) => {
    const opts2 = await page.evaluate(() => [...document.querySelector('#quality-menu').options]
      .map((o) => ({ value: o.value, label: o.textContent, height: Number(o.dataset.height) || null })));
    const rungs = opts2.filter((o) => o.height);
    if (rungs.length < 2) throw new CheckError(`quality menu has ${rungs.length} rung(s): ${JSON.stringify(opts2)}`);
    const before = await page.evaluate(videoState);
    const choice = pick(rungs, before);
    const q0 = Date.now();
    await page.selectOption('#quality-menu', choice.value);
    await setRate();
    const after = await waitFor(page, `switch to ${choice.label}`, videoState, null,
      (s) => s.error || (s.videoHeight === choice.height && s.levelHeight === choice.height && !s.paused && s.readyState >= 3),
      { timeout: 30000 });
    if (after.error) throw new CheckError(`player error: ${after.error}`);
    const t1 = after.currentTime;
    const moving = await waitFor(page, 'playing after the switch', videoState, null, (s) => s.currentTime > t1 + 0.3 || s.ended, { timeout: 15000 });
    return {
      menu: opts2.map((o) => o.label), from: { videoHeight: before.videoHeight, level: before.level },
      picked: choice.label, to: { videoHeight: after.videoHeight, level: after.level, menuValue: after.quality },
      switchS: round((Date.now() - q0) / 1000, 2), playingAt: round(moving.currentTime, 2), engine: after.engine,
    };
  };
  await step('switch quality in the menu (hls.js)', async () => {
    result.quality = await switchQuality((rungs) => rungs.reduce((a, b) => (b.height < a.height ? b : a)));
    if (result.quality.engine !== 'hls.js') throw new CheckError(`engine is ${result.quality.engine}, expected hls.js`);
    return result.quality;
  });

  // ---------------------------------------------------------------- subtitles
  // They arrive after the video is playable: the open player notices, then, opened
  // again, hls.js reads them from the master playlist's SUBTITLES group.
  const overlayText = () => {
    const box = document.querySelector('#subtitle-overlay');
    const p = document.querySelector('#player');
    return {
      text: box.hidden ? '' : box.textContent.replace(/\s+/g, ' ').trim(),
      transcription: p.dataset.transcription ?? '',
      tracks: Number(p.dataset.subtitleTracks ?? 0),
      source: p.dataset.subtitleSource ?? '',
      files: p.dataset.subtitleFiles ?? '',
      playerTracks: p.dataset.playerSubtitles ?? '',
      textTracks: [...document.querySelector('#video').textTracks].map((t) => `${t.kind}:${t.label}:${t.mode}`),
      engine: p.dataset.engine ?? '',
      menu: [...document.querySelector('#subtitles-menu').options].map((o) => o.textContent),
      currentTime: document.querySelector('#video').currentTime,
    };
  };
  let cue = null;
  const showCue = async (label, source) => {
    await page.evaluate(() => document.querySelector('#video').pause());
    const menu = await waitFor(page, `${label}: subtitle track in the menu`, overlayText, null,
      (o) => o.tracks > 0 && o.source === source, { timeout: 20000 });
    if (menu.menu.length !== 2) throw new CheckError(`subtitles menu ${JSON.stringify(menu.menu)}, expected off + one track`);
    await page.selectOption('#subtitles-menu', '0');
    await page.evaluate((t) => { document.querySelector('#video').currentTime = t; }, cue.mid);
    const shown = await waitFor(page, `${label}: cue text at ${round(cue.mid, 2)} s`, overlayText, null,
      (o) => o.text === cue.text, { timeout: 20000 });
    await page.selectOption('#subtitles-menu', 'off');
    await page.evaluate(() => document.querySelector('#video').play());
    await setRate();
    return { engine: shown.engine, source: shown.source, menu: menu.menu, at: round(shown.currentTime, 2), text: shown.text };
  };
  if (opts.subtitles) {
    await step('subtitles arrive after playback began', async () => {
      const t = await waitFor(page, 'transcription settles', overlayText, null,
        (o) => o.transcription === 'completed' || o.transcription === 'failed', { timeout: opts.timeout * 1000 });
      if (t.transcription !== 'completed') throw new CheckError(`transcription ${t.transcription}`);
      const status = await (await fetch(`${opts.base}/status/${result.videoId}`, { headers: authHeaders(opts) })).json();
      const sub = status.subtitles?.[0];
      if (!sub) throw new CheckError(`no subtitle track in ${JSON.stringify(status).slice(0, 300)}`);
      const vtt = await (await fetch(streamHref(opts, status, sub.vtt))).text();
      const cues = [...vtt.matchAll(/(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})[^\n]*\n([\s\S]*?)(?:\n\n|\n?$)/g)]
        .map((m) => {
          const sec = (h, mi, se, ms) => Number(h) * 3600 + Number(mi) * 60 + Number(se) + Number(ms) / 1000;
          const start = sec(m[1], m[2], m[3], m[4]);
          const end = sec(m[5], m[6], m[7], m[8]);
          return { start, end, mid: (start + end) / 2, text: m[9].replace(/\s+/g, ' ').trim() };
        });
      // A cue past the first segments, long enough to catch, not overlapping its neighbours.
      cue = cues.find((c, i) => c.start > 8 && c.end - c.start >= 1 && c.text && (!cues[i + 1] || cues[i + 1].start >= c.end)) ?? cues.find((c) => c.end - c.start >= 1);
      if (!cue) throw new CheckError(`no usable cue in ${vtt.slice(0, 300)}`);
      result.subtitles = { lang: sub.lang, cues: cues.length, cue: { start: cue.start, end: cue.end, text: cue.text } };
      return { ...result.subtitles };
    });
    await step('subtitle cue shown by hls.js from the master playlist', async () => {
      await page.click(`${itemSel} [data-testid="library-play"]`);
      await waitFor(page, 'hls.js again', videoState, null, (s) => s.engine === 'hls.js' && s.readyState >= 1, { timeout: 30000 });
      const r = await showCue('hls.js', 'player');
      if (r.engine !== 'hls.js' || r.source !== 'player') throw new CheckError(`shown by ${r.engine} from ${r.source}, expected hls.js from the playlist`);
      result.subtitles.hls = r;
      return r;
    });
  }

  // ---------------------------------------------------------------- DASH
  if (opts.dash && manifest.assets?.dash_mpd) {
    await step('switch to DASH and change quality (Shaka Player)', async () => {
      const t = (await page.evaluate(videoState)).currentTime;
      const engineBefore = await page.textContent('#engine-label');
      await openAdvanced(page);
      await page.click('label[for="protocol-dash"]');
      const s = await waitFor(page, 'DASH playing', videoState, null,
        (x) => x.error || (x.engine === 'Shaka Player' && x.readyState >= 2 && !x.paused && x.videoWidth > 0), { timeout: 30000 });
      if (s.error) throw new CheckError(`player error: ${s.error}`);
      if (Math.abs(s.currentTime - t) > 5) throw new CheckError(`DASH started at ${s.currentTime} s, HLS was at ${t} s`);
      // The rung picked with hls.js is kept.
      const keptHeight = result.quality?.to?.videoHeight;
      const kept = await waitFor(page, `DASH keeps the ${keptHeight}p picked with HLS`, videoState, null,
        (x) => x.error || (x.videoHeight === keptHeight && x.levelHeight === keptHeight && x.quality !== '-1'), { timeout: 20000 });
      if (kept.error) throw new CheckError(`player error: ${kept.error}`);
      const engineAfter = await page.textContent('#engine-label');
      await page.keyboard.press('Escape');
      await setRate();
      const q = await switchQuality((rungs, now) => rungs.find((r) => r.height !== now.videoHeight && r.height !== now.levelHeight) ?? rungs[0]);
      result.dash = { startedAt: round(s.currentTime, 2), hlsWasAt: round(t, 2), keptHeight: kept.videoHeight, engineLabels: [engineBefore, engineAfter], ...q };
      return result.dash;
    });
    if (opts.subtitles && cue) {
      await step('subtitle cue shown with DASH (Shaka Player)', async () => {
        const r = await showCue('DASH', 'file');
        if (r.engine !== 'Shaka Player') throw new CheckError(`shown by ${r.engine}, expected Shaka Player`);
        result.subtitles.dash = r;
        return r;
      });
    }
  }

  await step('screenshot of the player', async () => {
    if (!opts.screenshot) return { skipped: true };
    await page.evaluate(() => document.querySelector('#player-section').scrollIntoView({ block: 'start' }));
    await hoverBar(0.42);
    await waitFor(page, 'preview shown for the screenshot', previewState, null, (p) => p.visible && p.loaded, { timeout: 5000 });
    await page.screenshot({ path: opts.screenshot });
    result.screenshots.player = opts.screenshot;
    await page.mouse.move(5, 5);
    return { path: opts.screenshot };
  });
}

/** axe on the open player (paused, with its Advanced menu, Download and Share panels open), then playing on. */
async function a11yPlayer(t) {
  const { page } = t;
  const wasPlaying = await page.evaluate(() => { const v = document.querySelector('#video'); const p = !v.paused; v.pause(); return p; });
  try {
    await a11yStep(t, 'the open player', async () => {
      // The panels first: a press outside the Advanced menu closes it.
      if (await page.isVisible('#download-button') && await page.isHidden('#download-panel')) await page.click('#download-button');
      if (await page.isHidden('#share-panel')) await page.click('#share-button');
      await page.evaluate(() => document.querySelector('#player-section').scrollIntoView({ block: 'start' }));
      await openAdvanced(page);
    });
  } finally {
    if (!(await page.isHidden('#advanced-panel'))) await page.click('#player-advanced');
    if (!(await page.isHidden('#share-panel'))) await page.click('#share-button');
    if (!(await page.isHidden('#download-panel'))) await page.click('#download-button');
    if (wasPlaying) await page.evaluate(() => document.querySelector('#video').play());
  }
}
