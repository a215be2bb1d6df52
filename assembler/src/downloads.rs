//! Downloads made from the segments already encoded — a remux, never a
//! second encode: one progressive MP4 (`+faststart`, so it plays while it
//! downloads) of the tallest rung up to 1080p with the audio, and an M4A of
//! the audio alone.

use crate::{AssembleError, AssembleInput, ffmpeg_prelude, ffmpeg_within, os};
use slicecast_core::keys;
use slicecast_core::manifest::{Download, DownloadKind};
use slicecast_core::presentation::{Presentation, SegmentInfo};
use slicecast_storage::BlobStore;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The tallest rung the MP4 download may have (its short side).
pub const MAX_DOWNLOAD_SIDE: u32 = 1080;

/// Writes `init` then every segment of a track into `out`: one fragmented MP4.
async fn join_track(
    store: &dyn BlobStore,
    init: &str,
    segments: &[SegmentInfo],
    segment_key: impl Fn(u32) -> String,
    out: &Path,
) -> Result<(), AssembleError> {
    let mut file = tokio::fs::File::create(out).await?;
    file.write_all(&store.get(init).await?).await?;
    for s in segments {
        file.write_all(&store.get(&segment_key(s.number)).await?)
            .await?;
    }
    file.flush().await?;
    Ok(())
}

/// The input of one fragmented MP4 this module wrote (files only, the MP4
/// demuxer only).
fn own_input(path: &Path) -> Vec<OsString> {
    slicecast_media::input::input_args(&path.to_string_lossy(), Some("mov,mp4,m4a,3gp,3g2,mj2"))
}

async fn remux(
    inputs: &[&Path],
    maps: &[&str],
    out: &Path,
    timeout: Duration,
    what: &str,
) -> Result<(), AssembleError> {
    let mut args = ffmpeg_prelude(&[]);
    for input in inputs {
        args.extend(own_input(input));
    }
    for m in maps {
        args.extend([os("-map"), os(*m)]);
    }
    args.extend(
        [
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            "-map_metadata",
            "-1",
        ]
        .iter()
        .map(os),
    );
    args.push(out.as_os_str().to_owned());
    ffmpeg_within(&args, what, timeout).await
}

async fn store_download(
    store: &dyn BlobStore,
    kind: DownloadKind,
    key: String,
    path: &Path,
) -> Result<Download, AssembleError> {
    let bytes = tokio::fs::metadata(path).await?.len();
    store.put_file(&key, path).await?;
    Ok(Download { kind, key, bytes })
}

/// Makes and stores the MP4 (and, with sound, the M4A) of the video.
pub(crate) async fn downloads(
    store: &dyn BlobStore,
    input: &AssembleInput,
    p: &Presentation,
) -> Result<Vec<Download>, AssembleError> {
    let id = &input.video_id;
    let Some(track) = p
        .video
        .iter()
        .find(|t| t.rung.codec.is_h264() && t.rung.width.min(t.rung.height) <= MAX_DOWNLOAD_SIDE)
        .or(p.video.iter().rfind(|t| t.rung.codec.is_h264()))
    else {
        return Ok(Vec::new());
    };
    // Copying is disk-bound: about a minute per hour of 1080p is plenty.
    let timeout = Duration::from_secs(120) + Duration::from_secs_f64(p.duration_s.max(0.0) / 4.0);
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("video.mp4");
    let rung = &track.rung.name;
    join_track(
        store,
        &keys::video_init(id, rung),
        &track.segments,
        |n| keys::video_segment(id, rung, n),
        &video,
    )
    .await?;
    let audio = match &p.audio {
        Some(a) => {
            let path = dir.path().join("audio.mp4");
            join_track(
                store,
                &keys::audio_init(id),
                &a.segments,
                |n| keys::audio_segment(id, n),
                &path,
            )
            .await?;
            Some(path)
        }
        None => None,
    };
    let mp4 = dir.path().join("out.mp4");
    match &audio {
        Some(a) => {
            remux(
                &[&video, a],
                &["0:v:0", "1:a:0"],
                &mp4,
                timeout,
                "the MP4 download",
            )
            .await?
        }
        None => remux(&[&video], &["0:v:0"], &mp4, timeout, "the MP4 download").await?,
    }
    tokio::fs::remove_file(&video).await?;
    let mut out = vec![
        store_download(
            store,
            DownloadKind::Mp4,
            keys::download(id, &format!("{rung}.mp4")),
            &mp4,
        )
        .await?,
    ];
    if let Some(a) = &audio {
        let m4a = dir.path().join("out.m4a");
        remux(&[a], &["0:a:0"], &m4a, timeout, "the M4A download").await?;
        out.push(
            store_download(
                store,
                DownloadKind::M4a,
                keys::download(id, "audio.m4a"),
                &m4a,
            )
            .await?,
        );
    }
    Ok(out)
}
