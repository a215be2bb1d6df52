//! slicecast-assembler: once every slice is encoded, writes the HLS master and
//! media playlists and the DASH MPD over the same segment files, the thumbnail
//! sprite sheets with their WebVTT track, and a poster frame.

mod downloads;
mod poster;
pub mod progressive;
pub mod sprites;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use slicecast_core::job::{AudioResult, SliceResult, SourceRef, ToneMap};
use slicecast_core::ladder::Rung;
use slicecast_core::manifest::{Assets, Download, RungSummary};
use slicecast_core::plan::SlicePlan;
use slicecast_core::presentation::{AudioTrack, Presentation, Track, VideoTrack};
use slicecast_core::thumbs;
use slicecast_core::{VideoId, dash, hls, keys};
use slicecast_media::{ProcessError, process};
use slicecast_storage::{BlobStore, StoreError};
use std::ffi::OsString;
use std::time::Duration;
use tracing::{info, instrument, warn};

/// Sprite-sheet settings (`SPRITE_INTERVAL`, `SPRITE_COLUMNS`, `SPRITE_ROWS`, `SPRITE_SCALE_W`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpriteSettings {
    /// Seconds between thumbnails.
    pub interval_s: f64,
    /// Thumbnails per row.
    pub columns: u32,
    /// Rows per sheet.
    pub rows: u32,
    /// Thumbnail width in pixels.
    pub width: u32,
}

impl Default for SpriteSettings {
    fn default() -> Self {
        Self {
            interval_s: 1.0,
            columns: 10,
            rows: 10,
            width: 180,
        }
    }
}

/// Everything the assembler needs: plain serde data, so the job travels
/// through a Lambda invoke as well as a local call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssembleInput {
    /// The video.
    pub video_id: VideoId,
    /// The slice plan.
    pub plan: SlicePlan,
    /// The rungs, tallest first.
    pub rungs: Vec<Rung>,
    /// Source frame rate.
    pub frame_rate: f64,
    /// Every slice's result, in slice order.
    pub slices: Vec<SliceResult>,
    /// The audio result, if the source had audio.
    pub audio: Option<AudioResult>,
    /// Where ffmpeg can read the source, and its probed format (for the poster).
    pub source: SourceRef,
    /// Displayed size of the source.
    pub display_size: (u32, u32),
    /// Sprite settings.
    pub sprite: SpriteSettings,
    /// Whether to write the MPD.
    pub generate_dash: bool,
    /// Whether to make the MP4 and M4A downloads.
    #[serde(default = "yes")]
    pub generate_downloads: bool,
    /// How to map an HDR source's pictures to SDR (for the poster, when it
    /// is taken from the source).
    #[serde(default)]
    pub tone_map: Option<ToneMap>,
}

fn yes() -> bool {
    true
}

/// What the assembler wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assembled {
    /// Asset keys.
    pub assets: Assets,
    /// Rendition summaries.
    pub rungs: Vec<RungSummary>,
    /// Presentation duration in seconds.
    pub duration_s: f64,
    /// The downloads made.
    #[serde(default)]
    pub downloads: Vec<Download>,
    /// Milliseconds spent making them.
    #[serde(default)]
    pub downloads_ms: u64,
}

