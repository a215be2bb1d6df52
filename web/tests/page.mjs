#!/usr/bin/env node
// End-to-end test of the slicecast web page in headless Chromium (playwright-core).
//
//   node web/tests/page.mjs --base http://127.0.0.1:PORT --file CLIP.mp4 --screenshot player.png
//        [--api-key KEY] [--library-screenshot library.png] [--out result.json]
//        [--rate 4] [--timeout 300] [--chromium /usr/bin/chromium] [--no-dash] [--keep] [--check-resume]
//        [--subtitles]
//
// Against a running `slicecast serve` (fresh data folder): uploads CLIP through the page's
// file input and sees the upload progress reach 100 %; follows the processing view until
// the video is processed (recording the stages and slice counts it showed); opens the video
// from the library and plays it past the first slice seam (manifest `slice_starts_s[1]`);
// hovers the seek bar and checks the sprite preview thumbnail, then seeks by clicking the bar
// and with the arrow keys; picks the lowest rung in the quality menu and checks that the
// decoder actually switched (video.videoHeight and the player's own level); switches to DASH
// (Shaka Player) and picks another rung there; with --subtitles, waits for the subtitles that
// arrive after the video is playable and checks that a cue's text shows at its time, from the
// master playlist's SUBTITLES group in hls.js and with DASH in Shaka Player; takes a screenshot of the player; deletes the
// video through the confirmation dialog and sees it leave the library (and the server).
// With --check-resume (needs a server whose --part-size cuts CLIP into 3+ parts), the upload is
// first interrupted by a page reload after two parts, and the test checks that picking the
// same file again sends exactly the parts the server lacks.
// Throughout it fails on any console error, page error, HTTP error response or request to
// another origin. With --keep the video is not deleted.
//
// Prints one JSON summary line. Exit 0 when everything passed, 1 when a check failed,
// 2 on a usage or setup error.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

function usage(msg) {
  if (msg) console.error(`page.mjs: ${msg}`);
  console.error('usage: node web/tests/page.mjs --base http://127.0.0.1:PORT --file CLIP --screenshot OUT.png ' +
    '[--api-key KEY] [--library-screenshot PATH] [--out result.json] [--rate 4] [--timeout 300] ' +
    '[--chromium /usr/bin/chromium] [--no-dash] [--keep] [--check-resume] [--subtitles]');
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        base: { type: 'string' },
        file: { type: 'string' },
        screenshot: { type: 'string' },
        'library-screenshot': { type: 'string' },
        'api-key': { type: 'string' },
        out: { type: 'string' },
        rate: { type: 'string', default: '4' },
        timeout: { type: 'string', default: '300' },
        chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
        'no-dash': { type: 'boolean' },
        subtitles: { type: 'boolean' },
        keep: { type: 'boolean' },
        'check-resume': { type: 'boolean' },
        headed: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage();
  if (!values.base) usage('--base is required');
  if (!values.file) usage('--file is required');
  if (!existsSync(values.file) || !statSync(values.file).isFile()) usage(`no such file: ${values.file}`);
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`--${name}: not a positive number: ${v}`);
    return n;
  };
  let base;
  try {
    base = new URL(values.base).origin;
  } catch {
    usage(`--base: not a URL: ${values.base}`);
  }
  return {
    base,
    file: path.resolve(values.file),
    screenshot: values.screenshot ? path.resolve(values.screenshot) : null,
    libraryScreenshot: values['library-screenshot'] ? path.resolve(values['library-screenshot']) : null,
    apiKey: values['api-key'] ?? null,
    out: values.out,
    rate: num('rate', values.rate),
    timeoutMs: num('timeout', values.timeout) * 1000,
    chromium: values.chromium,
    dash: !values['no-dash'],
    subtitles: Boolean(values.subtitles),
    keep: values.keep ?? false,
    checkResume: values['check-resume'] ?? false,
    headed: values.headed ?? false,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 3) => (typeof x === 'number' ? Math.round(x * 10 ** d) / 10 ** d : x);

class CheckError extends Error {}

/** Polls `fn(arg)` in the page until `ok(value)`; returns the value or throws with the last one. */
async function waitFor(page, what, fn, arg, ok, { timeout = 30000, interval = 150 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await page.evaluate(fn, arg);
    if (ok(last)) return last;
    if (Date.now() > end) {
      throw new CheckError(`${what}: not reached in ${timeout / 1000} s (last: ${JSON.stringify(last)?.slice(0, 400)})`);
    }
    await sleep(interval);
  }
}

