//! ffmpeg argument-list builders. Pure: they return `Vec<OsString>` and are unit-tested.

use slicecast_core::job::{AudioJob, SliceJob};
use slicecast_core::ladder::{Rung, VideoCodec};
use std::ffi::OsString;
use std::path::Path;

/// Encoder knobs that are the same for the slice encoder and the bench baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct X264 {
    /// Preset (`veryfast`).
    pub preset: String,
    /// Constant rate factor under the bitrate cap.
    pub crf: u32,
    /// Threads per encoder (0 = auto).
    pub threads: u32,
}

/// Default CRF under the VBV cap.
pub const DEFAULT_CRF: u32 = slicecast_core::job::DEFAULT_CRF;

fn os(v: impl Into<OsString>) -> OsString {
    v.into()
}

fn secs(s: f64) -> String {
    format!("{s:.6}")
}

/// Quiet, non-interactive, overwriting: the start of every ffmpeg command line.
pub fn ffmpeg_prelude() -> Vec<OsString> {
    [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
    ]
    .iter()
    .map(os)
    .collect()
}

/// Movflags of every fragmented MP4 rung: one fragment per keyframe, no sample tables in the moov.
pub const FRAG_MOVFLAGS: &str = "+frag_keyframe+empty_moov+default_base_moof";

/// [`FRAG_MOVFLAGS`] with the moov written once the first packet is out.
pub const AV1_FRAG_MOVFLAGS: &str = "+frag_keyframe+empty_moov+default_base_moof+delay_moov";

/// The scale step of one rung (square pixels, 8-bit 4:2:0).
pub fn scale_filter(rung: &slicecast_core::ladder::Rung) -> String {
    format!(
        "scale={}:{}:flags=bicubic,setsar=1,format=yuv420p",
        rung.width, rung.height
    )
}

/// Container formats whose seeking is index-exact; others get a safety margin.
pub fn seeks_exactly(format_name: &str) -> bool {
    ["mov", "mp4", "matroska", "webm"]
        .iter()
        .any(|f| format_name.split(',').any(|n| n == *f))
}

/// Per-rung x264 output options (rate control capped at the rung's bitrate).
pub fn x264_rung_opts(x: &X264, bitrate_kbps: u32) -> Vec<OsString> {
    let mut v: Vec<OsString> = [
        "-c:v",
        "libx264",
        "-preset",
        &x.preset,
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
    ]
    .iter()
    .map(os)
    .collect();
    v.extend(capped_crf(x.crf, bitrate_kbps, x.threads));
    v
}

/// Constant quality `crf` under a cap of `bitrate_kbps` (a buffer of two
/// seconds at the cap), and `threads` when not 0 (= the encoder decides).
fn capped_crf(crf: u32, bitrate_kbps: u32, threads: u32) -> Vec<OsString> {
    let mut v = vec![
        os("-crf"),
        os(crf.to_string()),
        os("-maxrate"),
        os(format!("{bitrate_kbps}k")),
        os("-bufsize"),
        os(format!("{}k", bitrate_kbps * 2)),
    ];
    if threads > 0 {
        v.extend([os("-threads"), os(threads.to_string())]);
    }
    v
}

/// Per-rung AV1 output options: libaom in its real-time mode (`cpu-used
/// 8`, row multithreading), constrained quality under the rung's bitrate.
///
/// libaom, not SVT-AV1: ffmpeg 5.1's libsvtav1 wrapper ignores forced
/// keyframes (only the first frame is a keyframe), and a segment must start
/// with one; libaom honours them.
pub fn av1_rung_opts(threads: u32, bitrate_kbps: u32, crf: u32) -> Vec<OsString> {
    let mut v: Vec<OsString> = [
        "-c:v",
        "libaom-av1",
        "-usage",
        "realtime",
        "-cpu-used",
        "8",
        "-row-mt",
        "1",
        "-pix_fmt",
        "yuv420p",
        // libaom's constrained quality: CRF, with `-b:v` as the ceiling.
        "-b:v",
        &format!("{bitrate_kbps}k"),
    ]
    .iter()
    .map(os)
    .collect();
    v.extend(capped_crf(crf, bitrate_kbps, threads));
    v
}

