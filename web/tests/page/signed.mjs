// page.mjs's signed playback (--signed, a server with SIGNED_PLAYBACK=true): every request the
// browser makes under /stream/ carries a playback token (`/stream/t/<token>/…`), the video's
// master without one answers 403, the embed link of the Share panel (`/embed/<id>?t=<token>`)
// plays in a fresh page that /status gives no grant (a viewer without the API key), and a
// stream refused with 403 is retried once with a fresh grant, then told in a sentence.
// Also the helpers the other steps use to compare stream URLs with or without a token.
import { CheckError, round, sleep, waitFor } from '../../../tests/harness/chromium.mjs';
import { EXPIRED_MESSAGE } from '../../js/api.js';

/** A token in a stream path: `/stream/t/<token>/`. */
const TOKEN_PATH = /^\/stream\/t\/([0-9A-Fa-f.]+)\//;

/** The Authorization header of the test's own requests (with --api-key). */
export const authHeaders = (opts) => (opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {});

/** The manifest's stream base: its playback grant's (signed playback), else `/stream/`. */
export const baseOf = (manifest) => manifest?.playback?.stream_base ?? '/stream/';

/** The absolute URL of asset `key` of `manifest` (under its grant when it has one). */
export const streamHref = (opts, manifest, key) => new URL(`${baseOf(manifest)}${key}`, `${opts.base}/`).href;

/** The path of a stream URL (absolute or not) without its token: `/stream/<key>`. */
export function streamPath(url) {
  const p = String(url ?? '').replace(/^[a-z]+:\/\/[^/]+/i, '');
  return p.replace(TOKEN_PATH, '/stream/');
}

/** The token a stream URL carries; null when none. */
export function tokenOf(url) {
  const m = TOKEN_PATH.exec(String(url ?? '').replace(/^[a-z]+:\/\/[^/]+/i, ''));
  return m ? m[1] : null;
}

/**
 * Throws unless `got` is the URL of asset `key` (`/stream/<key>`, on this server when
 * absolute) with a token under --signed and without one otherwise.
 */
export function expectStream(opts, got, key, what) {
  if (/^[a-z]+:\/\//i.test(String(got)) && !String(got).startsWith(`${opts.base}/`)) throw new CheckError(`${what}: ${got} is not on ${opts.base}`);
  if (streamPath(got) !== `/stream/${key}`) throw new CheckError(`${what}: ${got}, expected the stream URL of ${key}`);
  if (opts.signed && !tokenOf(got)) throw new CheckError(`${what}: ${got} carries no playback token (--signed)`);
  if (!opts.signed && tokenOf(got)) throw new CheckError(`${what}: ${got} carries a playback token without --signed`);
}

/** Records every request of the browser `context` (all its pages) to a path under /stream/. */
export function recordStreamRequests(context, opts) {
  const rec = { requests: 0, withoutToken: [] };
  context.on('request', (req) => {
    let u;
    try { u = new URL(req.url()); } catch { return; }
    if (u.origin !== opts.base || !u.pathname.startsWith('/stream/')) return;
    rec.requests++;
    if (!TOKEN_PATH.test(u.pathname)) rec.withoutToken.push(u.pathname.slice(0, 200));
  });
  return rec;
}

/** The src of an `<iframe>` snippet (its `&amp;`s undone). */
const iframeSrc = (snippet) => (/<iframe [^>]*src="([^"]*)"/.exec(snippet ?? '')?.[1] ?? '').replace(/&amp;/g, '&');

/** The state of a page's <video> and of the player of the page (or of the embed player). */
const videoNow = () => {
  const v = document.querySelector('video');
  const p = document.querySelector('#player');
  return {
    t: v.currentTime, w: v.videoWidth, paused: v.paused,
    state: document.documentElement.dataset.state ?? null,
    message: document.querySelector('#message')?.textContent ?? null,
    engine: p?.dataset.engine ?? null, error: p?.dataset.error ?? null, retries: Number(p?.dataset.grantRetries ?? 0),
  };
};

/**
 * The --signed checks, after the player, share and download steps (`rec` from
 * recordStreamRequests): fills `result.signed`.
 */
