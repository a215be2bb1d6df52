#!/usr/bin/env node
// End-to-end test of the slicecast web page in headless Chromium (playwright-core).
//
//   node web/tests/page.mjs --base http://127.0.0.1:PORT --file CLIP.mp4 --screenshot player.png
//        [--api-key KEY] [--library-screenshot library.png] [--out result.json]
//        [--rate 4] [--timeout 300] [--chromium /usr/bin/chromium] [--no-dash] [--keep] [--check-resume]
//        [--subtitles] [--early] [--signed]
//
// Against a running `slicecast serve` (fresh data folder): uploads CLIP through the page's
// file input and sees the upload progress reach 100 %; follows the processing view until
// the video is processed (recording the stages and slice counts it showed, and judging the
// live progress against /status every ~500 ms: `progress`, page/progress.mjs); opens the video
// from the library and plays it past the first slice seam (manifest `slice_starts_s[1]`);
// hovers the seek bar and checks the sprite preview thumbnail, then seeks by clicking the bar
// and with the arrow keys; picks the lowest rung in the quality menu and checks that the
// decoder actually switched (video.videoHeight and the player's own level); switches to DASH
// (Shaka Player) and picks another rung there; with --subtitles, waits for the subtitles that
// arrive after the video is playable and checks that a cue's text shows at its time, from the
// master playlist's SUBTITLES group in hls.js and with DASH in Shaka Player; takes a screenshot of the player; deletes the
// video through the confirmation dialog and sees it leave the library (and the server).
// The library card of the upload is followed from the start (`library.states`: uploading,
// processing, ready, each seen in that order); a deep link (`/#v=<id>`) opens the player paused
// on the video's poster (`deepLink`). Unless --keep, a file the sniffing lets through but the
// server cannot decode (an MP4 `ftyp` box, then noise) ends as a failed card: a plain reason,
// Retry (it fails again) and Delete (the card goes, /status answers 404), announced once and
// not again after reloads (`failedCard`, `states.failure`). The player's Download panel links
// the video's MP4 and M4A (href, `download` name, label); each answers 200 with its type and
// size and 206 to a Range, and plays in a plain media element without hls.js (`downloads`).
// With --early (needs a server that encodes slowly enough: the Rust test holds slices back),
// the video is watched while it still encodes instead (page/early.mjs): "Watch now" in the
// processing view, the library card marked as encoding, playback of the growing playlists
// from the start with the part still encoding shown on the seek bar, and playback going on
// across the switch to the final playlists without a reload or an error; then the library
// and delete steps.
// With --check-resume (needs a server whose --part-size cuts CLIP into 3+ parts), the upload is
// first interrupted by a page reload after two parts, and the test checks that picking the
// same file again sends exactly the parts the server lacks.
// With --signed (a server run with SIGNED_PLAYBACK=true) it records every request the browser
// makes under /stream/ (all of them must carry a playback token, `/stream/t/<token>/…`), checks
// that the master without a token answers 403, that the Share panel's embed link
// (`/embed/<id>?t=<token>`) plays in a fresh page that /status gives no grant, and that a stream
// refused with 403 is retried once with a fresh grant, then told in a sentence (page/signed.mjs):
// `signed: {streamRequests, withoutToken, plain403, embedPlays, embedLink, embedStreams, expired: {hls, dash}}`.
// Without it the stream URLs must carry no token.
// Throughout it fails on any console error, page error, HTTP error response or request to
// another origin. With --keep the video is not deleted.
//
// Prints one JSON summary line. Exit 0 when everything passed, 1 when a check failed,
// 2 on a usage or setup error.
//
// The steps live in page/ (upload.mjs, library.mjs, player.mjs); the Chromium harness is
// shared with tests/players/play.mjs (tests/harness/chromium.mjs).
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import {
  CheckError, collectErrors, collectHttpErrors, getBrowserVersion, launchChromium, round, sleep, waitFor,
} from '../../tests/harness/chromium.mjs';
import { a11yStep } from './page/a11y.mjs';
import { downloadSteps } from './page/downloads.mjs';
import { deepLinkPoster, deleteVideo, listVideo } from './page/library.mjs';
import { options } from './page/options.mjs';
import { playerSteps } from './page/player.mjs';
import { shareSteps } from './page/share.mjs';
import { recordStreamRequests, signedSteps } from './page/signed.mjs';
import { failedCard, libraryAboveFold, uploadPanelFollows } from './page/states.mjs';
import { playsOnAfterComplete, watchWhileEncoding } from './page/early.mjs';
import { followProcessing, upload, uploadAndProcess } from './page/upload.mjs';

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
    progress: null,
    manifest: null,
    playback: null,
    scrub: null,
    quality: null,
    dash: null,
    delete: null,
    library: null,
    deepLink: null,
    failedCard: null,
    early: null,
    refused: null,
    fit: null,
    share: null,
    downloads: null,
    states: null,
    a11y: null,
    signed: null,
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

  const consoleErrors = [];
  const pageErrors = [];
  const httpErrors = [];
  const external = [];
  const parts = { started: 0, inFlight: 0, maxInFlight: 0 };
  let browser;
  let page;
  let streams = null;

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
    browser = await launchChromium(chromium, {
      executablePath: opts.chromium,
      headless: !opts.headed,
      viewport: { width: 1280, height: 800 },
      profilePrefix: 'slicecast-web-test-',
    });
    const { context } = browser;
    if (opts.signed) streams = recordStreamRequests(context, opts);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts.base });
    page = context.pages()[0] ?? await context.newPage();
    result.chromium = await getBrowserVersion(context, page);

    collectErrors(page, consoleErrors, pageErrors);
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
    collectHttpErrors(page, opts.base, httpErrors, { method: true });

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

    const t = { page, opts, result, step, parts, failures };
    await a11yStep(t, 'empty page');
    if (opts.early) {
      await upload(t);
      await watchWhileEncoding(t);
      t.manifest = await followProcessing(t);
      await playsOnAfterComplete(t);
    } else {
      t.manifest = await uploadAndProcess(t);
    }
    t.itemSel = `[data-testid="library-item"][data-video-id="${result.videoId}"]`;
    await uploadPanelFollows(t);
    await listVideo(t);
    await a11yStep(t, 'library', () => page.evaluate(() => window.scrollTo(0, 0)));
    await libraryAboveFold(t);
    await deepLinkPoster(t);
    if (!opts.early) {
      await playerSteps(t);
      await shareSteps(t);
      await downloadSteps(t);
    }
    if (opts.signed) await signedSteps(t, streams);
    if (!opts.keep) {
      await deleteVideo(t);
      await failedCard(t);
    }
  } catch (err) {
    if (!(err instanceof CheckError)) failures.push(`exception: ${err.stack ?? err}`.slice(0, 800));
  } finally {
    await sleep(300); // late console messages
    await browser?.close();
  }

  result.errors = { console: consoleErrors, page: pageErrors, http: httpErrors, external };
  if (streams && result.signed) {
    // The whole run's requests (the delete and the failed upload came after the step).
    result.signed.streamRequests = streams.requests;
    result.signed.withoutToken = streams.withoutToken.length;
    if (streams.withoutToken.length && !failures.some((f) => f.includes('without a token'))) {
      failures.push(`${streams.withoutToken.length} request(s) under /stream/ without a token: ${streams.withoutToken[0]}`);
    }
  }
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
