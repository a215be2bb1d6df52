// page.mjs's library steps: the processed video is listed, and deleted through the dialog.
import { CheckError } from '../../../tests/harness/chromium.mjs';

/** The library lists the video (title, age, rungs, duration, poster). */
export async function listVideo({ page, opts, result, step, itemSel }) {
  const listed = await step('library lists the video', async () => {
    // Listed as processed (a card shown while it encoded is replaced).
    await page.waitForSelector(`${itemSel}[data-status="processing_complete"]`, { timeout: 15000 });
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
}

/** Deletes the video through the confirmation dialog (Cancel first) and checks it is gone. */
export async function deleteVideo({ page, opts, result, step, itemSel }) {
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
