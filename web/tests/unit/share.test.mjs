// share.js: the shared URLs, the embed snippet, the embed player's id and state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downloadLinks, embedId, embedSnippet, embedState, escapeAttr, safeFileName, shareLinks } from '../../js/share.js';

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

test('downloadLinks: the video then the audio, named after the video, sizes in words', () => {
  const downloads = [
    { kind: 'm4a', url: '/stream/processed/v1/download/audio.m4a', bytes: 812345 },
    { kind: 'mp4', url: '/stream/processed/v1/download/720p.mp4', bytes: 7412345 },
  ];
  assert.deepEqual(downloadLinks({ video_id: 'v1', base_name: 'Sintel Trailer', downloads }), [
    { kind: 'mp4', href: '/stream/processed/v1/download/720p.mp4', name: 'Sintel Trailer.mp4', bytes: 7412345, label: 'Video (MP4, 7.4 MB)' },
    { kind: 'm4a', href: '/stream/processed/v1/download/audio.m4a', name: 'Sintel Trailer.m4a', bytes: 812345, label: 'Audio only (M4A, 812 KB)' },
  ]);
});

test('downloadLinks: none, unknown kinds skipped, names from the file name or the id', () => {
  assert.deepEqual(downloadLinks({ video_id: 'v1' }), []);
  assert.deepEqual(downloadLinks({ video_id: 'v1', downloads: [] }), []);
  assert.deepEqual(downloadLinks(null), []);
  const d = [{ kind: 'webm', url: '/x.webm', bytes: 1 }, { kind: 'm4a', url: '/a.m4a', bytes: 1500 }];
  assert.deepEqual(downloadLinks({ video_id: 'v1', file_name: 'clip.final.mov', downloads: d }).map((l) => [l.name, l.label]),
    [['clip.final.m4a', 'Audio only (M4A, 1.5 KB)']]);
  assert.equal(downloadLinks({ video_id: 'v9', downloads: d })[0].name, 'v9.m4a');
  assert.equal(downloadLinks({ video_id: 'v9', downloads: [{ kind: 'mp4', url: '/v.mp4' }] })[0].label, 'Video (MP4)');
});

test('safeFileName: no separators or control characters; a fallback when empty', () => {
  assert.equal(safeFileName('a/b\\c:d*e?"f"<g>|h'), 'a_b_c_d_e_f_g_h');
  assert.equal(safeFileName('tab\there\n'), 'tab_here_');
  assert.equal(safeFileName('  ..hidden. '), 'hidden');
  assert.equal(safeFileName(''), 'video');
  assert.equal(safeFileName(undefined, 'x'), 'x');
  assert.equal(safeFileName('Sintel Trailer'), 'Sintel Trailer');
});
