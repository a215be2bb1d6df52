// share.js: the shared URLs, the embed snippet, the embed player's id and state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embedId, embedSnippet, embedState, escapeAttr, shareLinks } from '../../js/share.js';

const O = 'http://127.0.0.1:8080';
const item = {
  video_id: 'abc123', base_name: 'My "clip" <1>', hls_url: '/stream/abc123/hls/master.m3u8',
  dash_url: '/stream/abc123/dash/manifest.mpd', width: 1280, height: 720,
};

test('shareLinks: absolute URLs, the snippet and the page link', () => {
  const s = shareLinks(O, item);
  assert.equal(s.hls, `${O}/stream/abc123/hls/master.m3u8`);
  assert.equal(s.dash, `${O}/stream/abc123/dash/manifest.mpd`);
  assert.equal(s.link, `${O}/#v=abc123`);
  assert.equal(s.embed, `<iframe src="${O}/embed/abc123" width="640" height="360" title="My &quot;clip&quot; &lt;1&gt;" `
    + 'style="border:0;max-width:100%" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>');
});

test('shareLinks: URLs already absolute (a public base URL) stay; no DASH is null', () => {
  const s = shareLinks(O, { ...item, hls_url: 'https://cdn.example.com/stream/abc123/hls/master.m3u8', dash_url: null });
  assert.equal(s.hls, 'https://cdn.example.com/stream/abc123/hls/master.m3u8');
  assert.equal(s.dash, null);
});

test('embedSnippet: the height follows the video shape', () => {
  assert.match(embedSnippet(O, 'x', { width: 720, height: 1280 }), /width="640" height="1138"/);
  assert.match(embedSnippet(O, 'x', {}), /width="640" height="360"/);
  assert.equal(escapeAttr('a&b'), 'a&amp;b');
});

test('embedId: from /embed/<id>', () => {
  const cases = [
    ['/embed/abc123', 'abc123'], ['/embed/abc123/', 'abc123'], ['/embed/a.b-c_d', 'a.b-c_d'],
    ['/embed/', null], ['/embed/a/b', null], ['/web/embed.html', null], ['/embed/%E0%A4%A', null], ['/embed/a%20b', null],
  ];
  for (const [p, want] of cases) assert.equal(embedId(p), want, p);
});

test('embedState: plays what is ready, a sentence otherwise', () => {
  const done = { status: 'processing_complete', assets: { hls_master: 'v/hls/master.m3u8', poster: 'v/poster.jpg' }, source: { name: 'a.mp4' } };
  assert.deepEqual(embedState(200, done, 'v'), { play: { src: '/stream/v/hls/master.m3u8', poster: '/stream/v/poster.jpg', title: 'a.mp4' } });
  assert.deepEqual(embedState(200, { status: 'processing', playable: true, assets: { hls_master: 'v/hls/master.m3u8' } }, 'v').play.poster, null);
  assert.deepEqual(embedState(200, { status: 'processing_complete' }, 'v').play.src, '/stream/v/hls/master.m3u8');
  assert.match(embedState(200, { status: 'processing', playable: false }, 'v').message, /not ready yet/);
  assert.match(embedState(202, null, 'v').message, /not ready yet/);
  assert.match(embedState(404, null, 'v').message, /does not exist/);
  assert.match(embedState(200, { status: 'processing_failed' }, 'v').message, /could not be processed/);
});
