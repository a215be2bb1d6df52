#!/usr/bin/env node
// Plays HLS/DASH output in headless Chromium with hls.js, Shaka Player and dash.js.
//
//   node play.mjs --dir OUTPUT_DIR [--hls hls/master.m3u8] [--dash dash/stream.mpd]
//                 [--seams 10.5,21.0] [--seek SECONDS] [--out result.json] [--screenshot shot.png]
//                 [--rate 4] [--timeout 60] [--max-play 120] [--chromium /usr/bin/chromium]
//                 [--cue SECONDS:TEXT ...] [--codec av01] [--origin URL]
//   node play.mjs --dir OUTPUT_DIR --growing --until SECONDS [--hls ...]
//   node play.mjs --dir OUTPUT_DIR --serve     (only serve OUTPUT_DIR and the players; prints the URL)
//
// Cases (each on a fresh page): hls.js+HLS, shaka+HLS, shaka+DASH, dash.js+DASH (DASH ones
// only with --dash). Each case plays from the start until currentTime passes the last seam
// + 2 s (or the end, at most --max-play s of media), then seeks to --seek (default: the middle)
// and checks that playback resumes past seek + 1 s. With --cue, the first subtitle track is
// turned on through the player's own API once loaded, and at the end playback pauses at each
// cue's time and exactly one active cue must show its text. With --growing, OUTPUT_DIR holds
// playlists published while the video still encoded (EVENT, no ENDLIST: players treat them as
// live): only the HLS cases run, each from the start to --until s, without a seek. Prints one
// JSON line per case, then a summary line; writes the summary to --out. Exit 0 only if every
// case passed, 1 if one failed, 2 on a usage or setup error.
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, collectErrors, collectHttpErrors, getBrowserVersion, launchChromium, MIME, round, sleep,
  startStaticServer, under,
} from '../harness/chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODULES = path.join(HERE, 'node_modules');

// Player libraries: script path inside node_modules and where the page loads it from.
const LIBS = {
  'hls.js': { pkg: 'hls.js', file: 'dist/hls.min.js' },
  shaka: { pkg: 'shaka-player', file: 'dist/shaka-player.compiled.js' },
  dashjs: { pkg: 'dashjs', file: 'dist/modern/umd/dash.all.min.js' },
};

function usage(msg) {
  if (msg) console.error(`play.mjs: ${msg}`);
  console.error('usage: node play.mjs --dir OUTPUT_DIR [--hls hls/master.m3u8] [--dash dash/stream.mpd] ' +
    '[--seams 10.5,21.0] [--seek S] [--out result.json] [--screenshot shot.png] [--rate 4] [--timeout 60] ' +
    '[--max-play 120] [--chromium /usr/bin/chromium] [--growing --until S] [--serve]');
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        hls: { type: 'string' },
        dash: { type: 'string' },
        seams: { type: 'string' },
        seek: { type: 'string' },
        out: { type: 'string' },
        screenshot: { type: 'string' },
        rate: { type: 'string', default: '4' },
        timeout: { type: 'string', default: '60' },
        'max-play': { type: 'string', default: '120' },
        chromium: { type: 'string', default: CHROMIUM },
        serve: { type: 'boolean' },
        growing: { type: 'boolean' },
        until: { type: 'string' },
        cue: { type: 'string', multiple: true },
        codec: { type: 'string' },
        origin: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage();
  if (!values.dir) usage('--dir is required');
  if (values.growing && values.until == null) usage('--growing needs --until SECONDS');
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) usage(`--${name}: not a number: ${v}`);
    return n;
  };
  const seams = (values.seams ?? '').split(',').filter((s) => s.trim() !== '').map((s) => num('seams', s));
  const rel = (p) => p.replace(/^\/+/, '');
  return {
    dir: path.resolve(values.dir),
    hls: rel(values.hls ?? 'hls/master.m3u8'),
    dash: values.dash ? rel(values.dash) : null,
    seams,
    seek: values.seek != null ? num('seek', values.seek) : null,
    out: values.out,
    screenshot: values.screenshot,
    rate: num('rate', values.rate) || 1,
    timeoutMs: num('timeout', values.timeout) * 1000,
    maxPlay: num('max-play', values['max-play']),
    chromium: values.chromium,
    serve: values.serve ?? false,
    growing: values.growing ?? false,
    until: values.until != null ? num('until', values.until) : null,
    // --origin URL: the manifests are fetched from URL/<manifest> (a slicecast server, e.g. a
    // signed /stream/t/<token>/processed/<id> path; it must answer CORS) instead of from --dir,
    // which then only needs to exist.
    origin: values.origin && /^https?:\/\/[^\s]+$/.test(values.origin) ? values.origin.replace(/\/+$/, '') : (values.origin ? usage('--origin: an http(s) URL') : null),
    // --codec PREFIX (e.g. av01): every player is steered to the renditions of that codec,
    // and a case passes only if what played was one of them.
    codec: values.codec && /^[a-z0-9.]{2,12}$/.test(values.codec) ? values.codec : (values.codec ? usage('--codec: a codec prefix like av01') : null),
    // --cue SECONDS:TEXT (repeatable): with the first subtitle track on, at SECONDS exactly one
    // active cue reads TEXT.
    cues: (values.cue ?? []).map((c) => {
      const i = c.indexOf(':');
      if (i < 1) usage(`--cue: expected SECONDS:TEXT, got ${c}`);
      return { at: num('cue', c.slice(0, i)), text: c.slice(i + 1) };
    }),
  };
}

