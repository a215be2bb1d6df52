// What a video is shared by: its HLS master and DASH MPD URLs, an embed snippet for the
// player at /embed/<id>, and a link to it on this page (/#v=<id>). Pure: the caller passes the
// page's origin. Also the files a video is downloaded as (`downloadLinks`).
// With signed playback the URLs carry the video's playback token (`/stream/t/<token>/…`) and
// the embed player's URL passes it on as `?t=<token>`: its viewers have no API key of their own.
import { streamBase, streamUrl, tokenBase, urlToken, validToken } from './api.js';
import { fmtBytes } from './format.js';

/** `s` with the characters that matter in an HTML attribute escaped. */
export function escapeAttr(s) {
  return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The embed player's URL of video `id`, with its playback token (`?t=`) when it has a valid one. */
export function embedUrl(origin, id, token = null) {
  const t = validToken(token);
  return `${origin}/embed/${encodeURIComponent(id)}${t ? `?t=${t}` : ''}`;
}

/** An `<iframe>` of the embed player, 640 px wide and as tall as the video's shape wants. */
export function embedSnippet(origin, id, { title = 'Video', width, height, token = null } = {}) {
  const w = 640;
  const h = width > 0 && height > 0 ? Math.round((w * height) / width) : 360;
  return `<iframe src="${escapeAttr(embedUrl(origin, id, token))}" width="${w}" height="${h}" title="${escapeAttr(title)}" `
    + 'style="border:0;max-width:100%" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>';
}

/**
 * The four things a video is shared by, as absolute URLs (`hls`, `dash` null when the video
 * has none; with signed playback they carry the token), `embed` (the snippet; its URL passes
 * the token on as `?t=`) and `link` (this page with the video open: the page gets its own).
 */
export function shareLinks(origin, item) {
  const abs = (u) => (u ? new URL(u, `${origin}/`).href : null);
  const id = item.video_id;
  const token = urlToken(item.hls_url) ?? urlToken(item.dash_url);
  return {
    hls: abs(item.hls_url),
    dash: abs(item.dash_url),
    embed: embedSnippet(origin, id, { title: item.base_name || item.file_name || id, width: item.width, height: item.height, token }),
    link: `${origin}/#v=${encodeURIComponent(id)}`,
  };
}

/** The video id of an embed player's path (`/embed/<id>`, a trailing slash allowed); null otherwise. */
export function embedId(pathname) {
  const m = /^\/embed\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    const id = decodeURIComponent(m[1]);
    return /^[0-9A-Za-z._-]+$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * The playback token of an embed player's query string (`?t=<token>`), when it is one (hex
 * digits and dots, `validToken`); null otherwise.
 */
export function embedToken(search) {
  let t = null;
  try {
    t = new URLSearchParams(search ?? '').get('t');
  } catch {
    return null;
  }
  return validToken(t);
}

/**
 * What the embed player does with a `/status/<id>` answer: `{play: {src, poster}}` when the
 * video plays (complete, or its start while it encodes), else `{message}`, a plain sentence.
 * URLs are under the answer's playback grant, else under the embed link's `token` (`?t=`:
 * a viewer of an embed has no API key, so /status gives it none), else under `/stream/`.
 */
export function embedState(code, m, id, token = null) {
  if (code === 404) return { message: 'This video does not exist (any more).' };
  if (code !== 200 || !m) return { message: 'This video is not ready yet. Try again in a minute.' };
  if (m.status === 'processing_failed') return { message: 'This video could not be processed, so it cannot be played.' };
  const ready = m.status === 'processing_complete' || (m.status === 'processing' && m.playable === true);
  if (!ready) return { message: 'This video is not ready yet. Try again in a minute.' };
  const base = m.playback ? streamBase(m) : tokenBase(token);
  const master = streamUrl(m.assets?.hls_master, base) ?? `${base}${encodeURIComponent(id)}/hls/master.m3u8`;
  return { play: { src: master, poster: streamUrl(m.assets?.poster, base), title: m.source?.name ?? null } };
}

/** What each kind of download is called, and the extension its file gets. */
const DOWNLOAD_KINDS = {
  mp4: { what: 'Video', ext: 'mp4' },
  m4a: { what: 'Audio only', ext: 'm4a' },
};

/**
 * A file name the browser may save as: `base` without path separators, control characters
 * or the characters Windows refuses, trimmed; `fallback` when nothing is left.
 */
export function safeFileName(base, fallback = 'video') {
  // eslint-disable-next-line no-control-regex
  const s = String(base ?? '').replace(/[\u0000-\u001f\u007f\\/:*?"<>|]+/g, '_').replace(/^[\s.]+|[\s.]+$/g, '');
  return s || fallback;
}

/**
 * The downloads of a library item (`item.downloads`: [{kind, url, bytes}]) as links: `href`,
 * `name` (the `download` attribute: the video's base name plus the kind's extension) and
 * `label` ("Video (MP4, 7.4 MB)"); the video first, then the audio; [] when there are none.
 */
export function downloadLinks(item) {
  const base = safeFileName(item?.base_name || String(item?.file_name ?? '').replace(/\.[^.]+$/, '') || item?.video_id);
  const order = Object.keys(DOWNLOAD_KINDS);
  return (item?.downloads ?? [])
    .filter((d) => d?.url && DOWNLOAD_KINDS[d.kind])
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
    .map((d) => {
      const { what, ext } = DOWNLOAD_KINDS[d.kind];
      const size = fmtBytes(Number(d.bytes));
      return {
        kind: d.kind,
        href: d.url,
        name: `${base}.${ext}`,
        bytes: d.bytes,
        label: `${what} (${ext.toUpperCase()}${size ? `, ${size}` : ''})`,
      };
    });
}
