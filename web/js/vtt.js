// The sprite thumbnails track (thumbnails.vtt): parsing, and the cue for a time. Pure (node
// imports it).

/** Seconds from a WebVTT timestamp ([hh:]mm:ss[.fff]); NaN when it is not one. */
export function parseVttTime(s) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$/.exec(s.trim());
  if (!m) return NaN;
  return (Number(m[1] ?? 0) * 3600) + Number(m[2]) * 60 + Number(m[3]);
}

/**
 * Cues of a thumbnails track: [{start, end, url, x, y, w, h}], URLs resolved against the VTT's
 * (itself resolved against `pageUrl`, the page's address by default); x/y/w/h only where the
 * cue has an `#xywh=` fragment.
 */
export function parseThumbnailsVtt(text, vttUrl, pageUrl = globalThis.location?.href) {
  const base = new URL(vttUrl, pageUrl);
  const cues = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes('-->')) continue;
    const [a, b] = line.split('-->');
    const start = parseVttTime(a);
    const end = parseVttTime(b.trim().split(/\s+/)[0]);
    const payload = (lines[i + 1] ?? '').trim();
    if (!Number.isFinite(start) || !Number.isFinite(end) || !payload) continue;
    const [path, frag = ''] = payload.split('#');
    const xywh = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag);
    cues.push({
      start, end,
      url: new URL(path, base).href,
      ...(xywh ? { x: +xywh[1], y: +xywh[2], w: +xywh[3], h: +xywh[4] } : {}),
    });
  }
  return cues;
}

/**
 * The cue of sorted, non-overlapping `cues` that covers time `t` (start inclusive, end
 * exclusive); in a gap or outside them, the nearest one after (or the last); null when empty.
 */
export function cueAt(cues, t) {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < cues[mid].start) hi = mid - 1;
    else if (t >= cues[mid].end) lo = mid + 1;
    else return cues[mid];
  }
  return cues.length ? cues[Math.min(Math.max(lo, 0), cues.length - 1)] : null;
}
