// What the first bytes of a chosen file say it is, before any of it is uploaded. Only what is
// clearly not a video is refused (text, images, PDF, archives); known video containers and
// anything unrecognised pass, so no valid video is ever turned away. Pure: no DOM.

/** How many bytes of the file's start `sniff` looks at. */
export const SNIFF_BYTES = 4096;

const ascii = (s) => [...s].map((c) => c.charCodeAt(0));

/** Whether `b` holds `sig` at `at` (`null` in `sig` matches any byte). */
function has(b, sig, at = 0) {
  const bytes = typeof sig === 'string' ? ascii(sig) : sig;
  if (b.length < at + bytes.length) return false;
  return bytes.every((x, i) => x === null || b[at + i] === x);
}

const u16le = (b, at) => b[at] | (b[at + 1] << 8);
const u32le = (b, at) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** Video containers and streams: recognised, and always allowed. */
const VIDEO = [
  ['MP4/MOV', (b) => has(b, 'ftyp', 4) || has(b, 'moov', 4) || has(b, 'mdat', 4) || has(b, 'free', 4) || has(b, 'wide', 4) || has(b, 'skip', 4)],
  ['Matroska/WebM', (b) => has(b, [0x1a, 0x45, 0xdf, 0xa3])],
  ['AVI', (b) => has(b, 'RIFF') && has(b, 'AVI ', 8)],
  // Transport streams: a sync byte every 188 bytes (192 with M2TS's 4-byte prefix).
  ['MPEG-TS', (b) => b.length > 188 && b[0] === 0x47 && b[188] === 0x47],
  ['MPEG-TS (M2TS)', (b) => b.length > 196 && b[4] === 0x47 && b[196] === 0x47],
  ['MPEG-PS', (b) => has(b, [0x00, 0x00, 0x01, 0xba])],
  ['MPEG video', (b) => has(b, [0x00, 0x00, 0x01, 0xb3])],
  ['H.264/H.265 stream', (b) => has(b, [0x00, 0x00, 0x00, 0x01]) || (has(b, [0x00, 0x00, 0x01]) && b[3] !== 0x00 && (b[3] & 0x80) === 0)],
  ['FLV', (b) => has(b, 'FLV') && b[3] === 0x01],
  ['ASF/WMV', (b) => has(b, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])],
  ['Ogg', (b) => has(b, 'OggS')],
  ['Y4M', (b) => has(b, 'YUV4MPEG2')],
  ['RealMedia', (b) => has(b, '.RMF')],
  ['3GP/MXF', (b) => has(b, [0x06, 0x0e, 0x2b, 0x34])],
  ['DV', (b) => has(b, [0x1f, 0x07, 0x00])],
  ['IVF', (b) => has(b, 'DKIF')],
];

