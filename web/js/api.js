// Requests to the page's own server (the slicecast API).
import { LS } from './util.js';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const getApiKey = () => localStorage.getItem(LS.apiKey) ?? '';

/** JSON request to the API. Requests carry the API key when one is set (mutating routes and the resume route need it). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const key = getApiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Is slicecast serve running?');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    let msg = data?.message || data?.error || `${res.status} ${res.statusText}`;
    if (res.status === 401) {
      msg = key
        ? 'The server refused the API key (401 Unauthorized). Check the key in Settings.'
        : 'This server needs an API key (401 Unauthorized). Enter it in Settings.';
    }
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

/** GET /status/<id>: {code, body}; 200 = manifest, 202 = uploaded, 404 = not found. With the
 * API key (when one is set) the server adds the video's playback grant (`body.playback`, with
 * signed playback on). */
export async function fetchStatus(id) {
  const headers = { Accept: 'application/json' };
  const key = getApiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`/status/${encodeURIComponent(id)}`, { cache: 'no-store', headers });
  let body = null;
  try { body = await res.json(); } catch { /* empty */ }
  return { code: res.status, body };
}

/** Where a stored object is served without a playback token. */
export const PLAIN_BASE = '/stream/';

/**
 * The prefix of a video's asset keys: the manifest's playback grant (`/stream/t/<token>/`,
 * signed playback) when it has one, else `/stream/`.
 */
export function streamBase(m) {
  const b = m?.playback?.stream_base;
  return typeof b === 'string' && b.endsWith('/') ? b : PLAIN_BASE;
}

/** The URL of a stored object (a manifest's asset key) under `base`; null without a key. */
export const streamUrl = (key, base = PLAIN_BASE) => (key ? `${base}${key}` : null);

/**
 * A playback token as it may go into a path (`/stream/t/<token>/`): hex digits and dots only
 * (at least one digit, so never `.` or `..`), at most 64 characters; null otherwise.
 */
export function validToken(t) {
  return typeof t === 'string' && /^[0-9A-Fa-f.]{1,64}$/.test(t) && /[0-9A-Fa-f]/.test(t) ? t : null;
}

/** The stream base of a playback token (`/stream/t/<token>/`); `/stream/` without a valid one. */
export const tokenBase = (token) => (validToken(token) ? `${PLAIN_BASE}t/${token}/` : PLAIN_BASE);

/** The playback token a stream URL carries (`…/stream/t/<token>/…`); null when none. */
export function urlToken(url) {
  const m = /\/stream\/t\/([^/?#]+)\//.exec(String(url ?? ''));
  return m ? validToken(m[1]) : null;
}

/** What the player says when the server refuses a stream with 403 (its token expired). */
export const EXPIRED_MESSAGE = 'This playback link has expired. Reload the page.';

/** What the player says when the server refuses a stream with 403 and the page has no token. */
export const SIGNED_ONLY_MESSAGE = 'This server plays videos only through signed links. Enter the API key in Settings, then reload the page.';
