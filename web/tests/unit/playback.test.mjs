// Signed playback in the page: stream URLs under the manifest's playback grant
// (`playback.stream_base`, web/js/api.js and items.js), the token an embed link passes on
// (`?t=`, web/js/share.js, checked against an allow-list), and the HTTP status of a player's
// error (web/js/player/engines.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamBase, streamUrl, tokenBase, urlToken, validToken } from '../../js/api.js';
import { downloadItems, itemFromManifest, subtitleItems } from '../../js/items.js';
import { httpStatus } from '../../js/player/engines.js';
import { embedSnippet, embedState, embedToken, embedUrl, shareLinks } from '../../js/share.js';

const ID = 'a'.repeat(32);
const TOKEN = `1767225600.${'0123456789abcdef'.repeat(2)}`;
const BASE = `/stream/t/${TOKEN}/`;
const O = 'http://127.0.0.1:8080';

const manifest = (playback) => ({
  video_id: ID,
  status: 'processing_complete',
  source: { name: 'clip.mp4', width: 1280, height: 720 },
  assets: {
    hls_master: `processed/${ID}/hls/master.m3u8`,
    dash_mpd: `processed/${ID}/dash/manifest.mpd`,
    poster: `processed/${ID}/thumbnails/poster.jpg`,
    thumbnails_vtt: `processed/${ID}/thumbnails/thumbnails.vtt`,
  },
  subtitles: [{ lang: 'en', name: 'English', vtt: `processed/${ID}/subtitles/en.vtt`, srt: `processed/${ID}/subtitles/en.srt` }],
  downloads: [{ kind: 'mp4', key: `processed/${ID}/download/720p.mp4`, bytes: 10 }],
  ...(playback ? { playback } : {}),
});
const GRANT = { video_id: ID, token: TOKEN, expires_at: '2026-01-01T00:00:00Z', stream_base: BASE, hls_url: `${BASE}processed/${ID}/hls/master.m3u8`, dash_url: null };

test('streamBase: the grant\'s stream_base, else /stream/', () => {
  assert.equal(streamBase(manifest(GRANT)), BASE);
  assert.equal(streamBase(manifest()), '/stream/');
  assert.equal(streamBase(null), '/stream/');
  assert.equal(streamBase({ playback: { stream_base: 'https://cdn.example.com/stream/t/1.ab/' } }), 'https://cdn.example.com/stream/t/1.ab/');
  // Not a prefix (no trailing slash), or not a string: the plain base.
  assert.equal(streamBase({ playback: { stream_base: '/stream/t/1.ab' } }), '/stream/');
  assert.equal(streamBase({ playback: { stream_base: null } }), '/stream/');
});

test('streamUrl: the key under the base; /stream/<key> without one; null without a key', () => {
  assert.equal(streamUrl('processed/x/hls/master.m3u8'), '/stream/processed/x/hls/master.m3u8');
  assert.equal(streamUrl('processed/x/hls/master.m3u8', BASE), `${BASE}processed/x/hls/master.m3u8`);
  assert.equal(streamUrl(null, BASE), null);
  assert.equal(streamUrl('', BASE), null);
});

test('itemFromManifest: every URL under the grant\'s stream_base', () => {
  const item = itemFromManifest(manifest(GRANT));
  for (const k of ['hls_url', 'dash_url', 'thumbnail_url', 'sprite']) assert.ok(item[k].startsWith(BASE), `${k}: ${item[k]}`);
  assert.equal(item.hls_url, `${BASE}processed/${ID}/hls/master.m3u8`);
  assert.equal(item.thumbnail_url, `${BASE}processed/${ID}/thumbnails/poster.jpg`);
  assert.deepEqual(item.subtitles, [{ lang: 'en', name: 'English', url: `${BASE}processed/${ID}/subtitles/en.vtt`, srt_url: `${BASE}processed/${ID}/subtitles/en.srt` }]);
  assert.deepEqual(item.downloads, [{ kind: 'mp4', url: `${BASE}processed/${ID}/download/720p.mp4`, bytes: 10 }]);
});

test('itemFromManifest: without a grant, /stream/<key> as before', () => {
  const item = itemFromManifest(manifest());
  assert.equal(item.hls_url, `/stream/processed/${ID}/hls/master.m3u8`);
  assert.equal(item.dash_url, `/stream/processed/${ID}/dash/manifest.mpd`);
  assert.equal(item.sprite, `/stream/processed/${ID}/thumbnails/thumbnails.vtt`);
  assert.equal(item.subtitles[0].url, `/stream/processed/${ID}/subtitles/en.vtt`);
  assert.equal(item.downloads[0].url, `/stream/processed/${ID}/download/720p.mp4`);
});