/// Assembly failed.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// The slice results do not fit together.
    #[error("the encoded slices do not fit together: {0}")]
    Inconsistent(String),
    /// ffmpeg failed making sprites or the poster.
    #[error("making {what} failed: {source}")]
    Ffmpeg {
        /// What.
        what: String,
        /// Why.
        #[source]
        source: ProcessError,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Scratch I/O failed.
    #[error("scratch I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// One video track per rung over `slices` (in order, from slice 0), checking
/// that they fit: one init segment per rung, contiguous segment numbers.
pub(crate) fn video_tracks(
    rungs: &[Rung],
    slices: &[SliceResult],
    frame_rate: f64,
    timescale: u32,
) -> Result<Vec<VideoTrack>, AssembleError> {
    let mut video = Vec::with_capacity(rungs.len());
    for (i, rung) in rungs.iter().enumerate() {
        let mut segments = Vec::new();
        let mut init_md5: Option<&str> = None;
        let mut codecs = String::new();
        for s in slices {
            let r = s
                .rungs
                .get(i)
                .filter(|r| r.rung == rung.name)
                .ok_or_else(|| {
                    AssembleError::Inconsistent(format!(
                        "slice {} lacks rung {}",
                        s.index, rung.name
                    ))
                })?;
            match init_md5 {
                None => init_md5 = Some(&r.init_md5),
                Some(m) if m != r.init_md5 => {
                    return Err(AssembleError::Inconsistent(format!(
                        "rung {}: slice {} has a different init segment",
                        rung.name, s.index
                    )));
                }
                Some(_) => {}
            }
            codecs.clone_from(&r.codecs);
            segments.extend_from_slice(&r.segments);
        }
        for (n, w) in segments.iter().enumerate() {
            if w.number != n as u32 {
                return Err(AssembleError::Inconsistent(format!(
                    "rung {}: segment {} is missing",
                    rung.name, n
                )));
            }
        }
        for w in segments.windows(2) {
            let end = w[0].start + w[0].duration;
            if end != w[1].start {
                warn!(rung = %rung.name, segment = w[1].number, gap_ticks = w[1].start as i64 - end as i64, "timestamp gap between segments");
            }
        }
        video.push(VideoTrack {
            rung: rung.clone(),
            codecs,
            frame_rate,
            timescale,
            segments,
        });
    }
    Ok(video)
}

/// The audio track of an audio result.
pub(crate) fn audio_track(a: &AudioResult) -> AudioTrack {
    AudioTrack {
        codecs: a.codecs.clone(),
        sample_rate: a.sample_rate,
        channels: a.channels,
        bitrate: a.bitrate,
        timescale: a.timescale,
        segments: a.segments.clone(),
    }
}

/// Builds the presentation from the slice results, checking that they fit:
/// one init segment per rung, contiguous segment numbers and timestamps.
pub fn presentation(input: &AssembleInput) -> Result<Presentation, AssembleError> {
    let video = video_tracks(
        &input.rungs,
        &input.slices,
        input.frame_rate,
        input.plan.timescale,
    )?;
    let audio = input.audio.as_ref().map(audio_track);
    let duration_s = video
        .iter()
        .map(VideoTrack::duration_s)
        .chain(audio.iter().map(AudioTrack::duration_s))
        .fold(0.0, f64::max);
    Ok(Presentation {
        duration_s,
        video,
        audio,
        subtitles: Vec::new(),
    })
}

async fn put_text(store: &dyn BlobStore, key: &str, text: String) -> Result<(), StoreError> {
    store.put(key, Bytes::from(text)).await
}

/// Writes playlists, MPD, sprites, thumbnails track and poster.
#[instrument(skip_all, fields(video.id = %input.video_id))]
pub async fn assemble(
    store: &dyn BlobStore,
    input: &AssembleInput,
) -> Result<Assembled, AssembleError> {
    let id = &input.video_id;
    let p = presentation(input)?;
    let mut assets = Assets::default();
    for t in &p.video {
        put_text(
            store,
            &keys::hls(id, &format!("{}.m3u8", t.rung.name)),
            hls::video_playlist(t),
        )
        .await?;
    }
    if let Some(a) = &p.audio {
        put_text(store, &keys::hls(id, "audio.m3u8"), hls::audio_playlist(a)).await?;
    }
    // Kept so the playlists and MPD can be rendered again when subtitles arrive.
    let json = serde_json::to_string(&p).map_err(|e| AssembleError::Inconsistent(e.to_string()))?;
    put_text(store, &keys::presentation(id), json).await?;
    let master = keys::hls(id, "master.m3u8");
    put_text(store, &master, hls::master_playlist(&p)).await?;
    assets.hls_master = Some(master);
    if input.generate_dash {
        let mpd = keys::dash_mpd(id);
        put_text(store, &mpd, dash::mpd(&p)).await?;
        assets.dash_mpd = Some(mpd);
    }

    // The sprite sheets, the poster and the downloads read different things
    // and write different keys: they run at once (the encoders are done, so
    // their ffmpeg processes have the cores).
    let layout = sprites::layout(input.display_size, &input.sprite);
    let count = input.plan.thumb_count;
    let sheets = async {
        if count == 0 {
            return Ok::<_, AssembleError>((Vec::new(), None));
        }
        let sheets = sprites::sprites(store, id, &layout, count).await?;
        let vtt = keys::thumbnail(id, "thumbnails.vtt");
        put_text(
            store,
            &vtt,
            thumbs::thumbnails_vtt(&layout, count, p.duration_s),
        )
        .await?;
        Ok((sheets, Some(vtt)))
    };
    let downloads = async {
        let started = std::time::Instant::now();
        if !input.generate_downloads {
            return (Vec::new(), 0);
        }
        let made = match downloads::downloads(store, input, &p).await {
            Ok(d) => {
                info!(ms = started.elapsed().as_millis() as u64, "downloads made");
                d
            }
            // The stream is complete and plays: a download that could not be
            // made is left out, not a reason to fail the video.
            Err(e) => {
                warn!(error = %e, "the downloads could not be made");
                Vec::new()
            }
        };
        (made, started.elapsed().as_millis() as u64)
    };
    let (sheets, poster, (downloads, downloads_ms)) =
        tokio::join!(sheets, poster::poster(store, input, &p), downloads);
    (assets.sprites, assets.thumbnails_vtt) = sheets?;
    assets.poster = Some(poster?);

    let rungs = p
        .video
        .iter()
        .map(|t| RungSummary {
            name: t.rung.name.clone(),
            width: t.rung.width,
            height: t.rung.height,
            bitrate_kbps: t.rung.bitrate_kbps,
            average_bitrate: t.average_bitrate(),
            codecs: t.codecs.clone(),
            playlist: keys::hls(id, &format!("{}.m3u8", t.rung.name)),
        })
        .collect();
    info!(
        rungs = p.video.len(),
        duration_s = p.duration_s,
        "assembled"
    );
    Ok(Assembled {
        assets,
        rungs,
        duration_s: p.duration_s,
        downloads_ms,
        downloads,
    })
}

/// Runs ffmpeg with `args` for at most two minutes; `what` names its output
/// in the error.
pub(crate) async fn ffmpeg(
    args: &[OsString],
    what: impl Into<String>,
) -> Result<(), AssembleError> {
    ffmpeg_within(args, what, Duration::from_secs(120)).await
}

/// [`ffmpeg`] with its own time limit (a remux of a long video takes longer).
pub(crate) async fn ffmpeg_within(
    args: &[OsString],
    what: impl Into<String>,
    timeout: Duration,
) -> Result<(), AssembleError> {
    process::run(&slicecast_media::ffmpeg_bin(), args, timeout)
        .await
        .map(|_| ())
        .map_err(|source| AssembleError::Ffmpeg {
            what: what.into(),
            source,
        })
}

/// ffmpeg's quiet, non-interactive, overwriting options, then `more`.
pub(crate) fn ffmpeg_prelude(more: &[&str]) -> Vec<OsString> {
    ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        .iter()
        .chain(more)
        .map(os)
        .collect()
}

pub(crate) fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}