// ---------------------------------------------------------------- static server
// /                    -> OUTPUT_DIR
// /__players/lib/NAME  -> the player library NAME (see LIBS)
// /__players/page.js   -> the in-page harness
// /__players/NAME.html -> a page with <video> and the library NAME
function pageHtml(lib) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${lib}</title>
<link rel="icon" href="data:,">
<style>html,body{margin:0;background:#000}video{display:block;width:640px;height:360px}</style>
</head><body><video id="v" muted playsinline></video>
<script src="/__players/lib/${lib}"></script>
<script src="/__players/page.js"></script></body></html>`;
}

function startServer(dir) {
  return startStaticServer((urlPath) => {
    const lib = /^\/__players\/lib\/([\w.]+)$/.exec(urlPath);
    const page = /^\/__players\/([\w.]+)\.html$/.exec(urlPath);
    if (lib && LIBS[lib[1]]) return path.join(MODULES, LIBS[lib[1]].pkg, LIBS[lib[1]].file);
    if (page && LIBS[page[1]]) return { body: pageHtml(page[1]), type: MIME['.html'] };
    if (urlPath === '/__players/page.js') return path.join(HERE, 'page.js');
    return under(dir, urlPath);
  });
}

// ---------------------------------------------------------------- one case
async function runCase(context, base, c, opts, screenshot) {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const page = await context.newPage();
  const consoleErrors = [];
  const httpErrors = [];
  let abortedRequests = 0;
  collectErrors(page, consoleErrors, consoleErrors, 'pageerror: ');
  collectHttpErrors(page, base, httpErrors);
  page.on('requestfailed', () => abortedRequests++);

  const res = {
    case: c.name, player: c.lib, version: c.version, manifest: c.manifest, pass: false, failures: [],
    duration: null, target: null, reached: null, seek: null,
    readyState: null, videoWidth: 0, videoHeight: 0, frames: null,
    errors: null, stalls: [], buffered: [], renditions: [], abortedRequests: 0, elapsedS: 0,
  };
  let st = null;
  const poll = async () => (st = await page.evaluate(() => window.__state()));
  const over = () => Date.now() > deadline || st?.fatal.length > 0 || st?.video.length > 0;
  const failed = (msg) => res.failures.push(msg);

  const body = async () => {
    await page.goto(`${base}/__players/${c.lib}.html`, { waitUntil: 'load', timeout: opts.timeoutMs });
    await page.evaluate(([lib, url, rate, codec]) => window.__start(lib, url, rate, codec),
      [c.lib, `${opts.origin ?? base}/${c.manifest}`, opts.rate, opts.codec ?? null]);

    // 1. Loaded: duration known and the first frame decoded.
    while (!over()) {
      await poll();
      if (st.duration && st.readyState >= 2 && st.videoWidth > 0) break;
      await sleep(100);
    }
    if (!st?.duration) return failed('did not load (no duration)');
    res.duration = round(st.duration);
    // Subtitles on from the start, as a viewer would (Shaka does not bring back cues from
    // before the point where a text track was turned on, when seeking backwards into HLS).
    if (opts.cues.length) {
      const on = await page.evaluate(() => window.__subtitles());
      if (!on.ok) return failed(`no subtitle track: ${on.detail}`);
    }

    // 2. Play from the start past the last seam + 2 s, or to the end (at most maxPlay s).
    const end = st.duration - 0.3;
    let target = opts.seams.length ? Math.max(...opts.seams) + 2 : Math.min(end, opts.maxPlay);
    if (opts.growing) target = opts.until;
    if (target > end) target = end;
    res.target = round(target);
    while (!over()) {
      await poll();
      if (st.currentTime >= target || st.ended) break;
      await sleep(200);
    }
    res.reached = st.currentTime;
    if (!(st.currentTime >= target || (st.ended && target >= end))) {
      return failed(`played to ${st.currentTime} s, target ${res.target} s`);
    }
    if (opts.growing) return; // nothing past what is ready to seek into

    // 3. Seek to the middle; it must resume playing past seek + 1 s.
    const to = round(opts.seek ?? st.duration / 2);
    const seekedBefore = st.seeked.length;
    res.seek = { to, seekedAt: null, resumedTo: null, ok: false };
    await page.evaluate((x) => window.__seek(x), to);
    while (!over()) {
      await poll();
      const seekedAt = st.seeked.length > seekedBefore ? st.seeked[st.seeked.length - 1] : null;
      res.seek.seekedAt = seekedAt;
      res.seek.resumedTo = st.currentTime;
      if (seekedAt != null && Math.abs(seekedAt - to) <= 1 && st.currentTime >= to + 1 && !st.paused) {
        res.seek.ok = true;
        break;
      }
      if (st.ended) break;
      await sleep(200);
    }
    if (!res.seek.ok) return failed(`seek to ${to} s: seeked at ${res.seek.seekedAt}, now at ${st.currentTime} s`);

    // 4. Subtitles: the player's first text track, one cue at each given time.
    if (opts.cues.length) {
      res.cues = [];
      for (const cue of opts.cues) {
        await page.evaluate((x) => window.__pauseAt(x), cue.at);
        let shown = [];
        const until = Date.now() + 15000;
        while (Date.now() < until && !over()) {
          shown = await page.evaluate(() => window.__activeCues());
          if (shown.some((t) => t === cue.text)) break;
          await sleep(150);
        }
        const count = shown.filter((t) => t === cue.text).length;
        res.cues.push({ at: cue.at, shown });
        if (count !== 1) {
          const tracks = await page.evaluate(() => window.__textTracks());
          return failed(`at ${cue.at} s the active cues are ${JSON.stringify(shown)}, expected ${JSON.stringify(cue.text)} once; text tracks: ${JSON.stringify(tracks)}`);
        }
      }
      // Playing again, with a decoded frame, as the final checks expect.
      await page.evaluate(() => window.__resume());
      const until = Date.now() + 15000;
      while (Date.now() < until && !over()) {
        await poll();
        if (st.readyState >= 2 && !st.paused) break;
        await sleep(150);
      }
    }

    if (screenshot.path && !screenshot.taken) {
      await page.locator('#v').screenshot({ path: screenshot.path });
      screenshot.taken = c.name;
    }
  };

  let timer;
  try {
    await Promise.race([
      body(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('deadline')), opts.timeoutMs + 5000);
      }),
    ]);
  } catch (err) {
    failed(`exception: ${err.message.split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
  }
  try {
    await Promise.race([poll(), sleep(2000)]);
  } catch { /* page is gone; keep the last state */ }
  if (Date.now() > deadline) failed(`deadline of ${opts.timeoutMs / 1000} s passed`);

  if (st) {
    res.readyState = st.readyState;
    res.videoWidth = st.videoWidth;
    res.videoHeight = st.videoHeight;
    res.frames = { total: st.totalVideoFrames, dropped: st.droppedVideoFrames };
    res.stalls = st.waiting;
    res.buffered = st.buffered;
    res.renditions = st.renditions;
    res.playingCodec = st.playingCodec;
    if (opts.codec && !String(st.playingCodec ?? '').startsWith(opts.codec)) {
      failed(`played ${st.playingCodec ?? 'no known codec'}, not ${opts.codec}`);
    }
    if (st.rateResets) res.rateResets = st.rateResets;
  }
  res.errors = {
    fatal: st?.fatal ?? [], nonFatal: st?.nonFatal ?? [], video: st?.video ?? [],
    console: consoleErrors, http: httpErrors,
  };
  res.abortedRequests = abortedRequests;
  if (res.errors.fatal.length) failed(`${res.errors.fatal.length} fatal player error(s)`);
  if (res.errors.video.length) failed(`${res.errors.video.length} video element error(s)`);
  if (consoleErrors.length) failed(`${consoleErrors.length} console error(s)`);
  if (httpErrors.length) failed(`${httpErrors.length} HTTP error response(s)`);
  if (!(res.videoWidth > 0)) failed('videoWidth is 0');
  if (!(res.frames?.total > 0)) failed('no video frames decoded');
  if (!(res.readyState >= 2)) failed(`readyState ${res.readyState}`);
  res.failures = [...new Set(res.failures)];
  res.pass = res.failures.length === 0;
  res.elapsedS = round((Date.now() - t0) / 1000);
  await page.close().catch(() => {});
  return res;
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = options();
  for (const m of opts.origin ? [] : [opts.hls, opts.dash].filter(Boolean)) {
    const f = under(opts.dir, m);
    if (!f) usage(`manifest outside --dir: ${m}`);
    await fs.access(f).catch(() => usage(`no such manifest: ${f}`));
  }
  const version = (pkg) => JSON.parse(readFileSync(path.join(MODULES, pkg, 'package.json'), 'utf8')).version;
  const cases = [
    { name: 'hls.js+hls', lib: 'hls.js', manifest: opts.hls },
    { name: 'shaka+hls', lib: 'shaka', manifest: opts.hls },
    ...(opts.dash && !opts.growing ? [
      { name: 'shaka+dash', lib: 'shaka', manifest: opts.dash },
      { name: 'dashjs+dash', lib: 'dashjs', manifest: opts.dash },
    ] : []),
  ].map((c) => ({ ...c, version: version(LIBS[c.lib].pkg) }));

  const t0 = Date.now();
  const server = await startServer(opts.dir);
  const base = `http://127.0.0.1:${server.address().port}`;
  if (opts.serve) {
    // Only serve, for a look by hand: BASE/__players/hls.js.html etc. load the libraries.
    console.log(JSON.stringify({ serving: base, dir: opts.dir, pages: Object.keys(LIBS).map((l) => `${base}/__players/${l}.html`) }));
    return;
  }
  let browser;
  let browserVersion = null;
  const results = [];
  const screenshot = { path: opts.screenshot ? path.resolve(opts.screenshot) : null, taken: null };
  try {
    browser = await launchChromium(chromium, { executablePath: opts.chromium, viewport: { width: 640, height: 360 } });
    browserVersion = await getBrowserVersion(browser.context);
    for (const c of cases) {
      const r = await runCase(browser.context, base, c, opts, screenshot);
      console.log(JSON.stringify(r));
      results.push(r);
    }
  } finally {
    await browser?.close();
    server.close();
  }

  const passed = results.filter((r) => r.pass).length;
  const summary = {
    summary: true,
    pass: results.length === cases.length && passed === cases.length,
    passed,
    failed: cases.length - passed,
    chromium: browserVersion,
    dir: opts.dir,
    seams: opts.seams,
    rate: opts.rate,
    screenshot: screenshot.taken ? { path: screenshot.path, case: screenshot.taken } : null,
    elapsedS: round((Date.now() - t0) / 1000),
    cases: results,
  };
  if (opts.out) await fs.writeFile(opts.out, JSON.stringify(summary, null, 2) + '\n');
  const { cases: _omit, ...line } = summary;
  console.log(JSON.stringify({ ...line, failures: results.filter((r) => !r.pass).map((r) => `${r.case}: ${r.failures.join('; ')}`) }));
  console.error(`players: ${passed} passed, ${cases.length - passed} failed`);
  process.exit(summary.pass ? 0 : 1);
}

main().catch((err) => {
  console.error(`play.mjs: ${err.stack ?? err}`);
  process.exit(2);
});
