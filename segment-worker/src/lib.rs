//! slicecast-segment-worker: encodes one slice at every rung in ONE ffmpeg
//! process (decode once, scale to all rungs, thumbnails from the same decode),
//! then turns each rung's fragmented MP4 into CMAF segments on the global
//! timeline; and encodes the whole audio track once.

use bytes::Bytes;
use md5::{Digest, Md5};
use slicecast_core::cmaf;
use slicecast_core::job::{
    AudioJob, AudioResult, EncodeSettings, Job, RungOutput, SliceJob, SliceResult,
};
use slicecast_core::keys;
use slicecast_core::ladder::VideoCodec;
use slicecast_core::presentation::SegmentInfo;
use slicecast_core::source_info::{Rational, rescale};
use slicecast_media::args::{self, X264};
use slicecast_media::{ProcessError, process};
use slicecast_storage::{BlobStore, StoreError};
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tracing::{info, instrument, warn};

#[cfg(feature = "fault-injection")]
mod inject;
mod outputs;
pub mod progress;

use outputs::{store_posters, store_thumbs};
pub use progress::ProgressFn;

#[cfg(feature = "fault-injection")]
pub use inject::{
    FAIL_SLICE_ENV, FailureRule, SLOW_SLICES_ENV, injected_failure, parse_rules, parse_slow,
    rules_from_env, slow_slice_delay,
};

/// A slice or audio job failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// ffmpeg failed or timed out.
    #[error("ffmpeg could not encode {what}: {source}")]
    Ffmpeg {
        /// Which job.
        what: String,
        /// The process error (with ffmpeg's stderr tail).
        #[source]
        source: ProcessError,
    },
    /// ffmpeg's output was not what the plan requires.
    #[error("unexpected encoder output for {what}: {detail}")]
    Output {
        /// Which job.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Local scratch I/O failed.
    #[error("scratch I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

impl WorkerError {
    /// True when another try may succeed: ffmpeg timed out or failed (a
    /// retry also seeks further back), the output was short, the store or the
    /// scratch disk had trouble. False when ffmpeg is missing, or the source
    /// or a key is not there: every try would fail the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Ffmpeg { source, .. } => source.is_retryable(),
            Self::Output { .. } | Self::Io(_) => true,
            Self::Store(e) => e.is_retryable(),
        }
    }

    /// ffmpeg's stderr tail, when the failure came from ffmpeg.
    pub fn stderr_tail(&self) -> &str {
        match self {
            Self::Ffmpeg { source, .. } => source.stderr_tail(),
            _ => "",
        }
    }
}

/// Worker settings that are not part of the job.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Where scratch directories go (the system temp dir by default).
    pub scratch: Option<PathBuf>,
    /// Timeout = `timeout_base + timeout_per_second × slice seconds`.
    pub timeout_base: Duration,
    /// See `timeout_base`.
    pub timeout_per_second: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            scratch: None,
            timeout_base: Duration::from_secs(120),
            timeout_per_second: Duration::from_secs(40),
        }
    }
}

fn scratch(opts: &WorkerOptions) -> std::io::Result<tempfile::TempDir> {
    match &opts.scratch {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::tempdir_in(d)
        }
        None => tempfile::tempdir(),
    }
}

fn md5_hex(data: &[u8]) -> String {
    let d: [u8; 16] = Md5::digest(data).into();
    slicecast_core::VideoId::from_digest(&d).to_string()
}

/// What a job asks for, as a digest: the job without the source's location
/// (a presigned URL differs on every run; the video id already names the
/// bytes) and without its attempt number. A stored result carries the digest
/// of its job, so a resumed run reuses it only when it would ask for the same.
pub fn job_digest(job: &Job) -> String {
    let mut j = job.clone();
    match &mut j {
        Job::Slice(s) => {
            s.source.location.clear();
            s.attempt = 0;
        }
        Job::Audio(a) => {
            a.source.location.clear();
            a.attempt = 0;
        }
    }
    md5_hex(&serde_json::to_vec(&j).unwrap_or_default())
}

/// Runs ffmpeg, handing each line of its stdout (the `-progress` reports,
/// where asked for) to `on_line`.
async fn run_ffmpeg(
    what: &str,
    argv: &[std::ffi::OsString],
    timeout: Duration,
    on_line: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), WorkerError> {
    process::run_streaming(&slicecast_media::ffmpeg_bin(), argv, timeout, on_line)
        .await
        .map(drop)
        .map_err(|source| WorkerError::Ffmpeg {
            what: what.to_owned(),
            source,
        })
}