export async function signedSteps({ page, opts, result, step, manifest }, rec) {
  const id = result.videoId;
  const signed = (result.signed = { streamRequests: 0, withoutToken: 0, plain403: null, embedPlays: false });

  await step('signed playback: the master without a token is refused (403)', async () => {
    const r = await fetch(`${opts.base}/stream/${manifest.assets.hls_master}`);
    signed.plain403 = r.status;
    const body = await r.text();
    if (r.status !== 403) throw new CheckError(`/stream/<master> without a token answers ${r.status}: is the server run with SIGNED_PLAYBACK=true?`);
    return { status: r.status, body: body.slice(0, 200) };
  });

  if (!opts.early) {
    await step('signed playback: the Share panel\'s embed link (?t=) plays in a fresh page without a grant', async () => {
      const src = iframeSrc(result.share?.copied?.embed);
      const u = src ? new URL(src) : null;
      const token = u?.searchParams.get('t');
      if (!u || u.origin !== opts.base || u.pathname !== `/embed/${id}` || !token) throw new CheckError(`the embed link is ${JSON.stringify(src)}, expected ${opts.base}/embed/${id}?t=<token>`);
      signed.embedLink = src.replace(opts.base, '');
      const embed = await page.context().newPage();
      const errors = [];
      const streams = [];
      embed.on('pageerror', (e) => errors.push(e.message));
      embed.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      embed.on('request', (req) => { const p = new URL(req.url()).pathname; if (p.startsWith('/stream/')) streams.push(p); });
      // As a viewer without the API key sees it: /status gives no playback grant.
      await embed.route(`**/status/${id}`, async (route) => {
        const resp = await route.fetch();
        const json = await resp.json();
        delete json.playback;
        await route.fulfill({ response: resp, json });
      });
      try {
        await embed.goto(src, { waitUntil: 'load' });
        await embed.waitForSelector('html[data-state]', { timeout: 10000 });
        await embed.evaluate(() => { const v = document.querySelector('video'); v.muted = true; return v.play().catch(() => {}); });
        const s = await waitFor(embed, 'the embed player plays with the link\'s token', videoNow, null,
          (x) => x.state === 'message' || (x.t > 0.5 && x.w > 0), { timeout: 20000 });
        if (s.state === 'message') throw new CheckError(`the embed page says: ${s.message}`);
        if (errors.length) throw new CheckError(`embed page errors: ${errors.join('; ')}`);
        const other = streams.filter((p) => tokenOf(p) !== token);
        if (!streams.length || other.length) throw new CheckError(`the embed page's stream requests do not all carry the link's token: ${other.slice(0, 3).join(', ')}`);
        signed.embedPlays = true;
        signed.embedStreams = streams.length;
        return { playedTo: round(s.t, 2), streams: streams.length };
      } finally {
        await embed.close();
      }
    });

    // A fresh page on the deep link, its master (HLS) or MPD (DASH) refused as with an expired
    // token until the page reads /status again (a fresh grant; the engine's own retries of the
    // same URL are refused too): the player plays on. Refused every time: the player says the
    // link expired. With each engine (the protocol the page keeps).
    const refusedSteps = async (protocol) => {
      const open = async (always) => {
        const p = await page.context().newPage();
        await p.addInitScript((proto) => localStorage.setItem('slicecast.protocol', proto), protocol);
        let refused = 0;
        let renewed = false;
        p.on('request', (req) => { if (refused && new URL(req.url()).pathname === `/status/${id}`) renewed = true; });
        await p.route(/\/stream\/t\/[^/]+\/processed\/[^/]+\/(hls\/master\.m3u8|dash\/[^/]+\.mpd)$/, async (route) => {
          if (always || !renewed) {
            refused++;
            await route.fulfill({ status: 403, contentType: 'application/json', body: '{"error":"forbidden","message":"this playback link has expired: reload the page or ask the API for fresh URLs"}' });
          } else {
            await route.fallback();
          }
        });
        await p.goto(`${opts.base}/#v=${encodeURIComponent(id)}`, { waitUntil: 'load' });
        await p.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
        return { p, refused: () => refused };
      };
      const once = await open(false);
      let retry;
      try {
        const s = await waitFor(once.p, `${protocol}: the player loads after its manifest was refused`, videoNow, null, (x) => x.error || (x.engine && x.retries > 0), { timeout: 20000 });
        if (s.error) throw new CheckError(`${protocol}: the player says ${JSON.stringify(s.error)} after its manifest was refused`);
        await once.p.evaluate(() => { const v = document.querySelector('#video'); v.muted = true; return v.play(); });
        const played = await waitFor(once.p, `${protocol}: playing after the retry`, videoNow, null, (x) => x.error || x.t > 0.5, { timeout: 15000 });
        if (played.error) throw new CheckError(`${protocol}: player error after the retry: ${played.error}`);
        retry = { engine: s.engine, refused: once.refused(), retries: s.retries, playedTo: round(played.t, 2) };
      } finally {
        await once.p.close();
      }
      const always = await open(true);
      try {
        const s = await waitFor(always.p, `${protocol}: the player tells a refused stream`, videoNow, null, (x) => !!x.error, { timeout: 20000 });
        await sleep(300);
        if (s.error !== EXPIRED_MESSAGE) throw new CheckError(`${protocol}: the player says ${JSON.stringify(s.error)}, expected ${JSON.stringify(EXPIRED_MESSAGE)}`);
        return { retry, refused: always.refused(), message: s.error };
      } finally {
        await always.p.close();
      }
    };
    const kept = await page.evaluate(() => localStorage.getItem('slicecast.protocol'));
    try {
      for (const protocol of manifest.assets.dash_mpd && opts.dash ? ['hls', 'dash'] : ['hls']) {
        await step(`signed playback (${protocol}): a refused stream (403) is retried with a fresh grant, then told in a sentence`, async () => {
          signed.expired = { ...signed.expired, [protocol]: await refusedSteps(protocol) };
          return signed.expired[protocol];
        });
      }
    } finally {
      await page.evaluate((p) => (p == null ? localStorage.removeItem('slicecast.protocol') : localStorage.setItem('slicecast.protocol', p)), kept);
    }
  }

  // Every request the browser made under /stream/ so far (this page, the embed pages, the
  // download pages) carried a token.
  await step('signed playback: every /stream/ request carried a token', async () => {
    signed.streamRequests = rec.requests;
    signed.withoutToken = rec.withoutToken.length;
    if (rec.withoutToken.length) signed.withoutTokenPaths = rec.withoutToken.slice(0, 10);
    if (!rec.requests) throw new CheckError('no request under /stream/ was seen');
    if (rec.withoutToken.length) throw new CheckError(`${rec.withoutToken.length} request(s) under /stream/ without a token: ${rec.withoutToken.slice(0, 3).join(', ')}`);
    return { streamRequests: signed.streamRequests, withoutToken: signed.withoutToken };
  });
}
