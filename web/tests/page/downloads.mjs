// page.mjs's download steps: the open player's Download panel links each file the server made
// for the video (an MP4, an M4A) with the right href, `download` name and label; each answers
// 200 with its type and size and 206 to a Range request; each plays in a plain media element
// (no hls.js: `src` set to the URL) in a page of its own.
import { CheckError, round, waitFor } from '../../../tests/harness/chromium.mjs';
import { fmtBytes } from '../../js/format.js';
import { safeFileName } from '../../js/share.js';
import { authHeaders, expectStream, streamPath } from './signed.mjs';

const KINDS = {
  mp4: { type: 'video/mp4', ext: 'mp4', label: 'Video (MP4', tag: 'video' },
  m4a: { type: 'audio/mp4', ext: 'm4a', label: 'Audio only (M4A', tag: 'audio' },
};

/** The links of the open player's Download panel: [{kind, href, download, text, bytes}]. */
const panelLinks = () => [...document.querySelectorAll('#download-list a')].map((a) => ({
  kind: a.dataset.kind, href: a.getAttribute('href'), download: a.getAttribute('download'),
  text: a.textContent.trim(), bytes: Number(a.dataset.bytes),
}));

/** Plays `url` (absolute) in a plain <video>/<audio> (muted) in a new, empty page until 1 s has played. */
async function playPlain(context, url, tag) {
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await p.setContent('<!doctype html><title>download</title><body></body>');
    await p.evaluate(({ url, tag }) => {
      const v = document.createElement(tag);
      v.muted = true;
      v.src = url;
      document.body.append(v);
      return v.play().catch((e) => { window.playError = String(e); });
    }, { url, tag });
    const s = await waitFor(p, `${url} plays in a plain <${tag}>`, (tag) => {
      const v = document.querySelector(tag);
      return {
        t: v.currentTime, w: v.videoWidth ?? 0, h: v.videoHeight ?? 0, duration: v.duration,
        error: v.error ? `media error ${v.error.code}: ${v.error.message}` : (window.playError ?? null),
      };
    }, tag, (x) => x.error || x.t > 1, { timeout: 20000 });
    if (s.error) throw new CheckError(`${url} does not play in a plain <${tag}>: ${s.error}`);
    if (errors.length) throw new CheckError(`errors while playing ${url}: ${errors.join('; ')}`);
    return s;
  } finally {
    await p.close();
  }
}