/// The keyframe options of an AV1 encode: keyframes only where `forced`
/// says (libaom honours `-force_key_frames`), none periodic within `gop_frames`.
pub fn av1_keyframe_opts(gop_frames: u64, forced: Option<&str>) -> Vec<OsString> {
    let gop = gop_frames.max(1).to_string();
    let mut v = vec![os("-g"), os(&gop), os("-keyint_min"), os(&gop)];
    if let Some(f) = forced {
        v.extend([os("-force_key_frames"), os(f)]);
    }
    v
}

/// libaom's CRF for AV1 rungs (its 0–63 scale), under each rung's cap.
pub const AV1_CRF: u32 = 26;

/// The encoder options of one rung, by its codec, keyframes included.
pub fn rung_opts(x: &X264, rung: &Rung, gop_frames: u64, forced: Option<&str>) -> Vec<OsString> {
    match rung.codec {
        VideoCodec::H264 => {
            let mut v = x264_rung_opts(x, rung.bitrate_kbps);
            v.extend(keyframe_opts(gop_frames, forced));
            v
        }
        VideoCodec::Av1 => {
            let mut v = av1_rung_opts(x.threads, rung.bitrate_kbps, AV1_CRF);
            v.extend(av1_keyframe_opts(gop_frames, forced));
            v
        }
    }
}

/// A GOP longer than any video: keyframes come only where they are forced.
pub const UNBOUNDED_GOP: u64 = 1 << 30;

/// The keyframe options of every x264 encode slicecast makes (the slices,
/// and the benchmark's one-process baseline, so both place keyframes alike):
/// no periodic or scene-cut keyframe within `gop_frames`, keyframes exactly
/// where `forced` says (`-force_key_frames` syntax: times or an `expr:`),
/// each an IDR closing its GOP, so a segment cut there starts cleanly.
pub fn keyframe_opts(gop_frames: u64, forced: Option<&str>) -> Vec<OsString> {
    let gop = gop_frames.max(1).to_string();
    let mut v: Vec<OsString> = [
        "-g",
        &gop,
        "-keyint_min",
        &gop,
        "-sc_threshold",
        "0",
        "-flags",
        "+cgop",
        "-forced-idr",
        "1",
    ]
    .iter()
    .map(os)
    .collect();
    if let Some(f) = forced {
        v.extend([os("-force_key_frames"), os(f)]);
    }
    v
}