/// Rewrites fragments onto the global timeline and stores them as segments
/// numbered from `first`: fragment j starts at `start + (tfdt_j - tfdt_0)`.
async fn store_fragments(
    store: &dyn BlobStore,
    fragments: &[&[u8]],
    infos: &[cmaf::FragmentInfo],
    first: u32,
    start: u64,
    cto_shift: i64,
    key: impl Fn(u32) -> String,
) -> Result<Vec<SegmentInfo>, WorkerError> {
    let base0 = infos.first().map_or(0, |i| i.base_decode_time);
    let mut segments = Vec::with_capacity(fragments.len());
    for (j, (frag, info)) in fragments.iter().zip(infos).enumerate() {
        let number = first + j as u32;
        let at = start + (info.base_decode_time - base0);
        let mut bytes = frag.to_vec();
        cmaf::rewrite_fragment(&mut bytes, number + 1, at, cto_shift).map_err(|e| {
            WorkerError::Output {
                what: format!("segment {number}"),
                detail: e.to_string(),
            }
        })?;
        let size = bytes.len() as u64;
        store.put(&key(number), Bytes::from(bytes)).await?;
        segments.push(SegmentInfo {
            number,
            start: at,
            duration: info.duration,
            bytes: size,
        });
    }
    Ok(segments)
}

