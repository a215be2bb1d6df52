// The processing view's live progress (#14), judged from a timeline that upload.mjs records
// while the video is processed: every ~500 ms what the page shows (stage, percent, "k of n
// slices", "m:ss elapsed", "about X left") next to the server's /status progress at that
// moment. Pure (node only; the unit tests feed it made-up timelines).
import { progressTexts } from '../../js/stages.js';

/** The longest the shown percent may stand still while the stage is encoding. */
export const MAX_GAP_S = 4;
/** How far the shown percent may be from the server's (points). */
export const TOLERANCE = 2;
/** The page's lag allowed: one poll (1 s) plus a sample (0.5 s) and the request. */
export const LAG_S = 2;

const percentOf = (text) => {
  const m = /^(\d+) %$/.exec(text ?? '');
  return m ? Number(m[1]) : null;
};
const slicesOf = (text) => {
  const m = /^(\d+) of (\d+) slices?$/.exec(text ?? '');
  return m ? { done: Number(m[1]), total: Number(m[2]) } : null;
};
const elapsedOf = (text) => {
  const m = /^(?:(\d+):)?(\d+):(\d\d) elapsed$/.exec(text ?? '');
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
};
/** The "left" texts fmtAboutLeft writes ("about 15 s left", "about 2 min left", "a few seconds left"). */
export const LEFT_RE = /^(about .+|a few seconds) left$/;

/**
 * Judges a timeline. `samples`: `[{t (s), status, stage, percent, slices, elapsed, eta}` (the
 * page's texts and data-status/data-stage) `, server: {status, stage, progress} | null]`, in
 * time order. `pollTimes`: the times (s) of the page's own /status/<id> requests.
 * Returns `{summary, violations}`.
 */