/// The filter graph of a slice: trim to the slice's frames (by pts, in the
/// stream's time base: exact, unlike seconds), split, scale to each rung (and to
/// the thumbnail size for the picked frames).
pub fn slice_filter(job: &SliceJob) -> String {
    let s = &job.slice;
    let n = job.rungs.len() + usize::from(!s.thumbs.is_empty());
    // Held first / last pictures (sound that starts earlier or ends later);
    // tpad counts from 0, so it follows the setpts that starts the slice at 0.
    let pad = if s.lead_pad + s.tail_pad > 0 {
        format!(
            "tpad=start={}:stop={}:start_mode=clone:stop_mode=clone,",
            s.lead_pad, s.tail_pad
        )
    } else {
        String::new()
    };
    // One picture size for every filter after it (with `-reinit_filter 0`,
    // a size change partway reaches this scale, not a rebuilt graph that
    // would start the slice's clock and frame count again); a no-op when
    // the picture already has that size.
    let size = job
        .settings
        .frame_size
        .map_or(String::new(), |(w, h)| format!("scale={w}:{h}:interl=-1,"));
    // HDR to SDR once, for every rung and thumbnail.
    let tone = job
        .settings
        .tone_map
        .map_or(String::new(), |t| crate::colour::tone_map_filter(&t));
    let mut g = format!(
        "[0:{}]{size}trim=start_pts={}:end_pts={},setpts=PTS-STARTPTS,{pad}{}{tone}split={n}",
        job.video_stream,
        s.trim_start_pts,
        s.trim_end_pts,
        if job.settings.deinterlace {
            "bwdif=mode=send_frame:deint=all,"
        } else {
            ""
        }
    );
    for i in 0..n {
        g.push_str(&format!("[s{i}]"));
    }
    for (i, r) in job.rungs.iter().enumerate() {
        g.push_str(&format!(";[s{i}]{}[v{i}]", scale_filter(r)));
    }
    if !s.thumbs.is_empty() {
        let select = thumb_select(job);
        let posters = poster_picks(job);
        match job.settings.poster.filter(|_| !posters.frames.is_empty()) {
            None => g.push_str(&format!(
                ";[s{}]{}[th]",
                n - 1,
                thumb_filter(&select, job.settings.thumb_size)
            )),
            // `n` counts the picked frames here: the poster frames are
            // among the thumbnails' frames.
            Some(c) => {
                let (w, h) = c.size;
                let picked: Vec<String> = posters
                    .frames
                    .iter()
                    .map(|p| format!("eq(n\\,{p})"))
                    .collect();
                g.push_str(&format!(
                    ";[s{}]select='{select}',split=2[tp][pp];[tp]{}[th];[pp]select='{}',scale={w}:{h},setsar=1[po]",
                    n - 1,
                    thumb_scale(job.settings.thumb_size),
                    picked.join("+")
                ));
            }
        }
    }
    g
}

/// The filter that makes a thumbnail of `size` from each frame `select`
/// picks (a slice's, and the benchmark's single-process baseline's).
pub fn thumb_filter(select: &str, size: (u32, u32)) -> String {
    format!("select='{select}',{}", thumb_scale(size))
}

fn thumb_scale((w, h): (u32, u32)) -> String {
    format!("scale={w}:{h}:flags=bicubic,setsar=1")
}

/// A slice's poster frames (see [`PosterCandidates`](slicecast_core::thumbs::PosterCandidates)).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PosterPicks {
    /// Which of the slice's distinct thumbnail frames (counted from 0) are
    /// also written full size.
    pub frames: Vec<u32>,
    /// Each candidate thumbnail's global number and the number (from 1) of
    /// the `poster_%05d.jpg` ffmpeg writes its frame to.
    pub files: Vec<(u32, u32)>,
}

/// The poster frames of a slice: its thumbnails that are poster candidates.
/// Several thumbnails can show one frame (a source slower than the
/// thumbnails), which ffmpeg picks, and writes, once.
pub fn poster_picks(job: &SliceJob) -> PosterPicks {
    let mut picks = PosterPicks::default();
    let Some(c) = job.settings.poster else {
        return picks;
    };
    for (index, thumb_file) in thumb_files(job) {
        if c.includes(index) {
            let frame = thumb_file - 1;
            if picks.frames.last() != Some(&frame) {
                picks.frames.push(frame);
            }
            picks.files.push((index, picks.frames.len() as u32));
        }
    }
    picks
}

/// Each of the slice's thumbnails (global number) and the number, from 1,
/// of the `thumb_%05d.jpg` ffmpeg writes its frame to: ffmpeg picks, and
/// numbers, each distinct frame once, in order.
pub fn thumb_files(job: &SliceJob) -> Vec<(u32, u32)> {
    let mut file_no = 0u32;
    let mut last_frame = None;
    job.slice
        .thumbs
        .iter()
        .map(|t| {
            if last_frame != Some(t.frame) {
                file_no += 1;
                last_frame = Some(t.frame);
            }
            (t.index, file_no)
        })
        .collect()
}

/// The output options of the thumbnails: one JPEG per picked frame.
pub fn thumb_output_opts() -> Vec<OsString> {
    ["-fps_mode", "passthrough", "-q:v", "4", "-f", "image2"]
        .iter()
        .map(os)
        .collect()
}

