// stages.js: the upload panel's line after the upload, following the video.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterUploadText } from '../../js/stages.js';

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
