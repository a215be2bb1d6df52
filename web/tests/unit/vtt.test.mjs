// The sprite thumbnails track (web/js/vtt.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cueAt, parseThumbnailsVtt, parseVttTime } from '../../js/vtt.js';

test('parseVttTime: hh:mm:ss.mmm and mm:ss.mmm', () => {
  for (const [input, want] of [
    ['00:00:01.500', 1.5],
    ['01:02:03.250', 3723.25],
    ['123:00:00.000', 442800],
    ['02:03.500', 123.5],
    ['2:03.5', 123.5],
    ['00:00:05', 5],
    ['  00:10.000 ', 10],
  ]) assert.equal(parseVttTime(input), want, input);
});

test('parseVttTime: anything else is NaN', () => {
  for (const input of ['', 'abc', '1.5', '00:1.000', '00:00:01,500', 'aa:bb.ccc', '00:00:01.5x', '-00:01.000']) {
    assert.ok(Number.isNaN(parseVttTime(input)), JSON.stringify(input));
  }
});

const TRACK = [
  'WEBVTT',
  '',
  '1',
  '00:00:00.000 --> 00:00:02.000',
  'sprite_0.jpg#xywh=0,0,160,90',
  '',
  '00:00:02.000 --> 00:00:04.000 align:start',
  'sprite_0.jpg#xywh=160,0,160,90',
  '',
  '00:04.000 --> 00:06.000',
  '/stream/other/sprite_1.jpg#xywh=0,90,160,90',
  '',
  '00:00:06.000 --> 00:00:08.000',
  'poster.jpg',
  '',
  '00:00:08.000 --> 00:00:10.000',
  '',
  'bad --> 00:00:12.000',
  'x.jpg',
  '',
];

const PAGE = 'http://127.0.0.1:8080/web/';
const VTT = '/stream/abc/thumbnails/thumbnails.vtt';
const WANT = [
  { start: 0, end: 2, url: 'http://127.0.0.1:8080/stream/abc/thumbnails/sprite_0.jpg', x: 0, y: 0, w: 160, h: 90 },
  { start: 2, end: 4, url: 'http://127.0.0.1:8080/stream/abc/thumbnails/sprite_0.jpg', x: 160, y: 0, w: 160, h: 90 },
  { start: 4, end: 6, url: 'http://127.0.0.1:8080/stream/other/sprite_1.jpg', x: 0, y: 90, w: 160, h: 90 },
  { start: 6, end: 8, url: 'http://127.0.0.1:8080/stream/abc/thumbnails/poster.jpg' },
];

test('parseThumbnailsVtt: #xywh= tiles, URLs relative to the track, cues without a payload or time skipped', () => {
  assert.deepEqual(parseThumbnailsVtt(TRACK.join('\n'), VTT, PAGE), WANT);
});

test('parseThumbnailsVtt: CRLF and CR line ends', () => {
  assert.deepEqual(parseThumbnailsVtt(TRACK.join('\r\n'), VTT, PAGE), WANT);
  assert.deepEqual(parseThumbnailsVtt(TRACK.join('\r'), VTT, PAGE), WANT);
});

test('parseThumbnailsVtt: an absolute track URL needs no page', () => {
  const cues = parseThumbnailsVtt('WEBVTT\n\n00:00.000 --> 00:01.000\nsprite_0.jpg#xywh=1,2,3,4\n', 'http://h:1/v/t.vtt');
  assert.deepEqual(cues, [{ start: 0, end: 1, url: 'http://h:1/v/sprite_0.jpg', x: 1, y: 2, w: 3, h: 4 }]);
});

test('parseThumbnailsVtt: no cues', () => {
  assert.deepEqual(parseThumbnailsVtt('WEBVTT\n', VTT, PAGE), []);
  assert.deepEqual(parseThumbnailsVtt('', VTT, PAGE), []);
});

test('cueAt: the covering cue (end exclusive), else the next, the first or the last', () => {
  const cues = [{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 6, end: 8 }];
  for (const [t, want] of [[0, 0], [1.99, 0], [2, 1], [3.5, 1], [5, 2], [7.9, 2], [8, 2], [100, 2], [-1, 0]]) {
    assert.equal(cueAt(cues, t), cues[want], `t=${t}`);
  }
  assert.equal(cueAt([], 1), null);
});