/** The download steps, on the video open in the player (`result.videoId`). */
export async function downloadSteps({ page, opts, result, step, manifest }) {
  const id = result.videoId;
  result.downloads = {};
  let links = [];
  await step('Download panel: a link per file, named after the video', async () => {
    const list = await (await fetch(`${opts.base}/api/videos`, { headers: authHeaders(opts) })).json();
    const item = (list.videos ?? list).find((v) => v.video_id === id);
    if (!item) throw new CheckError(`${id} is not in /api/videos`);
    const want = item.downloads ?? [];
    const kinds = want.map((d) => d.kind).sort().join(',');
    if (kinds !== 'm4a,mp4') throw new CheckError(`/api/videos downloads are ${JSON.stringify(want)}, expected an mp4 and an m4a (GENERATE_DOWNLOADS=false?)`);
    // The same files (the list's URLs carry the token with --signed; compared without it).
    const fromManifest = (manifest.downloads ?? []).map((d) => `${d.kind} /stream/${d.key} ${d.bytes}`).sort();
    const fromList = want.map((d) => `${d.kind} ${streamPath(d.url)} ${d.bytes}`).sort();
    for (const d of manifest.downloads ?? []) {
      const listed = want.find((w) => w.kind === d.kind);
      if (listed) expectStream(opts, listed.url, d.key, `/api/videos' ${d.kind} download`);
    }
    if (fromManifest.join('|') !== fromList.join('|')) {
      throw new CheckError(`manifest downloads ${JSON.stringify(fromManifest)} differ from /api/videos ${JSON.stringify(fromList)}`);
    }
    if (await page.isHidden('#player-section')) throw new CheckError('the player is not open');
    if (await page.isHidden('#download-button')) throw new CheckError('no Download button in the player');
    if (await page.isHidden('#download-panel')) await page.click('#download-button');
    await page.waitForSelector('#download-panel', { state: 'visible', timeout: 3000 });
    if ((await page.getAttribute('#download-button', 'aria-expanded')) !== 'true') throw new CheckError('the Download button is not aria-expanded');
    links = await page.evaluate(panelLinks);
    const base = safeFileName(item.base_name);
    for (const d of want) {
      const k = KINDS[d.kind];
      const l = links.find((x) => x.kind === d.kind);
      if (!l) throw new CheckError(`no ${d.kind} link in the Download panel: ${JSON.stringify(links)}`);
      if (streamPath(l.href) !== streamPath(d.url)) throw new CheckError(`the ${d.kind} link goes to ${l.href}, expected ${d.url}`);
      expectStream(opts, l.href, streamPath(d.url).slice('/stream/'.length), `the ${d.kind} link`);
      if (l.download !== `${base}.${k.ext}`) throw new CheckError(`the ${d.kind} link saves as ${JSON.stringify(l.download)}, expected ${base}.${k.ext}`);
      const label = `${k.label}, ${fmtBytes(d.bytes)})`;
      if (l.text !== label) throw new CheckError(`the ${d.kind} link reads ${JSON.stringify(l.text)}, expected ${JSON.stringify(label)}`);
      l.bytes = d.bytes;
      result.downloads[d.kind] = { href: l.href, name: l.download, label: l.text, bytes: d.bytes };
    }
    if (links[0]?.kind !== 'mp4') throw new CheckError('the video is not the first download');
    return links;
  });
  if (!links.length) return;

  await step('Download: clicking the MP4 link saves it under its name', async () => {
    const mp4 = links.find((l) => l.kind === 'mp4');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10000 }),
      page.click('[data-testid="download-mp4"]'),
    ]);
    const suggested = download.suggestedFilename();
    await download.cancel().catch(() => {});
    if (suggested !== mp4.download) throw new CheckError(`the browser saves the MP4 as ${JSON.stringify(suggested)}, expected ${mp4.download}`);
    result.downloads.mp4.saved = suggested;
    return { suggested };
  });

  for (const l of links) {
    const k = KINDS[l.kind];
    const url = new URL(l.href, `${opts.base}/`).href;
    await step(`Download ${l.kind}: 200 with type and size, 206 to a Range, plays in a plain <${k.tag}>`, async () => {
      const r = await fetch(url);
      const body = Buffer.from(await r.arrayBuffer());
      const type = r.headers.get('content-type') ?? '';
      const length = Number(r.headers.get('content-length'));
      if (r.status !== 200) throw new CheckError(`GET ${l.href} answers ${r.status}`);
      if (type.split(';')[0].trim() !== k.type) throw new CheckError(`GET ${l.href}: Content-Type ${type}, expected ${k.type}`);
      if (length !== l.bytes || body.length !== l.bytes) throw new CheckError(`GET ${l.href}: Content-Length ${length}, body ${body.length} bytes, expected ${l.bytes}`);
      const range = await fetch(url, { headers: { Range: 'bytes=0-99' } });
      const part = Buffer.from(await range.arrayBuffer());
      if (range.status !== 206) throw new CheckError(`GET ${l.href} with Range: bytes=0-99 answers ${range.status}, expected 206`);
      if (part.length !== 100 || !part.equals(body.subarray(0, 100))) throw new CheckError(`the Range answer has ${part.length} bytes, expected the first 100`);
      const contentRange = range.headers.get('content-range');
      if (contentRange !== `bytes 0-99/${l.bytes}`) throw new CheckError(`Content-Range ${contentRange}, expected bytes 0-99/${l.bytes}`);
      const s = await playPlain(page.context(), url, k.tag);
      if (l.kind === 'mp4' && !(s.w > 0)) throw new CheckError(`the MP4 plays without a picture (videoWidth ${s.w})`);
      Object.assign(result.downloads[l.kind], {
        type, range: range.status, played: round(s.t, 2), duration: round(s.duration, 2),
        ...(l.kind === 'mp4' ? { videoWidth: s.w, videoHeight: s.h } : {}),
      });
      return result.downloads[l.kind];
    });
  }
  if (await page.isVisible('#download-panel')) await page.click('#download-button');
}
