// stages.js: the upload panel's line after the upload, following the video.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterUploadText, fmtAboutLeft, GENERIC_FAILURE, plainReason, progressTexts, stageLine } from '../../js/stages.js';

test('afterUploadText: follows the video to ready or failed', () => {
  const cases = [
    [{ status: 'uploaded' }, 'Uploaded. Waiting for processing to start…'],
    [{ status: 'processing', stage: 'hashing' }, 'Uploaded. Now checking the upload…'],
    [{ status: 'processing', stage: 'encoding' }, 'Uploaded. Now encoding slices…'],
    [{ status: 'processing', stage: 'encoding', playable: true }, 'Uploaded. The start plays now; encoding slices…'],
    [{ status: 'processing', stage: 'done' }, 'Uploaded. Now processing…'],
    [{ status: 'processing_complete', stage: 'done' }, 'Uploaded and processed: the video is ready to play.'],
    [{ status: 'processing_failed', error: 'no video stream' }, 'Uploaded, but it could not be processed: no video stream'],
    [{ status: 'processing_failed' }, 'Uploaded, but it could not be processed: unknown error'],
  ];
  for (const [arg, want] of cases) assert.equal(afterUploadText(arg), want, JSON.stringify(arg));
  assert.doesNotMatch(afterUploadText({ status: 'processing_complete' }), /has started/);
});

test('progressTexts: percent, slices, elapsed and time left, each optional', () => {
  const cases = [
    [{ fraction: 0.426, slices_done: 2, slices_total: 5, elapsed_ms: 83000, eta_ms: 112000 }, 'processing',
      { fraction: 0.426, percent: 42, slices: '2 of 5 slices', elapsed: '1:23 elapsed', left: 'about 2 min left' }],
    [{ fraction: 0.5, slices_done: 0, slices_total: 1 }, 'processing',
      { fraction: 0.5, percent: 50, slices: '0 of 1 slice', elapsed: '', left: '' }],
    [{ fraction: 0.999, slices_done: 3, slices_total: 3, elapsed_ms: 3723000, eta_ms: 4000 }, 'processing',
      { fraction: 0.999, percent: 99, slices: '3 of 3 slices', elapsed: '1:02:03 elapsed', left: 'a few seconds left' }],
    [{ fraction: 0.7, slices_done: 9, slices_total: 9, elapsed_ms: 5000, eta_ms: 30000 }, 'processing_complete',
      { fraction: 1, percent: 100, slices: '9 of 9 slices', elapsed: '0:05 elapsed', left: '' }],
    [{}, 'processing', { fraction: 0, percent: 0, slices: '', elapsed: '', left: '' }],
    [null, 'uploaded', { fraction: 0, percent: 0, slices: '', elapsed: '', left: '' }],
    [{ fraction: 2, eta_ms: null, elapsed_ms: 'x' }, 'processing', { fraction: 1, percent: 99, slices: '', elapsed: '', left: '' }],
  ];
  for (const [p, status, want] of cases) assert.deepEqual(progressTexts(p, status), want, JSON.stringify(p));
});

test('fmtAboutLeft: rough times left', () => {
  const cases = [[3000, 'a few seconds left'], [42000, 'about 40 s left'], [59000, 'about 1 min left'], [3590000, 'about 1 h left'], [150000, 'about 3 min left'],
    [3900000, 'about 1 h 5 min left'], [-1, ''], [NaN, '']];
  for (const [ms, want] of cases) assert.equal(fmtAboutLeft(ms), want, String(ms));
});

test('stageLine: the line under a video being processed', () => {
  const cases = [
    [{ status: 'uploaded', stage: 'hashing' }, 'Waiting to start'],
    [{ status: 'processing', stage: 'encoding' }, 'Encoding slices'],
    [{ status: 'processing', stage: 'encoding', playable: true, readyUntil: 12.4 }, 'Encoding slices · the start plays now (0:12 ready)'],
    [{ status: 'processing', stage: 'mystery' }, 'mystery'],
    [{ status: 'processing_complete', stage: 'done' }, 'Ready to play'],
    [{ status: 'processing_failed', stage: 'done', failedAt: 'probing' }, 'Failed while reading the source'],
    [{ status: 'processing_failed', stage: 'done' }, 'Failed'],
  ];
  for (const [arg, want] of cases) assert.equal(stageLine(arg), want, JSON.stringify(arg));
});

test('plainReason: a sentence for people, never a log line', () => {
  const cases = [
    ['the file could not be read as a video: its contents are not in a video format slicecast recognises, or are damaged',
      'The file could not be read as a video: its contents are not in a video format slicecast recognises, or are damaged.'],
    ['No video stream.', 'No video stream.'],
    ['the HLS/DASH packaging failed\nat line 2', 'The HLS/DASH packaging failed.'],
    ['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5581c2a0] moov atom not found', GENERIC_FAILURE],
    ['ffprobe: /tmp/serve-data/uploads/ab/cd.mp4: Invalid data found', GENERIC_FAILURE],
    ['error at 0x1f', GENERIC_FAILURE],
    ['thread panicked at core/src/lib.rs:12:5', GENERIC_FAILURE],
    ['', GENERIC_FAILURE],
    [null, GENERIC_FAILURE],
  ];
  for (const [error, want] of cases) assert.equal(plainReason(error), want, String(error));
  assert.doesNotMatch(GENERIC_FAILURE, /@|0x|\//);
});