/// The slice's fragments with its last frame lasting until the next slice
/// starts (the plan's `end_pts`): the encoder gives the last frame a typical
/// duration, which leaves a hole (or an overlap) in the timeline where the
/// source's frames are not on a regular grid (variable frame rate, a gap in
/// the source, a splice made continuous).
fn end_at_next_slice(
    job: &SliceJob,
    fragments: &mut [Cow<'_, [u8]>],
    infos: &mut [cmaf::FragmentInfo],
    init: &cmaf::InitInfo,
) -> Result<(), cmaf::CmafError> {
    let ts = Rational::new(1, i64::from(job.timescale));
    let at = |pts: i64| rescale(pts - job.origin_pts, job.time_base, ts).max(0);
    let wanted = at(job.slice.end_pts) - at(job.slice.start_pts);
    let actual: u64 = infos.iter().map(|i| i.duration).sum();
    let delta = wanted - i64::try_from(actual).unwrap_or(i64::MAX);
    let (Some(frag), Some(info)) = (fragments.last_mut(), infos.last_mut()) else {
        return Ok(());
    };
    if delta != 0 {
        let patched = cmaf::extend_last_sample(frag, init.default_sample_duration, delta)?;
        *info = cmaf::fragment_info(&patched, init.default_sample_duration)?;
        *frag = Cow::Owned(patched);
    }
    Ok(())
}

/// Encodes one slice and stores its segments, init segments, thumbnails and
/// result (`work/slice_<i>.json`, written last: the slice's commit point).
pub async fn encode_slice(
    job: &SliceJob,
    store: &dyn BlobStore,
    opts: &WorkerOptions,
) -> Result<SliceResult, WorkerError> {
    encode_slice_reporting(job, store, opts, &progress::ignore).await
}

/// [`encode_slice`], telling `progress` how far the encoder is as it runs.
#[instrument(skip_all, fields(video.id = %job.video_id, slice.index = job.slice.index, attempt = job.attempt))]
pub async fn encode_slice_reporting(
    job: &SliceJob,
    store: &dyn BlobStore,
    opts: &WorkerOptions,
    progress: &ProgressFn,
) -> Result<SliceResult, WorkerError> {
    let started = Instant::now();
    let untoned;
    let job = if job.settings.tone_map.is_some() && !slicecast_media::colour::can_tone_map().await {
        warn!("this ffmpeg has no zscale or tonemap filter: the HDR source is encoded as it is");
        untoned = SliceJob {
            settings: EncodeSettings {
                tone_map: None,
                ..job.settings.clone()
            },
            ..job.clone()
        };
        &untoned
    } else {
        job
    };
    let what = format!("slice {}", job.slice.index);
    let dir = scratch(opts)?;
    let x = X264 {
        preset: job.settings.preset.clone(),
        crf: job.settings.crf,
        threads: job.settings.threads,
    };
    let argv = args::slice_args(job, &x, dir.path());
    let seconds = (job.slice.end_pts - job.slice.start_pts) as f64 * job.time_base.as_f64();
    let timeout = opts.timeout_base + opts.timeout_per_second.mul_f64(seconds.max(1.0));
    let frame_count = job.slice.frame_count();
    let on_line = |line: &str| {
        if let Some(frames) = progress::frames_in(line) {
            progress(progress::fraction(frames, frame_count));
        }
    };
    run_ffmpeg(&what, &argv, timeout, &on_line).await?;

    let out_err = |detail: String| WorkerError::Output {
        what: what.clone(),
        detail,
    };
    let ts = Rational::new(1, i64::from(job.timescale));
    let offset = rescale(job.slice.start_pts - job.origin_pts, job.time_base, ts).max(0) as u64
        + job.video_delay_ticks;
    let mut rungs = Vec::with_capacity(job.rungs.len());
    for (i, rung) in job.rungs.iter().enumerate() {
        let data = tokio::fs::read(dir.path().join(format!("rung_{i}.mp4"))).await?;
        let split = cmaf::split(&data).map_err(|e| out_err(format!("{}: {e}", rung.name)))?;
        let init =
            cmaf::init_info(&split.init).map_err(|e| out_err(format!("{}: {e}", rung.name)))?;
        if init.timescale != job.timescale {
            return Err(out_err(format!(
                "{} timescale {} instead of {}",
                rung.name, init.timescale, job.timescale
            )));
        }
        let mut infos = split
            .fragments
            .iter()
            .map(|f| cmaf::fragment_info(f, init.default_sample_duration))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| out_err(format!("{}: {e}", rung.name)))?;
        let frames: u64 = infos.iter().map(|f| u64::from(f.samples)).sum();
        let expected = job.slice.frame_count();
        if frames != expected {
            let tb = job.time_base.as_f64();
            let at = |pts: i64| (pts - job.origin_pts) as f64 * tb;
            let span = (at(job.slice.start_pts), at(job.slice.end_pts));
            return Err(out_err(frame_count_mismatch(frames, expected, span)));
        }
        if infos.len() != job.slice.segment_starts.len() {
            return Err(out_err(format!(
                "{}: {} segments instead of the {} planned",
                rung.name,
                infos.len(),
                job.slice.segment_starts.len()
            )));
        }
        let mut fragments: Vec<Cow<'_, [u8]>> =
            split.fragments.iter().map(|f| Cow::Borrowed(*f)).collect();
        end_at_next_slice(job, &mut fragments, &mut infos, &init)
            .map_err(|e| out_err(format!("{}: {e}", rung.name)))?;
        let fragments: Vec<&[u8]> = fragments.iter().map(AsRef::as_ref).collect();
        // Every fragment starts with a closed-GOP keyframe whose composition offset is the
        // encoder's constant reorder delay; removing it puts presentation time == decode time
        // at every segment start, with no edit list in the (shared) init segment.
        let shift = infos[0].first_composition_offset;
        let segments = store_fragments(
            store,
            &fragments,
            &infos,
            job.slice.first_segment,
            offset,
            shift,
            |n| keys::video_segment(&job.video_id, &rung.name, n),
        )
        .await?;
        let init_md5 = md5_hex(&split.init);
        store
            .put(
                &keys::video_init(&job.video_id, &rung.name),
                Bytes::from(split.init),
            )
            .await?;
        rungs.push(RungOutput {
            rung: rung.name.clone(),
            codecs: init.codecs.unwrap_or_else(|| {
                match rung.codec {
                    VideoCodec::H264 => "avc1.640028",
                    VideoCodec::Av1 => "av01.0.08M.08",
                }
                .into()
            }),
            init_md5,
            segments,
        });
    }
    let thumbs = store_thumbs(job, dir.path(), store).await?;
    store_posters(job, dir.path(), store).await?;
    let result = SliceResult {
        index: job.slice.index,
        rungs,
        thumbs,
        frames: job.slice.frame_count(),
        encode_ms: started.elapsed().as_millis() as u64,
        attempt: job.attempt,
        job_digest: job_digest(&Job::Slice(job.clone())),
    };
    let json = serde_json::to_vec(&result).map_err(|e| out_err(e.to_string()))?;
    store
        .put(
            &keys::slice_result(&job.video_id, job.slice.index),
            Bytes::from(json),
        )
        .await?;
    info!(
        duration_ms = result.encode_ms,
        frames = result.frames,
        "slice encoded"
    );
    Ok(result)
}

