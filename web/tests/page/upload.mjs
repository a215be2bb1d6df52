// page.mjs's steps from the file to a processed video: [an interrupted upload resumed,] the
// upload through the file input, and the processing view until the video is processed
// (with --early, early.mjs watches the video in between).
import { statSync } from 'node:fs';
import path from 'node:path';
import { CheckError, round, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { a11yStep } from './a11y.mjs';
import { recordCardStates } from './library.mjs';
import { judgeProgress } from './progress.mjs';
import { authHeaders } from './signed.mjs';

/** Uploads `opts.file` through the page and follows it until processed; returns its manifest. */
export async function uploadAndProcess(t) {
  await upload(t);
  return followProcessing(t);
}

/** A small text file chosen in the file input: refused with a sentence, and nothing is sent. */
export async function refusesText({ page, result, step }) {
  await step('a text file is refused before any upload request', async () => {
    const sent = [];
    const onReq = (req) => { if (/\/(create_multipart_upload|multipart_upload|uploads\/)/.test(req.url())) sent.push(`${req.method()} ${req.url()}`); };
    page.on('request', onReq);
    await page.setInputFiles('#file-input', {
      name: 'playlist.m3u8', mimeType: 'application/vnd.apple.mpegurl',
      buffer: Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:4.0,\nsegment0.ts\n#EXT-X-ENDLIST\n'),
    });
    const shown = await waitFor(page, 'the refusal sentence', () => {
      const el = document.querySelector('#upload-refusal');
      return { visible: !el.hidden && el.getBoundingClientRect().height > 0, text: el.textContent.trim(), panel: !document.querySelector('#upload-panel').hidden };
    }, null, (x) => x.visible, { timeout: 5000 });
    await sleep(500);
    page.off('request', onReq);
    if (!/“playlist\.m3u8” is .*not a video/.test(shown.text)) throw new CheckError(`the refusal reads ${JSON.stringify(shown.text)}`);
    if (shown.panel) throw new CheckError('the upload panel opened for a refused file');
    if (sent.length) throw new CheckError(`a refused file made upload requests: ${sent.join(', ')}`);
    result.refused = { text: shown.text, uploadRequests: sent.length };
    return result.refused;
  });
}

/** Uploads `opts.file` through the page ([interrupted and resumed,] with progress to 100 %). */
export async function upload(t) {
  const { page, opts, result, step, parts } = t;
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
      await page.evaluate(recordCardStates, path.basename(opts.file));
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

  if (!opts.checkResume) await refusesText({ page, result, step });
  const uploaded = await step(opts.checkResume ? 'upload progress reached 100 % (resumed)' : 'upload through the file input', async () => {
    const size = statSync(opts.file).size;
    const u0 = Date.now();
    if (!opts.checkResume) await uploadHeldForAxe(t);
    await waitFor(page, 'the refusal cleared', () => document.querySelector('#upload-refusal').hidden, null, Boolean, { timeout: 5000 });
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
}

/**
 * Chooses the file with its parts held back, runs axe on the page while it uploads, then lets
 * the parts go.
 */
async function uploadHeldForAxe(t) {
  const { page, opts } = t;
  let release;
  const gate = new Promise((r) => { release = r; });
  const held = (route) => gate.then(() => route.continue()).catch(() => {});
  await page.route('**/uploads/parts/**', held);
  try {
    await page.evaluate(recordCardStates, path.basename(opts.file));
    await page.setInputFiles('#file-input', opts.file);
    await page.waitForSelector('#upload-panel:not(.done):not(.error)', { state: 'visible', timeout: 10000 });
    await a11yStep(t, 'during an upload', () => page.evaluate(() => window.scrollTo(0, 0)));
  } finally {
    release();
    await page.unroute('**/uploads/parts/**', held);
  }
}

/** The id of the video the processing view shows (the one just uploaded). */
export async function processingVideoId({ page, result }) {
  if (!result.videoId) {
    const job = await page.waitForSelector('[data-testid="processing-job"][data-video-id]', { timeout: 20000 });
    result.videoId = await job.getAttribute('data-video-id');
  }
  return result.videoId;
}

/** Follows the processing view until the video is processed; returns its manifest. */
export async function followProcessing(t) {
  const { page, opts, result, step, failures } = t;
  // The timeline of the live progress (progress.mjs): what the page shows and the server's
  // /status, every ~500 ms; and when the page itself reads /status.
  const samples = [];
  const statusReads = [];
  const p0 = Date.now();
  const since = () => round((Date.now() - p0) / 1000, 2);
  const onReq = (req) => {
    const m = /\/status\/([^/?#]+)$/.exec(req.url());
    if (req.method() === 'GET' && m) statusReads.push({ id: decodeURIComponent(m[1]), t: since() });
  };
  page.on('request', onReq);
  const processed = await step('processing view until complete', async () => {
    await processingVideoId(t);
    const sel = `[data-testid="processing-job"][data-video-id="${result.videoId}"]`;
    const observed = [];
    let last = null;
    let sampledAt = 0;
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
          elapsed: el.querySelector('[data-testid="processing-elapsed"]')?.textContent ?? '',
          eta: el.querySelector('[data-testid="processing-eta"]')?.textContent ?? '',
          error: el.querySelector('[data-testid="processing-error"]').hidden ? null : el.querySelector('[data-testid="processing-error"]').textContent,
        };
      }, sel);
      if (!s) throw new CheckError('the processing entry disappeared');
      const key = `${s.status}|${s.stageText}|${s.slices}|${s.percent}|${s.elapsed}|${s.eta}`;
      if (key !== last) {
        observed.push({ t: round((Date.now() - p0) / 1000, 1), ...s, error: undefined });
        last = key;
      }
      if (Date.now() - sampledAt >= 480 || s.status === 'processing_complete' || s.status === 'processing_failed') {
        // The server's progress just after the page was read: the page's is never newer.
        const at = since();
        sampledAt = Date.now();
        let server = null;
        try {
          const r = await fetch(`${opts.base}/status/${result.videoId}`);
          if (r.status === 200) {
            const m = await r.json();
            server = { status: m.status, stage: m.stage, progress: m.progress ?? null };
          }
        } catch { /* a missed sample */ }
        samples.push({ t: at, status: s.status, stage: s.stage, percent: s.percent, slices: s.slices, elapsed: s.elapsed, eta: s.eta, server });
      }
      if (s.slices && !/^\d+ of \d+ slices?$/.test(s.slices)) throw new CheckError(`the slice count reads ${JSON.stringify(s.slices)}`);
      if (s.status === 'processing_failed') throw new CheckError(`processing failed; the page shows: ${s.error}`);
      if (s.status === 'processing_complete') break;
      if (Date.now() > end) throw new CheckError(`not processed within ${opts.timeoutMs / 1000} s (last: ${key})`);
      await sleep(200);
    }
    result.processing = {
      s: round((Date.now() - p0) / 1000, 1),
      updatesSeen: observed.length,
      stagesSeen: [...new Set(observed.map((o) => o.stage))],
      elapsedShown: observed.some((o) => o.elapsed),
      etaShown: observed.some((o) => o.eta),
      observed: observed.slice(0, 40),
    };
    return { videoId: result.videoId, s: result.processing.s, stagesSeen: result.processing.stagesSeen, updatesSeen: observed.length };
  });
  page.off('request', onReq);
  if (!processed) throw new CheckError('processing did not complete');

  // With --early the timeline starts after the watching, and slices are held back on purpose:
  // recorded, not judged.
  await step(opts.early ? 'live progress (recorded only, --early)' : 'live progress moves: percent, slices, elapsed, time left', async () => {
    const pollTimes = statusReads.filter((r) => r.id === result.videoId).map((r) => r.t);
    const { summary, violations } = judgeProgress(samples, { pollTimes });
    result.progress = {
      ...summary,
      violations,
      timeline: samples.map((x) => [x.t, x.stage, x.percent, x.slices, x.elapsed, x.eta,
        x.server?.progress ? round(x.server.progress.fraction, 3) : null, x.server?.progress?.eta_ms ?? null]).slice(0, 120),
    };
    if (violations.length && !opts.early) throw new CheckError(violations.slice(0, 4).join('; '));
    return { samples: summary.samples, maxGapS: summary.maxGapS, increases: summary.increases, etaShown: summary.etaShown, final: summary.final };
  });

  // The manifest, for the seam and rungs.
  const manifest = await (await fetch(`${opts.base}/status/${result.videoId}`, { headers: authHeaders(opts) })).json();
  // The server's elapsed time, when it sends one, is shown (progress.elapsed_ms is optional).
  if (manifest.progress?.elapsed_ms != null) {
    const shown = await page.textContent(`[data-testid="processing-job"][data-video-id="${result.videoId}"] [data-testid="processing-elapsed"]`);
    if (!/^\d+:\d\d(:\d\d)? elapsed$/.test(shown ?? '')) {
      failures.push(`the processing view shows ${JSON.stringify(shown)} for progress.elapsed_ms ${manifest.progress.elapsed_ms}`);
    }
    result.processing.elapsedText = shown;
  }
  result.manifest = {
    status: manifest.status, duration_s: round(manifest.duration_s), slice_starts_s: manifest.slice_starts_s,
    rungs: (manifest.rungs ?? []).map((r) => `${r.name} ${r.width}x${r.height}`),
  };
  return manifest;
}