test('subtitleItems, downloadItems: under the base given; URLs a list already has stay', () => {
  assert.equal(subtitleItems([{ lang: 'de', vtt: 'k.vtt' }], BASE)[0].url, `${BASE}k.vtt`);
  assert.equal(subtitleItems([{ lang: 'de', vtt: 'k.vtt' }])[0].url, '/stream/k.vtt');
  assert.equal(subtitleItems([{ lang: 'de', url: '/stream/t/9.9/k.vtt', vtt: 'k.vtt' }], BASE)[0].url, '/stream/t/9.9/k.vtt');
  assert.equal(downloadItems([{ kind: 'm4a', key: 'a.m4a', bytes: 1 }], BASE)[0].url, `${BASE}a.m4a`);
});

test('validToken: hex digits and dots only, never only dots, at most 64 characters', () => {
  for (const ok of [TOKEN, '12.ab', 'ABCDEF', '1', 'a.b.c']) assert.equal(validToken(ok), ok, ok);
  for (const bad of ['', '.', '..', '...', 'x', '12.zz', '1/2', '1%2e', '../x', '1 2', '1?x', 'a'.repeat(65), null, undefined, 12]) {
    assert.equal(validToken(bad), null, String(bad));
  }
  assert.equal(tokenBase(TOKEN), BASE);
  assert.equal(tokenBase('..'), '/stream/');
  assert.equal(tokenBase(null), '/stream/');
});

test('urlToken: the token of a signed stream URL', () => {
  assert.equal(urlToken(`${BASE}processed/${ID}/hls/master.m3u8`), TOKEN);
  assert.equal(urlToken(`https://cdn.example.com${BASE}processed/x`), TOKEN);
  assert.equal(urlToken(`/stream/processed/${ID}/hls/master.m3u8`), null);
  assert.equal(urlToken('/stream/t/../processed/x'), null);
  assert.equal(urlToken(null), null);
});

test('embedToken: ?t= when it is a token, null otherwise', () => {
  const cases = [
    [`?t=${TOKEN}`, TOKEN], [`t=${TOKEN}`, TOKEN], [`?x=1&t=${TOKEN}`, TOKEN], ['?t=12.AB', '12.AB'],
    ['', null], ['?', null], ['?t=', null], ['?t=..', null], ['?t=.', null], ['?t=%2e%2e', null],
    ['?t=..%2F..%2Fapi', null], ['?t=abc%2Fdef', null], ['?t=12.ab%20', null], ['?t=<script>', null],
    [`?t=${'a'.repeat(65)}`, null], ['?T=12.ab', null], [null, null], [undefined, null],
  ];
  for (const [search, want] of cases) assert.equal(embedToken(search), want, String(search));
});

test('shareLinks: signed URLs keep their token; the embed link passes it on as ?t=', () => {
  const item = itemFromManifest(manifest(GRANT));
  const s = shareLinks(O, item);
  assert.equal(s.hls, `${O}${BASE}processed/${ID}/hls/master.m3u8`);
  assert.equal(s.dash, `${O}${BASE}processed/${ID}/dash/manifest.mpd`);
  assert.ok(s.embed.includes(`src="${O}/embed/${ID}?t=${TOKEN}"`), s.embed);
  assert.equal(s.link, `${O}/#v=${ID}`);
  // Without signed playback: no ?t=.
  assert.ok(shareLinks(O, itemFromManifest(manifest())).embed.includes(`src="${O}/embed/${ID}"`));
  assert.equal(embedUrl(O, ID, TOKEN), `${O}/embed/${ID}?t=${TOKEN}`);
  assert.equal(embedUrl(O, ID, '../x'), `${O}/embed/${ID}`);
  assert.ok(embedSnippet(O, ID, { token: 'zz' }).includes(`src="${O}/embed/${ID}"`));
});

test('embedState: the grant of /status first, else the ?t= token, else /stream/', () => {
  const m = manifest();
  assert.deepEqual(embedState(200, m, ID, TOKEN).play, {
    src: `${BASE}processed/${ID}/hls/master.m3u8`, poster: `${BASE}processed/${ID}/thumbnails/poster.jpg`, title: 'clip.mp4',
  });
  const fresh = { ...GRANT, stream_base: '/stream/t/99.ff/' };
  assert.equal(embedState(200, { ...m, playback: fresh }, ID, TOKEN).play.src, `/stream/t/99.ff/processed/${ID}/hls/master.m3u8`);
  assert.equal(embedState(200, m, ID, null).play.src, `/stream/processed/${ID}/hls/master.m3u8`);
  assert.equal(embedState(200, m, ID, '..').play.src, `/stream/processed/${ID}/hls/master.m3u8`);
  assert.equal(embedState(200, { status: 'processing_complete' }, 'v', TOKEN).play.src, `${BASE}v/hls/master.m3u8`);
});

test('httpStatus: from the engines\' errors and Shaka\'s BAD_HTTP_STATUS', () => {
  assert.equal(httpStatus(Object.assign(new Error('x'), { status: 403 })), 403);
  assert.equal(httpStatus({ code: 1001, data: ['https://x/master.m3u8', 403, '{}'] }), 403);
  assert.equal(httpStatus({ code: 1002, data: ['u'] }), null);
  assert.equal(httpStatus(new Error('x')), null);
  assert.equal(httpStatus(null), null);
});