/// Why a slice whose rungs hold `frames` frames, where the index lists
/// `expected` between `from` and `to` seconds, is refused.
fn frame_count_mismatch(frames: u64, expected: u64, (from, to): (f64, f64)) -> String {
    if frames < expected {
        format!(
            "only {frames} of the {expected} frames between {from:.1} s and {to:.1} s could be decoded: the video data is damaged or missing there"
        )
    } else {
        format!(
            "{frames} frames were decoded between {from:.1} s and {to:.1} s, where the file's index lists {expected}: its timing data is damaged there"
        )
    }
}

/// Encodes the whole audio track once and stores its init segment, segments and
/// result (`work/audio_<first fragment>.json`); or one chunk of the track.
#[instrument(skip_all, fields(video.id = %job.video_id, attempt = job.attempt))]
pub async fn encode_audio(
    job: &AudioJob,
    store: &dyn BlobStore,
    opts: &WorkerOptions,
) -> Result<AudioResult, WorkerError> {
    let started = Instant::now();
    let what = "the audio track".to_owned();
    let dir = scratch(opts)?;
    let out = dir.path().join("audio.mp4");
    let argv = args::audio_args(job, &out);
    let timeout =
        opts.timeout_base + (opts.timeout_per_second / 8).mul_f64(job.duration_s.max(1.0));
    run_ffmpeg(&what, &argv, timeout, &|_| {}).await?;
    let out_err = |detail: String| WorkerError::Output {
        what: what.clone(),
        detail,
    };
    let data = tokio::fs::read(&out).await?;
    let split = cmaf::split(&data).map_err(|e| out_err(e.to_string()))?;
    let init = cmaf::init_info(&split.init).map_err(|e| out_err(e.to_string()))?;
    let infos = split
        .fragments
        .iter()
        .map(|f| cmaf::fragment_info(f, init.default_sample_duration))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| out_err(e.to_string()))?;
    let segments = match job.chunk {
        // No sound from the job's start on: the track has none, or it ended
        // before this chunk (a gap within the track is filled with silence).
        _ if split.fragments.is_empty() => Vec::new(),
        None => {
            let start = infos.first().map_or(0, |i| i.base_decode_time);
            store_fragments(store, &split.fragments, &infos, 0, start, 0, |n| {
                keys::audio_segment(&job.video_id, n)
            })
            .await?
        }
        Some(c) => {
            // Drop the pre-roll fragment and, unless this is the last chunk,
            // the post-roll: keep whole fragments of the track's grid.
            let pre = c.pre_roll() as usize;
            let wanted = if c.last {
                split.fragments.len()
            } else {
                pre + c.fragments as usize
            };
            // Fewer fragments than wanted: the audio ends early (the
            // coordinator checks that the chunks still chain).
            let end = wanted.min(split.fragments.len()).max(pre);
            if let Some(bad) = infos[pre..end.saturating_sub(1).max(pre)]
                .iter()
                .find(|i| u64::from(i.samples) * 1024 != c.fragment_samples())
            {
                return Err(out_err(format!(
                    "audio fragment of {} frames, the grid has {}",
                    bad.samples, c.fragment_frames
                )));
            }
            let start = u64::from(c.first_fragment) * c.fragment_samples();
            store_fragments(
                store,
                &split.fragments[pre..end],
                &infos[pre..end],
                c.first_fragment,
                start,
                0,
                |n| keys::audio_segment(&job.video_id, n),
            )
            .await?
        }
    };
    store
        .put(&keys::audio_init(&job.video_id), Bytes::from(split.init))
        .await?;
    let result = AudioResult {
        codecs: init.codecs.unwrap_or_else(|| "mp4a.40.2".into()),
        sample_rate: job.sample_rate,
        channels: job.channels,
        bitrate: job.bitrate,
        timescale: init.timescale,
        segments,
        encode_ms: started.elapsed().as_millis() as u64,
        job_digest: job_digest(&Job::Audio(job.clone())),
    };
    let json = serde_json::to_vec(&result).map_err(|e| out_err(e.to_string()))?;
    store
        .put(
            &keys::audio_result(&job.video_id, job.chunk.map_or(0, |c| c.first_fragment)),
            Bytes::from(json),
        )
        .await?;
    info!(
        duration_ms = result.encode_ms,
        segments = result.segments.len(),
        "audio encoded"
    );
    Ok(result)
}

#[cfg(test)]
mod tests;