// Snapshot of the <video> element and the player's own view of itself.
function videoState() {
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

async function main() {
  const opts = options();
  const t0 = Date.now();
  const failures = [];
  const steps = [];
  const result = {
    pass: false,
    base: opts.base,
    file: opts.file,
    chromium: null,
    videoId: null,
    upload: null,
    resume: null,
    processing: null,
    manifest: null,
    playback: null,
    scrub: null,
    quality: null,
    dash: null,
    delete: null,
    screenshots: {},
    errors: null,
    steps,
    failures,
  };

  // Preflight: the server answers.
  try {
    const r = await fetch(`${opts.base}/healthz`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
  } catch (err) {
    console.error(`page.mjs: ${opts.base}/healthz: ${err.message} (is slicecast serve running?)`);
    process.exit(2);
  }

  const profile = mkdtempSync(path.join(tmpdir(), 'slicecast-web-test-'));
  const consoleErrors = [];
  const pageErrors = [];
  const httpErrors = [];
  const external = [];
  const parts = { started: 0, inFlight: 0, maxInFlight: 0 };
  let context;
  let page;

  const step = async (name, fn) => {
    const s = Date.now();
    try {
      const info = await fn();
      steps.push({ step: name, ok: true, s: round((Date.now() - s) / 1000, 2), ...(info ? { info } : {}) });
      return true;
    } catch (err) {
      const msg = err instanceof CheckError ? err.message : `${err.message.split('\n')[0]}`;
      steps.push({ step: name, ok: false, s: round((Date.now() - s) / 1000, 2), error: msg });
      failures.push(`${name}: ${msg}`);
      return false;
    }
  };

  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium,
      headless: !opts.headed,
      viewport: { width: 1280, height: 800 },
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ].filter((a) => !(opts.headed && a === '--headless')),
      timeout: 30000,
    });
    page = context.pages()[0] ?? await context.newPage();
    const cdp = await context.newCDPSession(page);
    result.chromium = (await cdp.send('Browser.getVersion')).product;
    await cdp.detach();

    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const loc = msg.location();
      consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`.slice(0, 500));
    });
    page.on('pageerror', (err) => pageErrors.push(String(err.message).slice(0, 500)));
    page.on('request', (req) => {
      const u = req.url();
      if (!u.startsWith(opts.base) && !/^(data|blob):/.test(u)) external.push(u.slice(0, 300));
    });
    page.on('request', (req) => {
      if (req.method() === 'PUT' && req.url().includes('/uploads/parts/')) {
        parts.started++;
        parts.inFlight++;
        parts.maxInFlight = Math.max(parts.maxInFlight, parts.inFlight);
      }
    });
    const partDone = (req) => {
      if (req.method() === 'PUT' && req.url().includes('/uploads/parts/')) parts.inFlight--;
    };
    // A part's response (not 'requestfinished', which can arrive after the next part started).
    page.on('response', (resp) => partDone(resp.request()));
    page.on('requestfailed', partDone);
    page.on('response', (resp) => {
      if (resp.status() >= 400) httpErrors.push(`${resp.status()} ${resp.request().method()} ${resp.url().replace(opts.base, '')}`);
    });

    const ok = await step('load page', async () => {
      await page.goto(`${opts.base}/`, { waitUntil: 'load', timeout: 30000 });
      await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
      const title = await page.title();
      if (title !== 'slicecast') throw new CheckError(`page title is ${JSON.stringify(title)}: is web/index.html served at /?`);
      return { title };
    });
    if (!ok) throw new CheckError('the page did not load');

    if (opts.apiKey) {
      await step('set API key in settings', async () => {
        await page.click('#settings-button');
        await page.waitForSelector('#settings-dialog[open]');
        await page.fill('#api-key-input', opts.apiKey);
        await page.click('#api-key-save');
        await page.waitForSelector('#settings-dialog', { state: 'hidden' });
        await waitFor(page, 'the key stored in localStorage', () => localStorage.getItem('slicecast.apiKey'), null,
          (k) => k === opts.apiKey, { timeout: 3000 });
        if (!(await page.isVisible('#api-key-badge'))) throw new CheckError('no "API key set" badge');
      });
    }

    // ---------------------------------------------------------------- upload
    if (opts.checkResume) {
      const resumed = await step('interrupt the upload, reload, resume with only the missing parts', async () => {
        const partNo = (u) => Number(/\/uploads\/parts\/[^/]+\/(\d+)/.exec(u)?.[1]);
        // Parts 1 and 2 go through; later ones are held until the page reloads (which cancels them).
        await page.route('**/uploads/parts/**', (route) => {
          if (partNo(route.request().url()) <= 2) route.continue().catch(() => {});
        });
        await page.setInputFiles('#file-input', opts.file);
        const st = await waitFor(page, 'two parts sent', () => ({
          status: document.querySelector('#upload-status').textContent,
          done: document.querySelector('#upload-panel').classList.contains('done'),
        }), null, (x) => x.done || /^2 of \d+ parts sent/.test(x.status), { timeout: 30000 });
        if (st.done) throw new CheckError('the file fits in fewer than 3 parts: start serve with a smaller --part-size (e.g. 1048576)');
        const rec = await page.evaluate(() => JSON.parse(localStorage.getItem('slicecast.uploads.v1') ?? '[]')[0]);
        if (!rec?.uploadId) throw new CheckError('the page did not remember the upload in localStorage');
        await page.reload({ waitUntil: 'load' });
        await page.unroute('**/uploads/parts/**');
        await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
        const banner = (await page.textContent('#resume-list')).trim();
        if (!banner.includes(rec.fileName)) throw new CheckError(`no resume notice for ${rec.fileName} after the reload (shows: ${JSON.stringify(banner)})`);
        const server = await (await fetch(`${opts.base}/multipart_upload/${rec.uploadId}`)).json();
        const had = (server.parts ?? []).map((p) => p.PartNumber);
        const total = rec.urls.length;
        const expected = [];
        for (let n = 1; n <= total; n++) if (!had.includes(n)) expected.push(n);
        const sent = [];
        const onReq = (req) => { if (req.method() === 'PUT' && req.url().includes('/uploads/parts/')) sent.push(partNo(req.url())); };
        page.on('request', onReq);
        await page.setInputFiles('#file-input', opts.file);
        await waitFor(page, 'resumed upload finished', () => document.querySelector('#upload-panel').className, null,
          (c) => /\b(done|error)\b/.test(c), { timeout: 60000 });
        page.off('request', onReq);
        sent.sort((a, b) => a - b);
        if (JSON.stringify(sent) !== JSON.stringify(expected)) {
          throw new CheckError(`after the reload the page sent parts ${sent} but the server lacked ${expected}`);
        }
        result.resume = { parts: total, serverHad: had, sentAfterReload: sent, notice: banner.slice(0, 160) };
        return result.resume;
      });
      if (!resumed) throw new CheckError('resume failed');
    }

    const uploaded = await step(opts.checkResume ? 'upload progress reached 100 % (resumed)' : 'upload through the file input', async () => {
      const size = statSync(opts.file).size;
      const u0 = Date.now();
      if (!opts.checkResume) await page.setInputFiles('#file-input', opts.file);
      const seen = new Set();
      const state = () => ({
        percent: document.querySelector('#upload-percent').textContent.trim(),
        valuenow: Number(document.querySelector('#upload-progress').getAttribute('aria-valuenow')),
        panelHidden: document.querySelector('#upload-panel').hidden,
        done: document.querySelector('#upload-panel').classList.contains('done'),
        error: document.querySelector('#upload-panel').classList.contains('error'),
        status: document.querySelector('#upload-status').textContent,
        bytes: document.querySelector('#upload-bytes').textContent,
      });
      let last;
      const end = Date.now() + Math.max(60000, size / 1e5);
      for (;;) {
        last = await page.evaluate(state);
        seen.add(last.percent);
        if (last.error) throw new CheckError(`upload failed: ${last.status}`);
        if (last.done) break;
        if (Date.now() > end) throw new CheckError(`upload did not finish (last: ${JSON.stringify(last)})`);
        await sleep(50);
      }
      if (last.percent !== '100 %' || last.valuenow !== 100) {
        throw new CheckError(`upload finished but the progress shows ${last.percent} (aria-valuenow ${last.valuenow})`);
      }
      result.upload = {
        bytes: size, s: round((Date.now() - u0) / 1000, 2), percentsSeen: [...seen],
        finalPercent: last.percent, status: last.status, bytesText: last.bytes,
        partRequests: parts.started, maxPartsInFlight: parts.maxInFlight,
      };
      return result.upload;
    });
    if (!uploaded) throw new CheckError('upload failed');

    // ---------------------------------------------------------------- processing
    const processed = await step('processing view until complete', async () => {
      const p0 = Date.now();
      const job = await page.waitForSelector('[data-testid="processing-job"][data-video-id]', { timeout: 20000 });
      result.videoId = await job.getAttribute('data-video-id');
      const sel = `[data-testid="processing-job"][data-video-id="${result.videoId}"]`;
      const observed = [];
      let last = null;
      const end = Date.now() + opts.timeoutMs;
      for (;;) {
        const s = await page.evaluate((q) => {
          const el = document.querySelector(q);
          if (!el) return null;
          return {
            status: el.dataset.status,
            stage: el.dataset.stage,
            stageText: el.querySelector('[data-testid="processing-stage"]').textContent,
            statusText: el.querySelector('[data-testid="processing-status"]').textContent,
            slices: el.querySelector('[data-testid="processing-slices"]').textContent,
            percent: el.querySelector('[data-testid="processing-percent"]').textContent,
            error: el.querySelector('[data-testid="processing-error"]').hidden ? null : el.querySelector('[data-testid="processing-error"]').textContent,
          };
        }, sel);
        if (!s) throw new CheckError('the processing entry disappeared');
        const key = `${s.status}|${s.stageText}|${s.slices}|${s.percent}`;
        if (key !== last) {
          observed.push({ t: round((Date.now() - p0) / 1000, 1), ...s, error: undefined });
          last = key;
        }
        if (s.status === 'processing_failed') throw new CheckError(`processing failed; the page shows: ${s.error}`);
        if (s.status === 'processing_complete') break;
        if (Date.now() > end) throw new CheckError(`not processed within ${opts.timeoutMs / 1000} s (last: ${key})`);
        await sleep(200);
      }
      result.processing = {
        s: round((Date.now() - p0) / 1000, 1),
        updatesSeen: observed.length,
        stagesSeen: [...new Set(observed.map((o) => o.stage))],
        observed: observed.slice(0, 40),
      };
      return { videoId: result.videoId, s: result.processing.s, stagesSeen: result.processing.stagesSeen, updatesSeen: observed.length };
    });
    if (!processed) throw new CheckError('processing did not complete');

    // The manifest, for the seam and rungs.
    const manifest = await (await fetch(`${opts.base}/status/${result.videoId}`)).json();
    const seam = manifest.slice_starts_s?.[1] ?? null;
    result.manifest = {
      status: manifest.status, duration_s: round(manifest.duration_s), slice_starts_s: manifest.slice_starts_s,
      rungs: (manifest.rungs ?? []).map((r) => `${r.name} ${r.width}x${r.height}`),
    };
    const duration = manifest.duration_s;

    // ---------------------------------------------------------------- library
    const itemSel = `[data-testid="library-item"][data-video-id="${result.videoId}"]`;
    const listed = await step('library lists the video', async () => {
      await page.waitForSelector(itemSel, { timeout: 15000 });
      const info = await page.evaluate((q) => {
        const el = document.querySelector(q);
        const img = el.querySelector('img');
        return {
          title: el.querySelector('[data-testid="library-title"]').textContent,
          age: el.querySelector('[data-testid="library-age"]').textContent,
          rungs: [...el.querySelectorAll('.rungs li')].map((li) => li.textContent),
          duration: el.querySelector('.duration-badge')?.textContent ?? null,
          poster: img ? { loaded: img.complete && img.naturalWidth > 0, w: img.naturalWidth } : null,
        };
      }, itemSel);
      await page.waitForFunction((q) => {
        const img = document.querySelector(q)?.querySelector('img');
        return img && img.complete && img.naturalWidth > 0;
      }, itemSel, { timeout: 10000 }).catch(() => {});
      if (!info.rungs.length) throw new CheckError('no rungs shown');
      if (!info.duration) throw new CheckError('no duration shown');
      if (opts.libraryScreenshot) {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: opts.libraryScreenshot, fullPage: true });
        result.screenshots.library = opts.libraryScreenshot;
      }
      return info;
    });
    if (!listed) throw new CheckError('the video is not in the library');

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
      const [cx, cy, cw, ch] = pv.xywh.split(',').map(Number);
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
        const status = await (await fetch(`${opts.base}/status/${result.videoId}`)).json();
        const sub = status.subtitles?.[0];
        if (!sub) throw new CheckError(`no subtitle track in ${JSON.stringify(status).slice(0, 300)}`);
        const vtt = await (await fetch(`${opts.base}/stream/${sub.vtt}`)).text();
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
        await page.click('label[for="protocol-dash"]');
        const s = await waitFor(page, 'DASH playing', videoState, null,
          (x) => x.error || (x.engine === 'Shaka Player' && x.readyState >= 2 && !x.paused && x.videoWidth > 0), { timeout: 30000 });
        if (s.error) throw new CheckError(`player error: ${s.error}`);
        if (Math.abs(s.currentTime - t) > 5) throw new CheckError(`DASH started at ${s.currentTime} s, HLS was at ${t} s`);
        await setRate();
        const q = await switchQuality((rungs, now) => rungs.find((r) => r.height !== now.videoHeight && r.height !== now.levelHeight) ?? rungs[0]);
        result.dash = { startedAt: round(s.currentTime, 2), hlsWasAt: round(t, 2), ...q };
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

    // ---------------------------------------------------------------- delete
    if (!opts.keep) {
      await step('delete through the confirmation dialog', async () => {
        await page.click(`${itemSel} [data-testid="delete-button"]`);
        await page.waitForSelector('#confirm-dialog[open]', { timeout: 5000 });
        const text = await page.textContent('#confirm-text');
        // Cancel first: nothing happens.
        await page.click('#confirm-cancel');
        await page.waitForSelector('#confirm-dialog', { state: 'hidden', timeout: 5000 });
        if (!(await page.$(itemSel))) throw new CheckError('Cancel deleted the video');
        await page.click(`${itemSel} [data-testid="delete-button"]`);
        await page.waitForSelector('#confirm-dialog[open]', { timeout: 5000 });
        await page.click('#confirm-ok');
        await page.waitForSelector(itemSel, { state: 'detached', timeout: 15000 });
        const playerHidden = await page.evaluate(() => document.querySelector('#player-section').hidden);
        if (!playerHidden) throw new CheckError('the player still shows the deleted video');
        const list = await (await fetch(`${opts.base}/api/videos`)).json();
        if (list.some((v) => v.video_id === result.videoId)) throw new CheckError('/api/videos still lists it');
        const st = await fetch(`${opts.base}/status/${result.videoId}`);
        if (st.status !== 404) throw new CheckError(`/status answers ${st.status} after the delete`);
        // A reload shows the same.
        await page.reload({ waitUntil: 'load' });
        await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
        if (await page.$(itemSel)) throw new CheckError('the video is back after a reload');
        result.delete = { confirmText: text, gone: true, statusAfter: st.status };
        return result.delete;
      });
    }
  } catch (err) {
    if (!(err instanceof CheckError)) failures.push(`exception: ${err.stack ?? err}`.slice(0, 800));
  } finally {
    await sleep(300); // late console messages
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }

  result.errors = { console: consoleErrors, page: pageErrors, http: httpErrors, external };
  if (consoleErrors.length) failures.push(`${consoleErrors.length} console error(s): ${consoleErrors[0]}`);
  if (pageErrors.length) failures.push(`${pageErrors.length} page error(s): ${pageErrors[0]}`);
  if (httpErrors.length) failures.push(`${httpErrors.length} HTTP error response(s): ${httpErrors[0]}`);
  if (external.length) failures.push(`${external.length} request(s) to other origins: ${external[0]}`);
  result.pass = failures.length === 0;
  result.elapsedS = round((Date.now() - t0) / 1000, 1);
  if (opts.out) writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result));
  console.error(`web page test: ${result.pass ? 'PASS' : 'FAIL'} in ${result.elapsedS} s` +
    `${failures.length ? `\n  - ${failures.join('\n  - ')}` : ''}`);
  process.exit(result.pass ? 0 : 1);
}

main().catch((err) => {
  console.error(`page.mjs: ${err.stack ?? err}`);
  process.exit(2);
});
