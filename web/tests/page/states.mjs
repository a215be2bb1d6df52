// page.mjs's checks of the page's wording and states: the upload panel follows the video it
// uploaded, the library shows above the fold at 1366x800, phones are told "Choose a video",
// and a video that failed is announced once, not again after a reload.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CheckError, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { axeState } from './a11y.mjs';
import { DEFAULT_VIEWPORT } from './fit.mjs';
import { cardStates, inOrder, recordCardStates } from './library.mjs';

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

/** A file the sniffing lets through (an MP4 `ftyp` box) that no decoder reads: noise after it. */
export function brokenMp4(bytes = 200 * 1024) {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isomiso2', 16, 'latin1');
  return Buffer.concat([ftyp, randomBytes(bytes - ftyp.length)]);
}

const FAILED_NAME = 'broken clip.mp4';

/** In the page: the failed card of `name` (null when none), its reason and buttons, and the error toasts. */
function failedState(name) {
  const el = [...document.querySelectorAll('#library-list [data-testid="library-item"]')].find((c) => c.dataset.name === name);
  const shown = (q) => { const b = el?.querySelector(q); return !!b && !b.hidden && b.getBoundingClientRect().height > 0; };
  return {
    card: el ? { state: el.dataset.state, id: el.dataset.videoId ?? null, reason: el.querySelector('[data-testid="library-error"]')?.textContent.trim() ?? null,
      retry: shown('[data-testid="library-retry"]'), delete: shown('[data-testid="library-delete"]') } : null,
    toasts: [...document.querySelectorAll('#toasts .toast.error')].map((t) => t.textContent),
    upload: document.querySelector('#upload-status').textContent,
  };
}

async function reloadPage(page) {
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
  await sleep(2500); // a few polls of /status
  return page.evaluate(failedState, FAILED_NAME);
}

/**
 * A file the server cannot process (an MP4 header, then noise): its library card goes
 * uploading → processing → failed, says why in a plain sentence, offers Retry (which
 * uploads it again, to fail again) and Delete. The failure is announced once, not after a
 * reload; the card stays after reloads (also once the processing view dismissed it: the
 * page remembers its uploads) without Retry (the file is gone with the page); Delete
 * removes it from the page and the server.
 */
export async function failedCard(t) {
  const { page, opts, result, step } = t;
  await step('a failed upload: its card, plain reason, Retry and Delete; announced once', async () => {
    await page.evaluate(() => { for (const el of document.querySelectorAll('#toasts .toast')) el.remove(); });
    await page.evaluate(recordCardStates, FAILED_NAME);
    await page.setInputFiles('#file-input', { name: FAILED_NAME, mimeType: 'video/mp4', buffer: brokenMp4() });
    const failed = await waitFor(page, 'the failed card', failedState, FAILED_NAME,
      (x) => x.card?.state === 'failed' && x.toasts.length > 0, { timeout: 60000 });
    const { id, reason } = failed.card;
    const states = await cardStates(page);
    if (!inOrder(states, ['uploading', 'processing', 'failed'])) throw new CheckError(`the failed upload's card went through ${JSON.stringify(states)}`);
    if (!id) throw new CheckError('the failed card has no video id');
    if (!/^[A-Z].*[.!?]$/s.test(reason ?? '') || /@|0x|\/\S+\//.test(reason)) {
      throw new CheckError(`the failed card's reason is not a plain sentence: ${JSON.stringify(reason)}`);
    }
    if (!failed.card.retry || !failed.card.delete) throw new CheckError(`the failed card offers ${JSON.stringify(failed.card)}`);
    if (!/could not be processed/.test(failed.upload)) throw new CheckError(`the upload panel says ${JSON.stringify(failed.upload)} for a failed video`);

    await page.evaluate(() => window.scrollTo(0, 0));
    await axeState(t, 'library with a failed card');
    if (opts.artifacts) {
      const file = path.join(opts.artifacts, 'library-failed.png');
      await sleep(300); // the theme's colours settle after axe's emulation
      await page.screenshot({ path: file, fullPage: true });
      result.screenshots['library-failed'] = file;
    }

    // Retry: the same file goes up again (the same video) and fails again, on the same card.
    await page.evaluate(() => { for (const el of document.querySelectorAll('#toasts .toast')) el.remove(); });
    await page.evaluate(recordCardStates, FAILED_NAME);
    await page.click(`[data-testid="library-item"][data-video-id="${id}"] [data-testid="library-retry"]`);
    await waitFor(page, 'the retried upload fails again', failedState, FAILED_NAME,
      (x) => x.card?.state === 'failed' && x.toasts.length > 0, { timeout: 60000 });
    const retried = await cardStates(page);
    if (!inOrder(retried, ['failed', 'uploading', 'failed'])) throw new CheckError(`after Retry the card went through ${JSON.stringify(retried)}`);
    const cards = await page.$$(`[data-testid="library-item"][data-name="${FAILED_NAME}"]`);
    if (cards.length !== 1) throw new CheckError(`${cards.length} cards for the retried upload`);

    // Reloads: no toast; the card stays (also when the processing view lets go of it), without Retry.
    const after = await reloadPage(page);
    if (after.toasts.length) throw new CheckError(`after a reload the failure is announced again: ${after.toasts[0]}`);
    if (after.card?.state !== 'failed') throw new CheckError(`after a reload the failed card shows ${JSON.stringify(after.card)}`);
    if (after.card.retry) throw new CheckError('Retry is offered after a reload, without the file');
    await page.click(`[data-testid="processing-job"][data-video-id="${id}"] [data-testid="processing-dismiss"]`);
    const remembered = await reloadPage(page);
    if (remembered.toasts.length) throw new CheckError(`after a second reload the failure is announced again: ${remembered.toasts[0]}`);
    if (remembered.card?.state !== 'failed' || remembered.card.reason !== reason) {
      throw new CheckError(`once dismissed from the processing view, a reload shows ${JSON.stringify(remembered.card)}`);
    }

    // Delete: the card goes, and the server forgets the video.
    await page.click(`[data-testid="library-item"][data-video-id="${id}"] [data-testid="library-delete"]`);
    await page.waitForSelector(`[data-testid="library-item"][data-video-id="${id}"]`, { state: 'detached', timeout: 15000 });
    const st = await fetch(`${opts.base}/status/${id}`);
    if (st.status !== 404) throw new CheckError(`/status/${id} answers ${st.status} after Delete`);
    const gone = await reloadPage(page);
    if (gone.card) throw new CheckError('the deleted failure is back after a reload');
    if (gone.toasts.length) throw new CheckError(`after Delete and a reload a failure is announced: ${gone.toasts[0]}`);

    result.failedCard = { videoId: id, reason, deleted: true, retryShown: true, states, retried, retryAfterReload: after.card.retry, statusAfterDelete: st.status };
    result.states = { ...result.states, failure: { videoId: id, toast: failed.toasts[0], uploadStatus: failed.upload, toastsAfterReload: 0, listedAfterReload: true } };
    return result.failedCard;
  });
}