export function judgeProgress(samples, { pollTimes = [] } = {}) {
  const violations = [];
  const rows = samples.map((s) => ({
    ...s,
    pct: percentOf(s.percent),
    sl: slicesOf(s.slices),
    el: elapsedOf(s.elapsed),
    want: s.server?.progress ? progressTexts(s.server.progress, s.server.status).percent : null,
  }));

  // The percent shown never goes back; nor does the slice count or the elapsed time.
  let increases = 0;
  let prev = null;
  const incTimes = [];
  for (const r of rows) {
    if (r.pct == null) continue;
    if (prev) {
      if (r.pct < prev.pct) violations.push(`the percent went back from ${prev.pct} % (${prev.t} s) to ${r.pct} % (${r.t} s)`);
      if (r.pct > prev.pct) { increases++; incTimes.push(r.t); }
      if (r.sl && prev.sl && r.sl.done < prev.sl.done) violations.push(`the slice count went back from "${prev.slices}" to "${r.slices}" at ${r.t} s`);
    }
    prev = r;
  }
  const els = rows.filter((r) => r.el != null);
  for (let i = 1; i < els.length; i++) {
    if (els[i].el < els[i - 1].el) violations.push(`the elapsed time went back from "${els[i - 1].elapsed}" to "${els[i].elapsed}" at ${els[i].t} s`);
  }
  const elapsed = els.length ? { first: els[0].elapsed, last: els.at(-1).elapsed } : null;
  const spanS = els.length ? els.at(-1).t - els[0].t : 0;
  if (!els.length) {
    if (rows.some((r) => r.server?.progress?.elapsed_ms != null)) violations.push('the server sent elapsed_ms but no "m:ss elapsed" was shown');
  } else if (spanS >= 3 && els.at(-1).el <= els[0].el) {
    violations.push(`the elapsed time stood at "${els[0].elapsed}" for ${spanS.toFixed(1)} s`);
  }

  // While encoding, the percent moves at least every MAX_GAP_S (until it shows 99 %, where
  // it waits for completion).
  const enc = rows.filter((r) => r.stage === 'encoding' && r.status === 'processing');
  let maxGapS = null;
  let encodingS = 0;
  if (!enc.length) {
    violations.push('the processing view never showed the encoding stage');
  } else {
    const from = enc[0].t;
    const capped = enc.find((r) => r.pct != null && r.pct >= 99);
    const to = capped ? Math.min(capped.t, enc.at(-1).t) : enc.at(-1).t;
    encodingS = enc.at(-1).t - from;
    const marks = [from, ...incTimes.filter((t) => t > from && t < to), to];
    maxGapS = 0;
    let gapAt = from;
    for (let i = 1; i < marks.length; i++) {
      if (marks[i] - marks[i - 1] > maxGapS) { maxGapS = marks[i] - marks[i - 1]; gapAt = marks[i - 1]; }
    }
    maxGapS = Math.round(maxGapS * 10) / 10;
    if (maxGapS > MAX_GAP_S) violations.push(`while encoding the percent stood still for ${maxGapS} s from ${gapAt} s (more than ${MAX_GAP_S} s)`);
  }

  // The shown percent is the server's (as the page computes it from /status), at the same
  // moment or up to one poll before.
  let maxOff = 0;
  for (const r of rows) {
    if (r.pct == null) continue;
    const window = rows.filter((o) => o.want != null && o.t <= r.t && o.t >= r.t - LAG_S);
    if (!window.length) continue;
    const wants = window.map((o) => o.want);
    // Distance from the range the server's values span in the window; where the timeline
    // does not reach a whole window back (its start), only "not ahead of the server".
    const whole = window[0].t <= r.t - LAG_S + 0.75;
    const off = Math.max(0, whole ? Math.min(...wants) - r.pct : 0, r.pct - Math.max(...wants));
    maxOff = Math.max(maxOff, off);
    if (off > TOLERANCE) {
      violations.push(`at ${r.t} s the page shows ${r.pct} % but the server's fraction gave ${wants.join('/')} % (within ${LAG_S} s)`);
    }
  }

  // The time left was told while encoding.
  const etaTexts = [...new Set(enc.map((r) => r.eta).filter(Boolean))];
  for (const e of etaTexts) if (!LEFT_RE.test(e)) violations.push(`the time left reads ${JSON.stringify(e)}`);
  const etaShown = etaTexts.some((e) => LEFT_RE.test(e));
  if (!etaShown) {
    const sent = rows.some((r) => r.server?.stage === 'encoding' && r.server?.progress?.eta_ms != null);
    violations.push(sent ? 'the server sent eta_ms while encoding but no "about … left" was shown'
      : 'no "about … left" while encoding (the server never sent eta_ms)');
  }

  // How good the estimate was (told, not judged): the server's first eta_ms against the time
  // encoding then took, and the longest "a few seconds left" stood.
  const encEnd = rows.find((r) => r.t > (enc[0]?.t ?? Infinity) && r.stage !== 'encoding')?.t ?? null;
  const firstEta = enc.find((r) => r.server?.stage === 'encoding' && r.server?.progress?.eta_ms != null);
  const etaFirst = firstEta && encEnd != null ? {
    atS: firstEta.t, etaS: Math.round(firstEta.server.progress.eta_ms / 100) / 10, actualS: Math.round((encEnd - firstEta.t) * 10) / 10,
  } : null;
  let fewSecondsLeftS = 0;
  let runFrom = null;
  for (const r of rows) {
    if (r.eta === 'a few seconds left') {
      runFrom ??= r.t;
      fewSecondsLeftS = Math.max(fewSecondsLeftS, Math.round((r.t - runFrom) * 10) / 10);
    } else {
      runFrom = null;
    }
  }

  // The end: 100 % and n of n slices.
  const last = rows.at(-1);
  const final = last ? { percent: last.percent, slices: last.slices, status: last.status } : null;
  if (!last || last.status !== 'processing_complete') {
    violations.push(`the timeline ends with status ${last?.status}`);
  } else {
    if (last.pct !== 100) violations.push(`complete, but the percent reads ${JSON.stringify(last.percent)}`);
    if (!last.sl || last.sl.done !== last.sl.total || last.sl.total < 1) violations.push(`complete, but the slice count reads ${JSON.stringify(last.slices)}`);
    const total = last.server?.progress?.slices_total;
    if (last.sl && total && last.sl.total !== total) violations.push(`the page shows ${last.sl.total} slices, the server planned ${total}`);
  }

  // How often the page itself read /status/<id> while encoding.
  const from = enc[0]?.t ?? 0;
  const to = enc.at(-1)?.t ?? 0;
  const polls = pollTimes.filter((t) => t >= from && t <= to);
  const gaps = polls.slice(1).map((t, i) => t - polls[i]).sort((a, b) => a - b);
  const pagePolls = {
    requests: polls.length,
    medianS: gaps.length ? Math.round(gaps[Math.floor(gaps.length / 2)] * 100) / 100 : null,
    maxS: gaps.length ? Math.round(gaps.at(-1) * 100) / 100 : null,
  };
  if (gaps.length >= 2 && pagePolls.medianS > 1.6) violations.push(`while encoding the page read /status every ${pagePolls.medianS} s (median), not about every second`);

  return {
    summary: {
      samples: rows.length,
      encodingSamples: enc.length,
      encodingS: Math.round(encodingS * 10) / 10,
      maxGapS,
      increases,
      maxOffPoints: maxOff,
      etaShown,
      etaTexts: etaTexts.slice(0, 12),
      etaFirst,
      fewSecondsLeftS,
      elapsed,
      pagePolls,
      final,
    },
    violations,
  };
}
