// page.mjs's checks of the page's wording and states: the upload panel follows the video it
// uploaded, the library shows above the fold at 1366x800, phones are told "Choose a video",
// and a video that failed is announced once, not again after a reload.
import { randomBytes } from 'node:crypto';
import { CheckError, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { DEFAULT_VIEWPORT } from './fit.mjs';

/** After processing: the upload panel says the video is ready (not "processing has started"). */
export async function uploadPanelFollows({ page, result, step }) {
  await step('the upload panel follows the video to ready', async () => {
    const s = await waitFor(page, 'the upload panel says ready', () => ({
      hidden: document.querySelector('#upload-panel').hidden,
      status: document.querySelector('#upload-status').textContent,
    }), null, (x) => x.hidden || /\bready\b/.test(x.status), { timeout: 10000 });
    if (/has started/i.test(s.status)) throw new CheckError(`the upload panel still says ${JSON.stringify(s.status)}`);
    result.states = { ...result.states, uploadStatus: s.status };
    return s;
  });
}

/** At 1366x800 the first library card shows whole without scrolling; at 390x844 the wording is for touch. */
export async function libraryAboveFold({ page, result, step, itemSel }) {
  await step('the library shows above the fold at 1366x800; "Choose a video" on a phone', async () => {
    // The library as one finds it on arrival: no player open above it (--early leaves one open).
    if (!(await page.isHidden('#player-section'))) await page.click('#player-close');
    await page.setViewportSize({ width: 1366, height: 800 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(200);
    const fold = await page.evaluate((q) => {
      const card = document.querySelector(q).getBoundingClientRect();
      return { cardTop: Math.round(card.top), cardBottom: Math.round(card.bottom), viewport: innerHeight, scrollY };
    }, itemSel);
    if (fold.cardBottom > fold.viewport) throw new CheckError(`the first library card ends at ${fold.cardBottom} px, below the fold (${fold.viewport} px)`);
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(200);
    const phone = await page.evaluate(() => ({
      button: document.querySelector('#choose-file').textContent.trim(),
      dragShown: [...document.querySelectorAll('.drag-only')].some((el) => el.getBoundingClientRect().height > 0),
    }));
    await page.setViewportSize(DEFAULT_VIEWPORT);
    if (phone.button !== 'Choose a video' || phone.dragShown) throw new CheckError(`on a phone the upload area reads ${JSON.stringify(phone)}`);
    result.states = { ...result.states, fold, phone };
    return { fold, phone };
  });
}

/**
 * A file the server cannot process (noise that no sniffing refuses): one failure toast, and
 * none after a reload. The failed video is deleted afterwards.
 */
export async function failureToastOnce({ page, opts, result, step }) {
  await step('a failed video is announced once, not after a reload', async () => {
    await page.evaluate(() => { for (const t of document.querySelectorAll('#toasts .toast')) t.remove(); });
    await page.setInputFiles('#file-input', { name: 'noise.bin', mimeType: 'application/octet-stream', buffer: randomBytes(64 * 1024) });
    const job = await page.waitForSelector('[data-testid="processing-job"][data-video-id]:not([data-video-id=""])', { timeout: 20000 });
    const id = await waitFor(page, 'the noise upload in the processing view', () => {
      const st = document.querySelector('#upload-status').textContent;
      const el = [...document.querySelectorAll('[data-testid="processing-job"]')].find((j) => j.querySelector('.job-name').title === 'noise.bin');
      return el ? { id: el.dataset.videoId, st } : null;
    }, null, Boolean, { timeout: 20000 });
    void job;
    const failed = await waitFor(page, 'the noise upload fails', (vid) => ({
      status: document.querySelector(`[data-testid="processing-job"][data-video-id="${vid}"]`)?.dataset.status,
      toasts: [...document.querySelectorAll('#toasts .toast.error')].map((t) => t.textContent),
      upload: document.querySelector('#upload-status').textContent,
    }), id.id, (x) => x.status === 'processing_failed' && x.toasts.length > 0, { timeout: 60000 });
    if (!/could not be processed/.test(failed.upload)) throw new CheckError(`the upload panel says ${JSON.stringify(failed.upload)} for a failed video`);
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
    await sleep(2500); // a few polls of /status
    const after = await page.evaluate((vid) => ({
      listed: !!document.querySelector(`[data-testid="processing-job"][data-video-id="${vid}"][data-status="processing_failed"]`),
      toasts: [...document.querySelectorAll('#toasts .toast.error')].map((t) => t.textContent),
    }), id.id);
    if (after.toasts.length) throw new CheckError(`after a reload the failure is announced again: ${after.toasts[0]}`);
    const headers = opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {};
    await fetch(`${opts.base}/api/video/${id.id}`, { method: 'DELETE', headers }).catch(() => {});
    result.states = { ...result.states, failure: { videoId: id.id, toast: failed.toasts[0], uploadStatus: failed.upload, toastsAfterReload: 0, listedAfterReload: after.listed } };
    return result.states.failure;
  });
}
