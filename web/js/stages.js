// Names and order of the processing stages, the stage a failed video stopped in, the
// processing view's and the library cards' progress texts, and a failure's reason in plain
// words. Pure (node imports it).
import { fmtDuration } from './format.js';

/** The stages in the order a video goes through them, with their short labels. */
export const STAGES = [
  ['hashing', 'Check'],
  ['probing', 'Probe'],
  ['encoding', 'Encode'],
  ['assembling', 'Package'],
  ['transcribing', 'Subtitles'],
  ['done', 'Ready'],
];

export const STAGE_TEXT = {
  hashing: 'Checking the upload',
  probing: 'Reading the source',
  encoding: 'Encoding slices',
  assembling: 'Packaging HLS and DASH',
  transcribing: 'Transcribing subtitles',
  done: 'Done',
};

export const FAIL_TEXT = {
  hashing: 'Failed while checking the upload',
  probing: 'Failed while reading the source',
  encoding: 'Failed while encoding',
  assembling: 'Failed while packaging the streams',
  transcribing: 'Failed while transcribing',
};

/** The stage a failed video stopped in (a failed manifest says stage "done"). */
export function failedStage(j) {
  if (j.lastActive && j.lastActive !== 'hashing') return j.lastActive;
  const m = j.manifest ?? {};
  const p = m.progress ?? {};
  if (!m.source || !p.slices_total) return m.source ? 'probing' : (j.lastActive ?? 'probing');
  if ((p.slices_done ?? 0) < p.slices_total) return 'encoding';
  return 'assembling';
}

export const STATUS_TEXT = {
  uploaded: 'Queued',
  processing: 'Processing',
  processing_complete: 'Ready',
  processing_failed: 'Failed',
};

/**
 * The line under a video being processed (the processing view and its library card):
 * its stage in words; "Waiting to start" before it starts; how much plays already once its
 * start does (`playable`, `readyUntil` in seconds); `failedAt` (a stage) when it failed.
 */
export function stageLine({ status, stage, playable = false, readyUntil = 0, failedAt = null } = {}) {
  if (status === 'uploaded') return 'Waiting to start';
  if (status === 'processing_complete') return 'Ready to play';
  if (status === 'processing_failed') return FAIL_TEXT[failedAt] ?? 'Failed';
  const text = STAGE_TEXT[stage] ?? stage ?? 'Processing';
  return playable ? `${text} · the start plays now (${fmtDuration(Number(readyUntil) || 0)} ready)` : text;
}

/** A generic reason, for a failure whose words are missing or are not meant for people. */
export const GENERIC_FAILURE = 'The video could not be processed: the file is damaged, or not in a video format slicecast recognises.';

/**
 * Why a video failed, as a sentence for the person who uploaded it, from the manifest's
 * `error`: its first line, capitalised and ended with a full stop. Words meant for a log
 * (ffmpeg's `[mov @ 0x…]`, addresses, file paths, source locations) give the generic sentence.
 */
export function plainReason(error) {
  const line = String(error ?? '').split('\n')[0].trim();
  if (!line || /@|\b0x[0-9a-f]|(^|[\s(="'])(\/|~\/|\.\.?\/)\S|[a-z]:\\|\.rs:\d|panicked/i.test(line)) return GENERIC_FAILURE;
  const s = line[0].toUpperCase() + line.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

/**
 * The upload panel's line once the upload is done, following the video: `status` and
 * `stage` of its manifest, `error` when it failed, `playable` when its start plays already.
 */
export function afterUploadText({ status, stage, error, playable } = {}) {
  switch (status) {
    case 'processing_complete': return 'Uploaded and processed: the video is ready to play.';
    case 'processing_failed': return `Uploaded, but it could not be processed: ${error || 'unknown error'}`;
    case 'processing': {
      const doing = STAGE_TEXT[stage] && stage !== 'done' ? STAGE_TEXT[stage].toLowerCase() : 'processing';
      return playable ? `Uploaded. The start plays now; ${doing}…` : `Uploaded. Now ${doing}…`;
    }
    default: return 'Uploaded. Waiting for processing to start…';
  }
}

/** A time left, roughly: "about 40 s left", "about 3 min left", "about 1 h 5 min left". */
export function fmtAboutLeft(ms) {
  const s = Number(ms) / 1000;
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 10) return 'a few seconds left';
  if (s < 57.5) return `about ${Math.round(s / 5) * 5} s left`;
  const m = Math.round(s / 60);
  if (m < 60) return `about ${m} min left`;
  return `about ${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''} left`;
}

/** An elapsed time as m:ss or h:mm:ss. */
function clock(ms) {
  const t = Math.floor(ms / 1000);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The processing view's numbers from a `/status` `progress` object (`fraction`,
 * `slices_done`, `slices_total`, and, when the server sends them, `elapsed_ms` and `eta_ms`):
 * `{fraction, percent, slices, elapsed, left}`, texts '' when unknown.
 */
export function progressTexts(p = {}, status = 'processing') {
  const done = status === 'processing_complete';
  const raw = Number(p?.fraction);
  const fraction = done ? 1 : Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0;
  // 100 % only once it is complete.
  const percent = done ? 100 : Math.min(99, Math.floor(fraction * 100));
  const total = Number(p?.slices_total) || 0;
  const k = Math.min(total, Number(p?.slices_done) || 0);
  const elapsedMs = Number(p?.elapsed_ms);
  const etaMs = Number(p?.eta_ms);
  const busy = status === 'processing' || status === 'uploaded';
  return {
    fraction,
    percent,
    slices: total ? `${k} of ${total} slice${total === 1 ? '' : 's'}` : '',
    elapsed: p?.elapsed_ms != null && Number.isFinite(elapsedMs) && elapsedMs >= 0 ? `${clock(elapsedMs)} elapsed` : '',
    left: busy && p?.eta_ms != null && Number.isFinite(etaMs) ? fmtAboutLeft(etaMs) : '',
  };
}
