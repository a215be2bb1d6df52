// Pure formatting of sizes, times and names for the page (no DOM; node imports it).

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** A media position: m:ss, or h:mm:ss from an hour on; anything not a time is 0:00. */
export function fmtTime(s) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  s = Math.floor(s);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A length of media: rounded, and never "0:00" for a non-empty clip. */
export const fmtDuration = (d) => fmtTime(d > 0 ? Math.max(1, Math.round(d)) : 0);

/** Time left, from seconds; '' when unknown. */
export function fmtEta(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 1) return 'less than a second left';
  if (s < 60) return `${Math.ceil(s)} s left`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s left`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min left`;
}

/** How long ago an ISO time was ('just now', '5 min ago', …); '' when it does not parse. */
export function fmtAge(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 5400) return '1 h ago';
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 2 * 86400) return 'yesterday';
  if (s < 30 * 86400) return `${Math.round(s / 86400)} days ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** A rendition's name from its size: the shorter side, e.g. 720p. */
export const rungName = (w, h) => (w && h ? `${Math.min(w, h)}p` : h ? `${h}p` : '?');

/** A language's name in the browser's language ('en' -> 'English'); the code when unknown. */
export function languageName(code) {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([globalThis.navigator?.language || 'en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * A file name cut into pieces after its separators (`_`, `-`, `.`, spaces): between them a
 * line may break, so a long name wraps at a separator rather than inside a word.
 */
export function namePieces(name) {
  return String(name ?? '').split(/(?<=[_.\-\s])/).filter(Boolean);
}
