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

/** GET /status/<id>: {code, body}; 200 = manifest, 202 = uploaded, 404 = not found. */
export async function fetchStatus(id) {
  const res = await fetch(`/status/${encodeURIComponent(id)}`, { cache: 'no-store', headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { /* empty */ }
  return { code: res.status, body };
}

/** The URL of a stored object (a manifest's asset key); null without a key. */
export const streamUrl = (key) => (key ? `/stream/${key}` : null);
