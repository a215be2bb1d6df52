// A video as the page shows it (the shape of an /api/videos entry), built from a manifest
// (GET /status/<id>). Pure (node imports it).
import { streamBase, streamUrl } from './api.js';

/**
 * A library item from a processed video's manifest; null while it has no assets. Its URLs
 * are under the manifest's playback grant (`playback.stream_base`, signed playback) when it
 * has one, else under `/stream/`.
 */
export function itemFromManifest(m, name) {
  if (!m?.assets) return null;
  const base = streamBase(m);
  const url = (key) => streamUrl(key, base);
  const fileName = m.source?.name || name || m.video_id;
  return {
    video_id: m.video_id,
    status: m.status ?? 'processing_complete',
    ready_until_s: m.ready_until_s ?? null,
    base_name: fileName.replace(/\.[^.]+$/, ''),
    file_name: fileName,
    hls_url: url(m.assets.hls_master),
    dash_url: url(m.assets.dash_mpd),
    thumbnail_url: url(m.assets.poster),
    sprite: url(m.assets.thumbnails_vtt),
    presets: (m.rungs ?? []).map((r) => r.name),
    duration: m.duration_s ?? m.source?.duration_s,
    uploaded_at: m.created_ms ? new Date(m.created_ms).toISOString() : null,
    width: m.source?.width,
    height: m.source?.height,
    subtitles: subtitleItems(m.subtitles, base),
    transcription_status: m.transcription_status ?? 'not_requested',
    transcription_error: m.transcription?.error ?? null,
    downloads: downloadItems(m.downloads, base),
  };
}

/**
 * The state of a library card: `uploading` while its upload runs, `ready` once the list has it
 * processed, `failed` when the upload stopped (`uploadError`) or processing failed, and
 * `processing` in between. `live` is what the page follows of the video (`upload`,
 * `uploadError`, and `job`: the latest `/status` of it), `item` its `/api/videos` entry.
 */
export function cardState(live, item) {
  if (live?.upload) return 'uploading';
  if (item?.status === 'processing_complete') return 'ready';
  if (live?.uploadError) return 'failed';
  const status = live?.job?.status;
  if (status === 'processing_failed') return 'failed';
  if (status || isGrowing(item)) return 'processing';
  return item ? 'ready' : 'processing';
}

/** Whether a list item is still encoding while its start plays (its playlists grow). */
export function isGrowing(item) {
  return item?.status === 'processing';
}

/**
 * The latest point a viewer may seek to in a growing video: a little before the end of
 * what is ready (so the player has a segment to start from); the whole duration otherwise.
 */
export function seekLimit(item, duration) {
  if (!isGrowing(item)) return duration;
  const ready = Number(item.ready_until_s) || 0;
  return Math.max(0, Math.min(duration, ready - 0.5));
}

/**
 * The manifest's subtitle tracks ({lang, name, vtt, srt} keys) as list items ({lang, name,
 * url}), under `base` (the manifest's `streamBase`).
 */
export function subtitleItems(list, base) {
  return (list ?? []).map((s) => ({ lang: s.lang, name: s.name, url: s.url ?? streamUrl(s.vtt, base), srt_url: s.srt_url ?? streamUrl(s.srt, base) }));
}

/** The manifest's downloads ({kind, key, bytes}) as list items ({kind, url, bytes}), under `base`. */
export function downloadItems(list, base) {
  return (list ?? []).filter((d) => d?.key).map((d) => ({ kind: d.kind, url: streamUrl(d.key, base), bytes: d.bytes }));
}

/** The fields of a library item that are stream URLs (they carry the playback token). */
export const URL_FIELDS = ['hls_url', 'dash_url', 'thumbnail_url', 'sprite', 'subtitles', 'downloads'];

/** Transcription still to come: the player keeps asking /status until it settles. */
export const SUBTITLES_COMING = new Set(['pending', 'in_progress']);
