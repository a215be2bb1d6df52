// Names and order of the processing stages, and the stage a failed video stopped in. Pure
// (node imports it).

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
