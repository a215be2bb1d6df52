// Library items from manifests (web/js/items.js) and the stage a failed video stopped in
// (web/js/stages.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardState, downloadItems, isGrowing, itemFromManifest, seekLimit, subtitleItems } from '../../js/items.js';
import { failedStage } from '../../js/stages.js';

const MANIFEST = {
  video_id: 'v1',
  status: 'processing_complete',
  duration_s: 52.2,
  created_ms: Date.parse('2024-05-01T12:00:00Z'),
  source: { name: 'sintel trailer.mp4', width: 1280, height: 720, duration_s: 52.25 },
  rungs: [{ name: '720p' }, { name: '360p' }],
  assets: {
    hls_master: 'videos/v1/hls/master.m3u8',
    dash_mpd: 'videos/v1/dash/stream.mpd',
    poster: 'videos/v1/poster.jpg',
    thumbnails_vtt: 'videos/v1/thumbnails/thumbnails.vtt',
  },
  subtitles: [{ lang: 'en', name: 'English', vtt: 'videos/v1/subtitles/en.vtt', srt: 'videos/v1/subtitles/en.srt' }],
  transcription_status: 'completed',
  downloads: [
    { kind: 'mp4', key: 'processed/v1/download/720p.mp4', bytes: 7400000 },
    { kind: 'm4a', key: 'processed/v1/download/audio.m4a', bytes: 812345 },
  ],
};

test('itemFromManifest: a processed video as a library item', () => {
  assert.deepEqual(itemFromManifest({ ...MANIFEST, ready_until_s: 52.2 }, 'ignored.mp4'), {
    video_id: 'v1',
    status: 'processing_complete',
    ready_until_s: 52.2,
    base_name: 'sintel trailer',
    file_name: 'sintel trailer.mp4',
    hls_url: '/stream/videos/v1/hls/master.m3u8',
    dash_url: '/stream/videos/v1/dash/stream.mpd',
    thumbnail_url: '/stream/videos/v1/poster.jpg',
    sprite: '/stream/videos/v1/thumbnails/thumbnails.vtt',
    presets: ['720p', '360p'],
    duration: 52.2,
    uploaded_at: '2024-05-01T12:00:00.000Z',
    width: 1280,
    height: 720,
    subtitles: [{ lang: 'en', name: 'English', url: '/stream/videos/v1/subtitles/en.vtt', srt_url: '/stream/videos/v1/subtitles/en.srt' }],
    transcription_status: 'completed',
    transcription_error: null,
    downloads: [
      { kind: 'mp4', url: '/stream/processed/v1/download/720p.mp4', bytes: 7400000 },
      { kind: 'm4a', url: '/stream/processed/v1/download/audio.m4a', bytes: 812345 },
    ],
  });
});

test('itemFromManifest: no item before the assets exist; names fall back', () => {
  assert.equal(itemFromManifest(null), null);
  assert.equal(itemFromManifest({ video_id: 'v1', status: 'processing' }), null);
  const bare = itemFromManifest({ video_id: 'v2', assets: {} }, 'given.name.mov');
  assert.equal(bare.file_name, 'given.name.mov');
  assert.equal(bare.base_name, 'given.name');
  assert.equal(bare.hls_url, null);
  assert.equal(bare.uploaded_at, null);
  assert.deepEqual(bare.subtitles, []);
  assert.deepEqual(bare.downloads, []);
  assert.equal(bare.transcription_status, 'not_requested');
  assert.equal(itemFromManifest({ video_id: 'v3', assets: {} }).file_name, 'v3');
});

test('downloadItems: manifest keys as stream URLs; none without a key or a list', () => {
  assert.deepEqual(downloadItems(undefined), []);
  assert.deepEqual(downloadItems([]), []);
  assert.deepEqual(downloadItems([{ kind: 'mp4', bytes: 1 }, { kind: 'm4a', key: 'processed/x/download/audio.m4a', bytes: 2 }]),
    [{ kind: 'm4a', url: '/stream/processed/x/download/audio.m4a', bytes: 2 }]);
});

test('a video still encoding: growing, seekable up to a little before what is ready', () => {
  const early = itemFromManifest({
    video_id: 'v4', status: 'processing', playable: true, ready_until_s: 8, duration_s: 150,
    assets: { hls_master: 'processed/v4/hls/master.m3u8' },
  });
  assert.equal(early.status, 'processing');
  assert.equal(early.hls_url, '/stream/processed/v4/hls/master.m3u8');
  assert.equal(early.dash_url, null);
  assert.ok(isGrowing(early));
  assert.equal(seekLimit(early, 150), 7.5);
  assert.equal(seekLimit({ ...early, ready_until_s: null }, 150), 0);
  assert.equal(seekLimit({ ...early, ready_until_s: 400 }, 150), 150);
  const done = itemFromManifest(MANIFEST);
  assert.ok(!isGrowing(done));
  assert.equal(seekLimit(done, 52.2), 52.2);
  assert.ok(!isGrowing(null));
});

test('subtitleItems: URLs kept, or made from the keys', () => {
  assert.deepEqual(subtitleItems(undefined), []);
  assert.deepEqual(subtitleItems([{ lang: 'de', name: 'Deutsch', url: '/x.vtt', srt_url: '/x.srt' }]),
    [{ lang: 'de', name: 'Deutsch', url: '/x.vtt', srt_url: '/x.srt' }]);
  assert.deepEqual(subtitleItems([{ lang: 'fr' }]), [{ lang: 'fr', name: undefined, url: null, srt_url: null }]);
});

test('failedStage: the stage a failed video stopped in', () => {
  const src = { width: 1280 };
  for (const [job, want] of [
    [{ lastActive: 'encoding' }, 'encoding'],
    [{ lastActive: 'transcribing', manifest: { source: src } }, 'transcribing'],
    [{ lastActive: 'hashing', manifest: {} }, 'hashing'],
    [{}, 'probing'],
    [{ manifest: { source: src, progress: {} } }, 'probing'],
    [{ manifest: { source: src, progress: { slices_total: 4, slices_done: 2 } } }, 'encoding'],
    [{ manifest: { source: src, progress: { slices_total: 4 } } }, 'encoding'],
    [{ manifest: { source: src, progress: { slices_total: 4, slices_done: 4 } } }, 'assembling'],
  ]) assert.equal(failedStage(job), want, JSON.stringify(job));
});

test('cardState: uploading, processing, ready or failed', () => {
  const ready = { video_id: 'v1', status: 'processing_complete' };
  const growing = { video_id: 'v1', status: 'processing', ready_until_s: 8 };
  const job = (status) => ({ job: { status, stage: 'encoding' } });
  const cases = [
    [{ upload: { sent: 1, size: 2 } }, null, 'uploading'],
    [{ upload: { sent: 1, size: 2 }, ...job('processing_failed') }, null, 'uploading'],
    [{ uploadError: 'Part 2 of 3 could not be sent' }, null, 'failed'],
    [job('uploaded'), null, 'processing'],
    [job('processing'), null, 'processing'],
    [job('processing'), growing, 'processing'],
    [null, growing, 'processing'],
    [job('processing_complete'), null, 'processing'],
    [job('processing_complete'), ready, 'ready'],
    [null, ready, 'ready'],
    [job('processing_failed'), null, 'failed'],
    [{ job: null }, null, 'processing'],
  ];
  for (const [live, item, want] of cases) assert.equal(cardState(live, item), want, JSON.stringify({ live, item }));
});