/** Clearly not a video: [kind, format, test]. */
const NOT_VIDEO = [
  ['image', 'PNG', (b) => has(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['image', 'JPEG', (b) => has(b, [0xff, 0xd8, 0xff])],
  ['image', 'GIF', (b) => has(b, 'GIF87a') || has(b, 'GIF89a')],
  ['image', 'WebP', (b) => has(b, 'RIFF') && has(b, 'WEBP', 8)],
  // BM, a file size, four reserved zero bytes, then a known DIB header size.
  ['image', 'BMP', (b) => has(b, 'BM') && has(b, [0, 0, 0, 0], 6) && [12, 40, 52, 56, 64, 108, 124].includes(u32le(b, 14))],
  ['image', 'TIFF', (b) => has(b, [0x49, 0x49, 0x2a, 0x00]) || has(b, [0x4d, 0x4d, 0x00, 0x2a])],
  // 00 00 01 00 is also an MPEG picture start code: an icon needs a sane count and first entry.
  ['image', 'ICO', (b) => {
    if (!has(b, [0, 0, 1, 0]) || b.length < 22) return false;
    const n = u16le(b, 4);
    return n >= 1 && n <= 256 && b[9] === 0 && u16le(b, 10) <= 1 && [0, 1, 4, 8, 16, 24, 32].includes(u16le(b, 12))
      && u32le(b, 18) === 6 + 16 * n;
  }],
  ['pdf', 'PDF', (b) => has(b, '%PDF-')],
  ['archive', 'ZIP', (b) => has(b, [0x50, 0x4b, 0x03, 0x04]) || has(b, [0x50, 0x4b, 0x05, 0x06]) || has(b, [0x50, 0x4b, 0x07, 0x08])],
  ['archive', 'gzip', (b) => has(b, [0x1f, 0x8b, 0x08])],
  ['archive', '7z', (b) => has(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])],
  ['archive', 'RAR', (b) => has(b, 'Rar!\x1a\x07')],
  ['archive', 'xz', (b) => has(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['archive', 'bzip2', (b) => has(b, 'BZh') && b[3] >= 0x31 && b[3] <= 0x39 && has(b, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4)],
];

/** Whether a code point is what text holds: printable, or tab, line feed, carriage return, form feed. */
const textual = (c) => c === 9 || c === 10 || c === 12 || c === 13 || (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0) && c !== 0xfffd);

/**
 * Whether `b` reads as text: UTF-8 (or ASCII) with no NUL byte and at most 2 % of its
 * characters unprintable or undecodable (the cut at the end may split one character), or
 * UTF-16 with a byte order mark that is mostly ASCII.
 */
export function looksLikeText(b) {
  if (!b.length) return false;
  const bom16 = has(b, [0xff, 0xfe]) ? 'utf-16le' : has(b, [0xfe, 0xff]) ? 'utf-16be' : null;
  if (bom16 && !has(b, [0xff, 0xfe, 0x00, 0x00])) {
    const s = new TextDecoder(bom16).decode(b.subarray(2, b.length - (b.length % 2)));
    if (!s.length) return false;
    let ok = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0);
      if (textual(c) && c < 0x250) ok++;
    }
    return ok / s.length >= 0.95;
  }
  if (b.includes(0)) return false;
  const s = new TextDecoder('utf-8').decode(b);
  let bad = 0;
  let n = 0;
  for (const ch of s) {
    n++;
    if (!textual(ch.codePointAt(0))) bad++;
  }
  // A multi-byte character cut by the end of the slice decodes as one or more U+FFFD.
  const cut = b.length >= SNIFF_BYTES ? 3 : 0;
  return Math.max(0, bad - cut) <= n * 0.02;
}

/**
 * What the first bytes of a file are: `{verdict: 'video'|'unknown', format}` (allowed) or
 * `{verdict: 'text'|'image'|'pdf'|'archive', format}` (refused).
 */
export function sniff(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  for (const [format, test] of VIDEO) if (test(b)) return { verdict: 'video', format };
  for (const [verdict, format, test] of NOT_VIDEO) if (test(b)) return { verdict, format };
  if (looksLikeText(b)) {
    const head = new TextDecoder('utf-8').decode(b.subarray(0, 256)).replace(/^\uFEFF/, '').trimStart();
    let format = 'text';
    if (head.startsWith('#EXTM3U')) format = 'playlist';
    else if (head.startsWith('ffconcat')) format = 'ffconcat list';
    else if (/^<(!doctype html|html)/i.test(head)) format = 'HTML';
    else if (/^<\?xml/i.test(head) && /<MPD[\s>]/.test(head)) format = 'DASH manifest';
    else if (/^WEBVTT/.test(head)) format = 'subtitles';
    else if (/^\d+\r?\n\d\d:\d\d:\d\d,\d{3} --> /.test(head)) format = 'subtitles';
    return { verdict: 'text', format };
  }
  return { verdict: 'unknown', format: null };
}

const KIND_TEXT = {
  playlist: 'a playlist (text that points at videos)',
  'DASH manifest': 'a DASH manifest (text that points at videos)',
  'ffconcat list': 'an ffconcat list (text that points at videos)',
  HTML: 'a web page',
  subtitles: 'a subtitles file',
  text: 'a text file',
};

/** The sentence that refuses a file whose start `sniff` judged `result`, or null when it may be uploaded. */
export function refusal(name, result) {
  const { verdict, format } = result;
  let what;
  if (verdict === 'text') what = KIND_TEXT[format] ?? 'a text file';
  else if (verdict === 'image') what = `${format === 'ICO' ? 'an icon' : 'a picture'} (${format})`;
  else if (verdict === 'pdf') what = 'a PDF document';
  else if (verdict === 'archive') what = `an archive (${format})`;
  else return null;
  const lead = format === 'playlist' || format === 'DASH manifest' || format === 'ffconcat list'
    ? 'Choose the video file itself.'
    : 'Choose a video file (MP4, MOV, MKV, WebM and the like).';
  return `“${name}” is ${what}, not a video, so it was not uploaded. ${lead}`;
}
