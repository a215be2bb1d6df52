// sniff.js: real file signatures (the first bytes of files ffmpeg, gzip, zip... wrote), text
// in its usual shapes, and the refusal sentence.
import assert from 'node:assert/strict';
import { existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { test } from 'node:test';
import { looksLikeText, refusal, sniff, SNIFF_BYTES } from '../../js/sniff.js';

const hex = (s) => Uint8Array.from(s.match(/../g).map((x) => parseInt(x, 16)));
const text = (s) => new TextEncoder().encode(s);

// [name, first bytes (hex), verdict]
const SIGNATURES = [
  ['mp4 (isom)', '000000206674797069736f6d0000020069736f6d69736f32', 'video'],
  ['mp4 (mp42)', '0000001c667479706d703432000000016d7034316d703432', 'video'],
  ['mov', '000000146674797071742020000002007174202000000008', 'video'],
  ['3gp', '0000001c6674797033677034000002003367703469736f6d', 'video'],
  ['mkv', '1a45dfa3a34286810142f7810142f2810442f38108428288', 'video'],
  ['webm', '1a45dfa301000000000000104282857765626d0042878102', 'video'],
  ['avi', '5249464662147c00415649204c495354c00000006864726c', 'video'],
  ['mpeg-ts', '474011100042f0250001c10000ff01ff0001fc8014481201', 'video'],
  ['m2ts', '0ebf4622474011100042f0250001c10000ff01ff0001fc80', 'video'],
  ['mpeg-ps', '000001ba2100010001c33367000001bb0009c333670021ff', 'video'],
  ['flv', '464c5601010000000900000000120000b800000000000000', 'video'],
  ['asf/wmv', '3026b2758e66cf11a6d900aa0062ce6c5302000000000000', 'video'],
  ['ogg', '4f676753000200000000000000005fa505590000000053ff', 'video'],
  ['h264 annex b', '000000016764000aacd9447b0110000003001000000300a0', 'video'],
  ['hevc annex b', '0000000140010c01ffff0160000003009000000300000300', 'video'],
  ['ivf (vp8)', '444b49460000200056503830400030000500000001000000', 'video'],
  ['y4m', '595556344d5045473220573634204834382046353a312049', 'video'],
  ['png', '89504e470d0a1a0a0000000d494844520000002000000020', 'image'],
  ['jpeg', 'ffd8ffe000104a46494600010200000100010000fffe0010', 'image'],
  ['gif', '47494638396120002000f71f310000002400004800006c00', 'image'],
  ['webp', '52494646060200005745425056503820fa010000b00c009d', 'image'],
  ['bmp', '424d360c0000000000003600000028000000200000002000', 'image'],
  ['tiff (little-endian)', '49492a00280a0000f50009ff0000ff0000ff0000fffe0015', 'image'],
  ['tiff (big-endian)', '4d4d002a000000080012010000030000000100200000', 'image'],
  ['ico', '0000010001002020000001001800c40c0000160000002800', 'image'],
  ['pdf', '255044462d312e370a25b5b5b5b50a312030206f626a0a', 'pdf'],
  ['zip', '504b03041400000000005287855df9efbe71010000000100', 'archive'],
  ['gzip', '1f8b0808bd42146b0003742e74787400cbc8e402007a7a6f', 'archive'],
  ['7z', '377abcaf271c000438e1c1a40600000000000000', 'archive'],
  ['rar', '526172211a0701003392b5e50a01050600050101808000', 'archive'],
  ['xz', 'fd377a585a000004e6d6b4460200210116000000742fe5a3', 'archive'],
  ['bzip2', '425a68393141592653591d5e59d5000000c1000010006020', 'archive'],
  ['unknown binary', '00ff13a8000000007f3310c0dead00beef', 'unknown'],
  // 00 00 01 00 is an MPEG picture start code too: not an icon without a sane directory.
  ['mpeg picture start code', '000001000fff00ffc0000000000000000000000000000000', 'unknown'],
];

// A transport stream is told by its sync bytes 188 bytes apart: only the padded test has them.
const PADDED_ONLY = new Set(['mpeg-ts', 'm2ts']);

test('sniff: real signatures', () => {
  for (const [name, h, verdict] of SIGNATURES.filter((s) => !PADDED_ONLY.has(s[0]))) {
    assert.equal(sniff(hex(h)).verdict, verdict, name);
  }
});

test('sniff: a video header followed by binary up to 4 KiB stays a video', () => {
  for (const [name, h, verdict] of SIGNATURES.filter((s) => s[2] === 'video')) {
    const b = new Uint8Array(SNIFF_BYTES);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) % 256;
    b.set(hex(h));
    if (name === 'mpeg-ts') b[188] = 0x47;
    if (name === 'm2ts') b[196] = 0x47;
    assert.equal(sniff(b).verdict, verdict, name);
  }
});

