// page.mjs's library steps: the states an upload's card goes through, the processed video
// listed, a deep link opening it on its poster, and its deletion through the dialog.
import path from 'node:path';
import { CheckError, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { authHeaders, expectStream } from './signed.mjs';

/**
 * In the page: records the states (`data-state`) the library card of the file `name` goes
 * through, in order, into `window.__cards.states` (a MutationObserver, so none is missed).
 */
export function recordCardStates(name) {
  window.__cards?.observer.disconnect();
  const rec = { name, id: null, states: [], observer: null };
  const scan = () => {
    const cards = [...document.querySelectorAll('#library-list [data-testid="library-item"]')];
    const el = cards.find((c) => (rec.id && c.dataset.videoId === rec.id) || c.dataset.name === rec.name);
    if (!el) return;
    if (el.dataset.videoId) rec.id = el.dataset.videoId;
    const s = el.dataset.state;
    if (s && rec.states[rec.states.length - 1] !== s) rec.states.push(s);
  };
  rec.observer = new MutationObserver(scan);
  rec.observer.observe(document.querySelector('#library-list'), { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
  window.__cards = rec;
  scan();
}

/** The states recorded by `recordCardStates`. */
export const cardStates = (page) => page.evaluate(() => window.__cards?.states ?? []);

/** Whether `want` appear in `states` in this order (others may come between). */
export function inOrder(states, want) {
  let i = 0;
  for (const s of states) if (s === want[i]) i++;
  return i === want.length;
}

/** The library lists the video (title, age, rungs, duration, poster). */
export async function listVideo({ page, opts, result, step, itemSel }) {
  const listed = await step('library lists the video', async () => {
    // Listed as processed (a card shown while it encoded is replaced).
    await page.waitForSelector(`${itemSel}[data-status="processing_complete"]`, { timeout: 15000 });
    // One card from the start of the upload: uploading, then processing, then ready.
    const states = await cardStates(page);
    result.library = { ...result.library, states };
    if (!inOrder(states, ['uploading', 'processing', 'ready']) || states.at(-1) !== 'ready') {
      throw new CheckError(`the library card of ${path.basename(opts.file)} went through ${JSON.stringify(states)}, not uploading → processing → ready`);
    }
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
    return { ...info, states };
  });
  if (!listed) throw new CheckError('the video is not in the library');
}

/**
 * A deep link (`/#v=<id>`) opens the player paused on the video's poster, not on a black box:
 * the poster is set, nothing has played, and the box shows the poster's picture.
 */
export async function deepLinkPoster({ page, opts, result, step, manifest }) {
  await step('a deep link opens the player on its poster', async () => {
    const id = result.videoId;
    const want = manifest.assets?.poster ?? null;
    if (!want) throw new CheckError('the manifest has no poster');
    // A new document (only the hash would not load the page again).
    await page.goto('about:blank');
    await page.goto(`${opts.base}/#v=${encodeURIComponent(id)}`, { waitUntil: 'load', timeout: 30000 });
    await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
    await page.waitForSelector(`#player[data-video-id="${id}"]`, { state: 'visible', timeout: 10000 });
    // Time for the engine to load the start (it must not hide the poster).
    await waitFor(page, 'the player loaded', () => !!document.querySelector('#player').dataset.engine, null, Boolean, { timeout: 15000 });
    await sleep(1000);
    const st = await page.evaluate(() => {
      const v = document.querySelector('#video');
      return { poster: v.getAttribute('poster'), paused: v.paused, played: v.played.length, t: v.currentTime };
    });
    // The poster's key (with --signed, under the video's token).
    expectStream(opts, st.poster, want, 'the player\'s poster');
    if (!st.paused || st.played) throw new CheckError(`a deep link started playback (${JSON.stringify(st)})`);
    // What the box shows against the poster itself, away from the play button and the controls.
    await page.evaluate(() => document.querySelector('#player-section').scrollIntoView({ block: 'start' }));
    await page.mouse.move(0, 0);
    await sleep(300);
    const shot = await page.locator('#player').screenshot();
    if (opts.artifacts) {
      const file = path.join(opts.artifacts, 'player-deep-link.png');
      await page.locator('#player').screenshot({ path: file });
      result.screenshots['player-deep-link'] = file;
    }
    const cmp = await page.evaluate(comparePoster, { shot: shot.toString('base64'), poster: st.poster });
    result.deepLink = { poster: st.poster, paused: st.paused, ...cmp };
    // The same picture differs by next to nothing; a black box by the poster's brightness.
    if (cmp.diff > 12) throw new CheckError(`the player does not show the poster (mean difference ${cmp.diff}; box luma ${cmp.boxLuma}, poster luma ${cmp.posterLuma})`);
    await page.click('#player-close');
    return result.deepLink;
  });
}

/**
 * In the page: the mean colour of the player's screenshot and of the poster drawn at the
 * same size, over the upper part of the box less its middle (the play button); their mean
 * difference per channel, and each one's luma.
 */
async function comparePoster({ shot, poster }) {
  const load = async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    return img;
  };
  const box = await load(`data:image/png;base64,${shot}`);
  const pic = await load(poster);
  const w = box.naturalWidth;
  const hgt = box.naturalHeight;
  const mean = (img) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = hgt;
    const g = c.getContext('2d');
    g.fillStyle = '#000';
    g.fillRect(0, 0, w, hgt);
    // Drawn as the video element draws it: whole, centred (object-fit: contain).
    const k = Math.min(w / img.naturalWidth, hgt / img.naturalHeight);
    const dw = img.naturalWidth * k;
    const dh = img.naturalHeight * k;
    g.drawImage(img, (w - dw) / 2, (hgt - dh) / 2, dw, dh);
    const d = g.getImageData(0, 0, w, hgt).data;
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = Math.floor(hgt * 0.05); y < hgt * 0.45; y += 2) {
      for (let x = Math.floor(w * 0.05); x < w * 0.95; x += 2) {
        if (x > w * 0.38 && x < w * 0.62) continue;
        const i = (y * w + x) * 4;
        sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2];
        n++;
      }
    }
    return sum.map((v) => v / n);
  };
  const a = mean(box);
  const b = mean(pic);
  const luma = (c) => Math.round(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]);
  const diff = Math.round(((Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2])) / 3) * 10) / 10;
  return { diff, boxLuma: luma(a), posterLuma: luma(b) };
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
    const list = await (await fetch(`${opts.base}/api/videos`, { headers: authHeaders(opts) })).json();
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
