// Formatting of sizes, times and names (web/js/format.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtAge, fmtBytes, fmtDuration, fmtEta, fmtTime, languageName, namePieces, rungName } from '../../js/format.js';

const table = (name, fn, cases) => {
  test(name, () => {
    for (const [input, want] of cases) assert.equal(fn(...input), want, `${name}(${input.map((x) => JSON.stringify(x)).join(', ')})`);
  });
};

table('fmtBytes: decimal units, one decimal below 100', fmtBytes, [
  [[0], '0 B'],
  [[999], '999 B'],
  [[1000], '1.0 KB'],
  [[1500], '1.5 KB'],
  [[123456], '123 KB'],
  [[1e6], '1.0 MB'],
  [[52_345_678], '52.3 MB'],
  [[2.5e9], '2.5 GB'],
  [[5e15], '5000 TB'],
  [[NaN], ''],
  [[Infinity], ''],
  [[undefined], ''],
]);

table('fmtTime: m:ss, h:mm:ss from an hour, 0:00 for anything else', fmtTime, [
  [[0], '0:00'],
  [[59.9], '0:59'],
  [[60], '1:00'],
  [[61.5], '1:01'],
  [[3599], '59:59'],
  [[3600], '1:00:00'],
  [[3725], '1:02:05'],
  [[36000], '10:00:00'],
  [[-5], '0:00'],
  [[NaN], '0:00'],
  [[Infinity], '0:00'],
]);

table('fmtDuration: rounded, at least 0:01 for a non-empty clip', fmtDuration, [
  [[0], '0:00'],
  [[0.3], '0:01'],
  [[52.2], '0:52'],
  [[52.6], '0:53'],
  [[3599.7], '1:00:00'],
  [[-1], '0:00'],
  [[NaN], '0:00'],
  [[undefined], '0:00'],
]);

table('fmtEta: seconds, minutes, hours left', fmtEta, [
  [[0], 'less than a second left'],
  [[0.5], 'less than a second left'],
  [[1], '1 s left'],
  [[42.1], '43 s left'],
  [[60], '1 min 0 s left'],
  [[125], '2 min 5 s left'],
  [[3600], '1 h 0 min left'],
  [[5400], '1 h 30 min left'],
  [[7260], '2 h 1 min left'],
  [[-1], ''],
  [[NaN], ''],
  [[Infinity], ''],
]);

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (s) => new Date(NOW - s * 1000).toISOString();
table('fmtAge: how long ago', (iso) => fmtAge(iso, NOW), [
  [[ago(10)], 'just now'],
  [[ago(-60)], 'just now'], // a clock ahead of ours
  [[ago(60)], '1 min ago'],
  [[ago(600)], '10 min ago'],
  [[ago(4000)], '1 h ago'],
  [[ago(7200)], '2 h ago'],
  [[ago(30 * 3600)], 'yesterday'],
  [[ago(3 * 86400)], '3 days ago'],
  [['not a date'], ''],
  [[null], ''],
  [[undefined], ''],
]);

test('fmtAge: a date from a month on', () => {
  const s = fmtAge(ago(40 * 86400), NOW);
  assert.match(s, /2024/);
  assert.doesNotMatch(s, /ago/);
});

table('rungName: the shorter side', rungName, [
  [[1280, 720], '720p'],
  [[720, 1280], '720p'],
  [[1920, 1080], '1080p'],
  [[0, 480], '480p'],
  [[undefined, 360], '360p'],
  [[640, 0], '?'],
  [[], '?'],
]);

table('languageName: the name of a language code, else the code', languageName, [
  [['en'], 'English'],
  [['de'], 'German'],
  [[''], ''],
  [[undefined], ''],
  [['%%'], '%%'],
]);

test('namePieces: a name breaks after its separators only', () => {
  assert.deepEqual(namePieces('sintel_trailer_1280x720.mp4'), ['sintel_', 'trailer_', '1280x720.', 'mp4']);
  assert.deepEqual(namePieces('my holiday-2024'), ['my ', 'holiday-', '2024']);
  assert.deepEqual(namePieces('averyveryverylongname'), ['averyveryverylongname']);
  assert.deepEqual(namePieces(''), []);
  assert.equal(namePieces('a_b-c.d e').join(''), 'a_b-c.d e');
});