/// The `select` expression that picks a slice's thumbnails, of constant size
/// whatever the slice's length: a frame is picked when a thumbnail time
/// (`origin + k × every`) falls in `(previous frame's pts, its pts]`, i.e. it
/// is the first frame at or after that time, as the plan chose. `pts` counts
/// from the slice's start here (after `setpts=PTS-STARTPTS`); the slice's first
/// frame has no previous one, so the plan says whether it is picked.
pub fn thumb_select(job: &SliceJob) -> String {
    let s = &job.slice;
    let shift = s.start_pts - job.origin_pts;
    let every = s.thumb_every_pts.max(1);
    let first = u8::from(s.thumbs.first().is_some_and(|t| t.frame == 0));
    format!(
        "if(eq(n\\,0)\\,{first}\\,gt(floor((pts+{shift})/{every})\\,floor((prev_pts+{shift})/{every})))"
    )
}

/// Where ffmpeg should start reading for a slice, in seconds relative to the container start.
/// `None`: read from the start (the first slice, or an elementary stream,
/// which has no index to seek by and whose timestamps ffmpeg counts from
/// where it starts reading).
pub fn slice_seek_s(job: &SliceJob) -> Option<f64> {
    if crate::input::is_elementary_stream(&job.source.format_name) {
        return None;
    }
    let s = &job.slice;
    if s.seek_pts <= job.origin_pts && job.slice.index == 0 {
        return None;
    }
    let tb = job.time_base.as_f64();
    let margin = if seeks_exactly(&job.source.format_name) {
        0.0
    } else {
        3.0
    };
    // Each retry backs off further, in case the container seeks imprecisely.
    let margin = margin + 5.0 * f64::from(job.attempt.saturating_sub(1));
    let t = s.seek_pts as f64 * tb - job.source.start_time_s - margin - 0.001;
    (t > 0.0).then_some(t)
}

/// The whole ffmpeg command line of a slice: one decode, every rung, thumbnails.
/// Rung `i` goes to `out_dir/rung_<i>.mp4` (fragmented MP4, one fragment per
/// segment), thumbnails to `out_dir/thumb_%05d.jpg`.
pub fn slice_args(job: &SliceJob, x: &X264, out_dir: &Path) -> Vec<OsString> {
    let s = &job.slice;
    let t = x.threads.to_string();
    let mut v = ffmpeg_prelude();
    // `frame=N` reports on stdout twice a second: the worker's live progress.
    v.extend(["-progress", "pipe:1", "-stats_period", "0.5"].map(os));
    if x.threads > 0 {
        v.extend([
            os("-threads"),
            os(&t),
            os("-filter_complex_threads"),
            os(&t),
        ]);
    }
    if let Some(ss) = slice_seek_s(job) {
        v.extend([os("-ss"), os(secs(ss)), os("-noaccurate_seek")]);
    }
    // Trim, setpts, select and tpad keep state across the slice: ffmpeg must
    // not rebuild the graph when the pictures change size or format.
    v.extend([os("-copyts"), os("-reinit_filter"), os("0")]);
    v.extend(crate::input::input_args(
        &job.source.location,
        Some(&job.source.format_name),
    ));
    v.extend([os("-filter_complex"), os(slice_filter(job))]);
    let keyframes: Vec<String> = s.force_keyframes_s.iter().map(|k| secs(*k)).collect();
    let forced = (!keyframes.is_empty()).then(|| keyframes.join(","));
    for (i, r) in job.rungs.iter().enumerate() {
        v.extend([os("-map"), os(format!("[v{i}]"))]);
        // A slice is one GOP but for the forced segment starts.
        v.extend(rung_opts(x, r, s.frame_count() + 1, forced.as_deref()));
        v.extend(
            [
                "-fps_mode",
                "passthrough",
                "-enc_time_base",
                &format!("1/{}", job.timescale),
                "-video_track_timescale",
                &job.timescale.to_string(),
                "-movflags",
                match r.codec {
                    VideoCodec::H264 => FRAG_MOVFLAGS,
                    // libaom hands out its sequence header with the first
                    // packet: the (empty) moov waits for it, or av1C is empty.
                    VideoCodec::Av1 => AV1_FRAG_MOVFLAGS,
                },
            ]
            .iter()
            .map(os),
        );
        v.extend(reproducible_mp4("v"));
        v.push(out_dir.join(format!("rung_{i}.mp4")).into_os_string());
    }
    if !s.thumbs.is_empty() {
        v.extend([os("-map"), os("[th]")]);
        v.extend(thumb_output_opts());
        v.push(out_dir.join("thumb_%05d.jpg").into_os_string());
        if !poster_picks(job).frames.is_empty() {
            v.extend([os("-map"), os("[po]")]);
            v.extend(
                ["-fps_mode", "passthrough", "-q:v", "3", "-f", "image2"]
                    .iter()
                    .map(os),
            );
            v.push(out_dir.join("poster_%05d.jpg").into_os_string());
        }
    }
    v
}

