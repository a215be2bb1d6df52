// What the browser tests share (web/tests/page.mjs, the page against `slicecast serve`, and
// tests/players/play.mjs, the players against a folder of output): headless Chromium through
// playwright-core, collecting a page's errors, polling the page, and a static file server.
//
// playwright-core is not imported here: each caller passes the `chromium` of its own
// node_modules (web/ and tests/players/ install their own), so this file needs only node.
import { mkdtempSync, rmSync, promises as fs, createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The Chromium to drive: $CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Chromium's flags: headless, no sandbox or GPU, no network of its own, autoplay allowed. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `x` rounded to `d` decimals; anything not a number as it is. */
export const round = (x, d = 3) => (typeof x === 'number' ? Math.round(x * 10 ** d) / 10 ** d : x);

/**
 * Chromium with a fresh profile in a temporary folder (`profilePrefix` names it): `{context,
 * close}`, where `close()` closes the browser and removes the profile. `headless: false` shows
 * the window.
 */
export async function launchChromium(chromium, {
  executablePath = CHROMIUM, headless = true, viewport, profilePrefix = 'slicecast-chromium-',
} = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), profilePrefix));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless,
      viewport,
      args: CHROMIUM_ARGS.filter((a) => headless || a !== '--headless'),
      timeout: 30000,
    });
  } catch (err) {
    removeProfile();
    throw err;
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      removeProfile();
    },
  };
}

/** The browser's product string (e.g. HeadlessChrome/156.0.8078.79), asked through `page` or a page of its own. */
export async function getBrowserVersion(context, page = null) {
  const probe = page ?? await context.newPage();
  const cdp = await context.newCDPSession(probe);
  const { product } = await cdp.send('Browser.getVersion');
  if (page) await cdp.detach();
  else await probe.close();
  return product;
}

/**
 * Records `page`'s console errors (with their source location) into `consoleErrors` and its
 * uncaught exceptions, after `pagePrefix`, into `pageErrors`; each cut to 500 characters.
 */
export function collectErrors(page, consoleErrors, pageErrors = consoleErrors, pagePrefix = '') {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`.slice(0, 500));
  });
  page.on('pageerror', (err) => pageErrors.push(`${pagePrefix}${err.message}`.slice(0, 500)));
}

/** Records each HTTP response of `page` with a status of 400 or more: "STATUS [METHOD ]PATH" (the URL less `base`). */
export function collectHttpErrors(page, base, httpErrors, { method = false } = {}) {
  page.on('response', (resp) => {
    if (resp.status() < 400) return;
    const verb = method ? `${resp.request().method()} ` : '';
    httpErrors.push(`${resp.status()} ${verb}${resp.url().replace(base, '')}`);
  });
}

/** A check that failed: its message is the whole report (no stack). */
export class CheckError extends Error {}

/** Polls `fn(arg)` in the page until `ok(value)`; returns the value or throws with the last one. */
export async function waitFor(page, what, fn, arg, ok, { timeout = 30000, interval = 150 } = {}) {
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

// ---------------------------------------------------------------- static server
export const MIME = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.ts': 'video/mp2t',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt',
  '.webvtt': 'text/vtt',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.json': 'application/json',
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
};

/** Resolves a URL path under root; null if it escapes root. */
export function under(root, urlPath) {
  const p = path.resolve(root, '.' + path.posix.normalize('/' + urlPath));
  return p === root || p.startsWith(root + path.sep) ? p : null;
}

/** Answers `req` with `file` (404 when it is not a file), honouring one byte range. */
export async function serveFile(req, res, file) {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    st = null;
  }
  if (!st || !st.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const size = st.size;
  const headers = {
    'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-store',
    'Last-Modified': st.mtime.toUTCString(),
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  // One byte range (bytes=a-b, bytes=a-, bytes=-n); several ranges are answered with the whole file.
  const m = /^bytes=(\d*)-(\d*)$/.exec((req.headers.range ?? '').trim());
  if (m && (m[1] !== '' || m[2] !== '')) {
    if (m[1] === '') {
      start = Math.max(0, size - Number(m[2]));
    } else {
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(end, Number(m[2]));
    }
    if (start >= size || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' }).end();
      return;
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/**
 * A static HTTP server on 127.0.0.1 at a free port, for GET and HEAD (anything else: 405).
 * `route(urlPath)` maps the decoded URL path to a file path (served by `serveFile`), to `null`
 * (403), or to `{ body, type }` (200, not cached). Resolves to the listening server.
 */
export function startStaticServer(route) {
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const target = route(urlPath);
      if (target && typeof target === 'object') {
        res.writeHead(200, { 'Content-Type': target.type, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : target.body);
        return;
      }
      if (!target) {
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden\n');
        return;
      }
      await serveFile(req, res, target);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
