// tests/page/progress.mjs: the page test's judgement of the live progress timeline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeProgress } from '../page/progress.mjs';

const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')} elapsed`;

/** A timeline sampled every 0.5 s: `pcts[i]` shown, the server one sample ahead. */
function timeline(pcts, { total = 3, eta = (p) => (p >= 10 ? 'about 15 s left' : ''), lagged = true } = {}) {
  const rows = pcts.map((p, i) => {
    const t = i * 0.5;
    const complete = i === pcts.length - 1;
    const serverPct = complete ? 100 : pcts[Math.min(i + (lagged ? 1 : 0), pcts.length - 2)];
    const done = complete ? total : Math.floor((p / 100) * total);
    return {
      t,
      status: complete ? 'processing_complete' : 'processing',
      stage: complete ? 'done' : 'encoding',
      percent: `${p} %`,
      slices: `${done} of ${total} slices`,
      elapsed: clock(t + 2),
      eta: complete ? '' : eta(p),
      server: {
        status: complete ? 'processing_complete' : 'processing',
        stage: complete ? 'done' : 'encoding',
        progress: { fraction: serverPct / 100 + 0.004, slices_done: done, slices_total: total, elapsed_ms: (t + 2) * 1000, eta_ms: 15000 },
      },
    };
  });
  return rows;
}

const steady = [0, 4, 8, 12, 16, 20, 24, 30, 36, 40, 46, 52, 58, 64, 70, 76, 82, 88, 94, 99, 100];

test('judgeProgress: a steady timeline passes', () => {
  const { summary, violations } = judgeProgress(timeline(steady), { pollTimes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  assert.deepEqual(violations, []);
  assert.equal(summary.samples, steady.length);
  assert.equal(summary.increases, steady.length - 1);
  assert.equal(summary.maxGapS, 0.5);
  assert.equal(summary.etaShown, true);
  assert.deepEqual(summary.final, { percent: '100 %', slices: '3 of 3 slices', status: 'processing_complete' });
  assert.equal(summary.pagePolls.medianS, 1);
  assert.equal(summary.elapsed.first, '0:02 elapsed');
});

test('judgeProgress: each violation is named', () => {
  const check = (rows, re, opts) => {
    const { violations } = judgeProgress(rows, opts);
    assert.ok(violations.some((v) => re.test(v)), `${re} not in ${JSON.stringify(violations)}`);
  };
  // Goes back.
  check(timeline([0, 10, 20, 15, 30, 99, 100]), /went back from 20 % .* to 15 %/);
  // Stands still for 5 s while encoding.
  check(timeline([0, 10, ...Array(10).fill(20), 30, 40, 100]), /stood still for 5 s/);
  // Shows more than the server (3 points off, past the lag).
  const ahead = timeline(steady);
  ahead[10].percent = '60 %';
  ahead[11].percent = '60 %';
  check(ahead, /page shows 60 % but the server's fraction gave/);
  // No time left shown, though the server sent one.
  check(timeline(steady, { eta: () => '' }), /sent eta_ms while encoding but no "about … left"/);
  // The end is not n of n.
  const end = timeline(steady);
  end.at(-1).slices = '2 of 3 slices';
  check(end, /complete, but the slice count reads "2 of 3 slices"/);
  // Elapsed stands still.
  const still = timeline(steady);
  for (const r of still) r.elapsed = '0:05 elapsed';
  check(still, /elapsed time stood at "0:05 elapsed"/);
  // The page polls every 3 s.
  check(timeline(steady), /read \/status every 3 s/, { pollTimes: [0, 3, 6, 9] });
});

test('judgeProgress: 99 % waits for completion without a gap; a lag of one poll is allowed', () => {
  const rows = timeline([0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 100]);
  const { summary, violations } = judgeProgress(rows);
  assert.deepEqual(violations, []);
  assert.equal(summary.maxGapS, 0.5);
  // The server three samples (1.5 s) ahead is still within the lag (timeline() puts it one ahead).
  const ahead = timeline(steady).map((r, i, all) => ({ ...r, server: all[Math.min(i + 2, all.length - 2)].server }));
  ahead.at(-1).server = timeline(steady).at(-1).server;
  assert.deepEqual(judgeProgress(ahead).violations, []);
  // Three seconds behind the server is not.
  const behind = timeline(steady).map((r, i, all) => ({ ...r, server: all[Math.min(i + 5, all.length - 2)].server }));
  behind.at(-1).server = timeline(steady).at(-1).server;
  assert.match(judgeProgress(behind).violations.join('\n'), /page shows \d+ % but the server's fraction gave/);
});