/// The ffmpeg command line of the audio job: the whole track (or one
/// [`AudioChunk`](slicecast_core::job::AudioChunk) of it, with its pre- and
/// post-roll) once, AAC-LC, as fragmented MP4 with a fragment every segment
/// length, on the video's timeline.
pub fn audio_args(job: &AudioJob, out: &Path) -> Vec<OsString> {
    let chunk_start = job.chunk.map_or(0.0, |c| c.encode_start_s(job.sample_rate));
    let filter = format!(
        "asetpts=PTS-{}/TB,aresample={}:async=1:first_pts=0",
        secs(job.origin_s + chunk_start),
        job.sample_rate
    );
    let mut v: Vec<OsString> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
        "-copyts",
    ]
    .iter()
    .map(os)
    .collect();
    // Read from a little before the chunk; aresample trims to its exact start.
    let seek = job.origin_s + chunk_start - job.source.start_time_s - 2.0;
    if job.chunk.is_some() && seek > 0.0 {
        v.extend([os("-ss"), os(secs(seek)), os("-noaccurate_seek")]);
    }
    v.extend(crate::input::input_args(
        &job.source.location,
        Some(&job.source.format_name),
    ));
    v.extend(
        [
            "-map",
            &format!("0:{}", job.audio_stream),
            "-vn",
            "-sn",
            "-dn",
            "-af",
            &filter,
            "-c:a",
            "aac",
            "-b:a",
            &job.bitrate.to_string(),
            "-ac",
            &job.channels.to_string(),
            "-ar",
            &job.sample_rate.to_string(),
            "-movflags",
            "+empty_moov+default_base_moof",
            "-frag_duration",
            &((job.segment_seconds * 1e6).round() as u64).to_string(),
        ]
        .iter()
        .map(os),
    );
    if let Some(t) = job.chunk.and_then(|c| c.encode_seconds(job.sample_rate)) {
        v.extend([os("-t"), os(secs(t))]);
    }
    v.extend(reproducible_mp4("a"));
    v.push(out.as_os_str().to_owned());
    v
}

/// The end of every MP4 output: no timestamps, versions, metadata or chapters
/// from the source, so the same input gives the same bytes (one init segment
/// for every slice of a rung). `kind` is the stream type (`v` or `a`).
fn reproducible_mp4(kind: &str) -> Vec<OsString> {
    let flags = format!("-flags:{kind}");
    [
        "-fflags",
        "+bitexact",
        &flags,
        "+bitexact",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-f",
        "mp4",
    ]
    .iter()
    .map(os)
    .collect()
}

/// Output sample rate for a source rate: kept when AAC handles it well, else 48 kHz.
pub fn audio_sample_rate(source: u32) -> u32 {
    if [22_050, 24_000, 32_000, 44_100, 48_000].contains(&source) {
        source
    } else {
        48_000
    }
}

#[cfg(test)]
mod tests;
