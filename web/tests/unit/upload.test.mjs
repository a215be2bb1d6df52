// Part ranges and file fingerprints of the multipart upload (web/js/upload.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint, partRange } from '../../js/upload.js';

const MB = 1024 * 1024;

test('partRange: [start, end) of each part, the last one short', () => {
  for (const [args, want] of [
    [[1, 5 * MB, 12 * MB], [0, 5 * MB]],
    [[2, 5 * MB, 12 * MB], [5 * MB, 10 * MB]],
    [[3, 5 * MB, 12 * MB], [10 * MB, 12 * MB]],
    [[2, 5, 10], [5, 10]], // the file ends on a part boundary
    [[1, 5, 3], [0, 3]], // one part, smaller than a part
    [[1, 5, 1], [0, 1]],
  ]) assert.deepEqual(partRange(...args), want, `partRange(${args})`);
});

test('partRange: the parts cover the file end to end', () => {
  for (const [partSize, size] of [[5, 23], [5, 25], [7, 1], [MB, 52 * MB + 17]]) {
    const count = Math.ceil(size / partSize);
    let next = 0;
    for (let n = 1; n <= count; n++) {
      const [a, b] = partRange(n, partSize, size);
      assert.equal(a, next, `part ${n} of ${count} (${partSize} of ${size}) starts where the last ended`);
      assert.ok(b > a && b - a <= partSize, `part ${n}: ${a}..${b}`);
      next = b;
    }
    assert.equal(next, size);
  }
});

test('fingerprint: name, size and modification time', () => {
  const f = { name: 'clip.mp4', size: 10, lastModified: 1700000000000 };
  assert.equal(fingerprint(f), 'clip.mp4\u000010\u00001700000000000');
  assert.notEqual(fingerprint(f), fingerprint({ ...f, lastModified: f.lastModified + 1 }));
  assert.notEqual(fingerprint(f), fingerprint({ ...f, size: 11 }));
});