// [name, text, format]
const TEXTS = [
  ['HLS playlist', '#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:4.0,\nseg0.ts\n', 'playlist'],
  ['playlist with a BOM', '\uFEFF#EXTM3U\n#EXTINF:-1,Radio\nhttp://x/y\n', 'playlist'],
  ['ffconcat', "ffconcat version 1.0\nfile 'a.mp4'\nfile 'b.mp4'\n", 'ffconcat list'],
  ['HTML', '<!DOCTYPE html>\n<html><head><title>x</title></head><body>héllo</body></html>', 'HTML'],
  ['JSON', '{"video_id": "abc", "status": "processing_complete", "rungs": [1, 2, 3]}\n', 'text'],
  ['SRT', '1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye.\r\n', 'subtitles'],
  ['WebVTT', 'WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n', 'subtitles'],
  ['MPD', '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', 'DASH manifest'],
  ['plain UTF-8 prose', 'Ça va ? Übergrößenträger — 日本語のテキスト. Tabs\tand lines\n', 'text'],
  ['one short line', 'hello', 'text'],
];

test('sniff: text is refused as text', () => {
  for (const [name, s, format] of TEXTS) {
    assert.deepEqual(sniff(text(s)), { verdict: 'text', format }, name);
  }
});

test('sniff: long text cut in the middle of a multi-byte character is still text', () => {
  const b = text('é'.repeat(SNIFF_BYTES)).subarray(0, SNIFF_BYTES - 1);
  assert.equal(sniff(b).verdict, 'text');
});

test('looksLikeText: UTF-16 with a BOM, and what is not text', () => {
  const le = new Uint8Array([0xff, 0xfe, ...[...'1\n00:00:01,000 --> x\n'].flatMap((c) => [c.charCodeAt(0), 0])]);
  assert.equal(looksLikeText(le), true);
  assert.equal(looksLikeText(new Uint8Array([0xff, 0xfe, 0x12, 0x9c, 0x44, 0xe1, 0x03, 0xb7])), false);
  assert.equal(looksLikeText(text('mostly text\x01\x02\x03\x04\x05\x06')), false);
  assert.equal(looksLikeText(new Uint8Array([0x41, 0x42, 0, 0x43])), false);
  assert.equal(looksLikeText(new Uint8Array(0)), false);
});

test('sniff: the test media are all allowed', () => {
  const dir = '/work/shared/media';
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((n) => /\.(mp4|mkv|webm|avi|mpg|mov|ts|flv)$/.test(n))) {
    const b = new Uint8Array(SNIFF_BYTES);
    const fd = openSync(`${dir}/${f}`, 'r');
    const n = readSync(fd, b, 0, SNIFF_BYTES, 0);
    assert.equal(refusal(f, sniff(b.subarray(0, n))), null, f);
  }
});

test('refusal: a plain sentence for what is refused, null for the rest', () => {
  assert.equal(refusal('notes.txt', { verdict: 'text', format: 'text' }),
    '“notes.txt” is a text file, not a video, so it was not uploaded. Choose a video file (MP4, MOV, MKV, WebM and the like).');
  assert.equal(refusal('live.m3u8', { verdict: 'text', format: 'playlist' }),
    '“live.m3u8” is a playlist (text that points at videos), not a video, so it was not uploaded. Choose the video file itself.');
  assert.match(refusal('cat.png', { verdict: 'image', format: 'PNG' }), /is a picture \(PNG\), not a video/);
  assert.match(refusal('a.pdf', { verdict: 'pdf', format: 'PDF' }), /is a PDF document, not a video/);
  assert.match(refusal('a.zip', { verdict: 'archive', format: 'ZIP' }), /is an archive \(ZIP\), not a video/);
  assert.equal(refusal('a.mp4', { verdict: 'video', format: 'MP4/MOV' }), null);
  assert.equal(refusal('a.bin', { verdict: 'unknown', format: null }), null);
});
