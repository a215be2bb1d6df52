//! Argument lists of every process the benchmark runs, and parsing of what they
//! print. Pure: data in, `Vec<OsString>` out, unit-tested below.

use slicecast_core::ladder::{Rung, VideoCodec};
use slicecast_media::args::{
    FRAG_MOVFLAGS, UNBOUNDED_GOP, X264, av1_keyframe_opts, av1_rung_opts, ffmpeg_prelude,
    keyframe_opts, scale_filter, thumb_filter, thumb_output_opts, x264_rung_opts,
};
use std::ffi::OsString;
use std::path::Path;

/// Output segment length of slicecast's defaults, in seconds; the ladder
/// baseline forces a keyframe at the same times.
pub const SEGMENT_SECONDS: f64 = 4.0;
/// Seconds of video per legacy sprite sheet (10 × 10 thumbnails at 1 fps).
pub const LEGACY_SPRITE_SECONDS: u32 = 100;

fn os(v: impl Into<OsString>) -> OsString {
    v.into()
}

fn path(p: &Path) -> OsString {
    p.as_os_str().to_owned()
}

fn strs(v: &[&str]) -> Vec<OsString> {
    v.iter().map(os).collect()
}

/// `slicecast transcode INPUT --out OUT --quiet --no-subtitles
/// --generate-downloads false` with
/// slicecast's default preset, CRF and segment length spelled out (so
/// `X264_PRESET` and friends in the environment cannot make it differ from the
/// ladder baseline), and `--workers N` only when the bench was given one.
/// Subtitles are off because no baseline transcribes: speech recognition (and,
/// on a fresh machine, Whisper's install) would be counted as slicecast's
/// transcoding time; downloads are off because no baseline makes them.
pub fn transcode_args(
    input: &Path,
    out: &Path,
    preset: &str,
    crf: u32,
    workers: Option<usize>,
) -> Vec<OsString> {
    let mut v = vec![
        os("transcode"),
        path(input),
        os("--out"),
        path(out),
        os("--quiet"),
        // The baselines transcribe nothing: neither does slicecast here.
        os("--no-subtitles"),
        // Nor do they remux a progressive MP4 and an M4A for download.
        os("--generate-downloads"),
        os("false"),
    ];
    v.extend([os("--preset"), os(preset), os("--crf"), os(crf.to_string())]);
    v.extend([os("--segment-seconds"), os(format!("{SEGMENT_SECONDS}"))]);
    if let Some(n) = workers {
        v.extend([os("--workers"), os(n.to_string())]);
    }
    v
}

/// The thumbnails the ladder baseline makes, as slicecast's slices do: one
/// of `size` every `every_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thumbs {
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Seconds between thumbnails.
    pub every_s: f64,
}

/// The filter graph of the ladder baseline: decode once, split, scale per rung
/// exactly as a slice does, and pick the thumbnails a slice picks (the first
/// frame at or after each multiple of the interval).
pub fn ladder_filter(rungs: &[Rung], thumbs: Option<Thumbs>) -> String {
    let n = rungs.len() + usize::from(thumbs.is_some());
    let mut g = format!("[0:v:0]split={n}");
    for i in 0..n {
        g.push_str(&format!("[s{i}]"));
    }
    for (i, r) in rungs.iter().enumerate() {
        g.push_str(&format!(";[s{i}]{}[v{i}]", scale_filter(r)));
    }
    if let Some(t) = thumbs {
        let every = t.every_s.max(1e-3);
        let select = format!("if(eq(n\\,0)\\,1\\,gt(floor(t/{every})\\,floor(prev_t/{every})))");
        g.push_str(&format!(
            ";[s{}]{}[th]",
            n - 1,
            thumb_filter(&select, t.size)
        ));
    }
    g
}

/// One codec's encode of one rung alone, for the codec rate-distortion
/// curves of `bench --av1`: the rung's scale, the production encoder options
/// of `codec` at `crf` under the rung's bitrate cap (the same cap for both
/// codecs), a keyframe every segment length, video only.
pub fn codec_point_args(
    input: &Path,
    rung: &Rung,
    codec: VideoCodec,
    crf: u32,
    out: &Path,
) -> Vec<OsString> {
    let mut v = ffmpeg_prelude();
    v.extend([os("-i"), path(input), os("-map"), os("0:v:0"), os("-an")]);
    v.extend([os("-vf"), os(scale_filter(rung))]);
    let keyframes = format!("expr:gte(t,n_forced*{SEGMENT_SECONDS})");
    match codec {
        VideoCodec::H264 => {
            let x = X264 {
                preset: "veryfast".into(),
                crf,
                threads: 0,
            };
            v.extend(x264_rung_opts(&x, rung.bitrate_kbps));
            v.extend(keyframe_opts(UNBOUNDED_GOP, Some(&keyframes)));
        }
        VideoCodec::Av1 => {
            v.extend(av1_rung_opts(0, rung.bitrate_kbps, crf));
            v.extend(av1_keyframe_opts(UNBOUNDED_GOP, Some(&keyframes)));
        }
    }
    v.extend(strs(&["-fps_mode", "passthrough", "-f", "mp4"]));
    v.push(path(out));
    v
}

/// Where the ladder baseline writes rung `r`.
pub fn ladder_output(out_dir: &Path, r: &Rung) -> std::path::PathBuf {
    out_dir.join(format!("{}.mp4", r.name))
}

/// (b): ONE ffmpeg encoding the whole ladder with slicecast's settings: the
/// same x264 options per rung, a keyframe every segment length, closed GOPs,
/// the source's frames passed through as they are (as a slice does: no frames
/// duplicated to fill a late video start), fragmented MP4 per rung, AAC 128k
/// audio once, and with `thumbs` the thumbnails slicecast makes (JPEGs, as
/// the slices write them). `x.threads` 0 lets it use all cores.
pub fn ladder_args(
    input: &Path,
    rungs: &[Rung],
    x: &X264,
    has_audio: bool,
    thumbs: Option<Thumbs>,
    out_dir: &Path,
) -> Vec<OsString> {
    let mut v = ffmpeg_prelude();
    v.extend([
        os("-i"),
        path(input),
        os("-filter_complex"),
        os(ladder_filter(rungs, thumbs)),
    ]);
    let keyframes = format!("expr:gte(t,n_forced*{SEGMENT_SECONDS})");
    for (i, r) in rungs.iter().enumerate() {
        v.extend([os("-map"), os(format!("[v{i}]"))]);
        v.extend(x264_rung_opts(x, r.bitrate_kbps));
        // The slices' keyframe rule: one every segment length, no others.
        v.extend(keyframe_opts(UNBOUNDED_GOP, Some(&keyframes)));
        v.extend(strs(&[
            "-fps_mode",
            "passthrough",
            "-movflags",
            FRAG_MOVFLAGS,
            "-f",
            "mp4",
        ]));
        v.push(path(&ladder_output(out_dir, r)));
    }
    if thumbs.is_some() {
        v.extend([os("-map"), os("[th]")]);
        v.extend(thumb_output_opts());
        v.push(path(&out_dir.join("thumb_%05d.jpg")));
    }
    if has_audio {
        let frag_us = ((SEGMENT_SECONDS * 1e6).round() as u64).to_string();
        v.extend(strs(&[
            "-map",
            "0:a:0",
            "-vn",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+empty_moov+default_base_moof",
            "-frag_duration",
            &frag_us,
            "-f",
            "mp4",
        ]));
        v.push(path(&out_dir.join("audio.mp4")));
    }
    v
}

/// How many legacy sprite sheets a video of `duration_s` gets (at least one).
/// The legacy DASH encode's adaptation sets. The service used one video set
/// (`id=0,streams=v`), which ffmpeg 5.1 refuses when rungs' aspect ratios differ
/// by rounding (854x480 next to 1280x720: "Conflicting stream aspect ratios"),
/// so each rung gets its own set: the same encode work, a valid command.
pub fn legacy_adaptation_sets(rungs: &[Rung], has_audio: bool) -> String {
    let mut sets: Vec<String> = (0..rungs.len())
        .map(|i| format!("id={i},streams={i}"))
        .collect();
    if has_audio {
        sets.push(format!("id={},streams=a", rungs.len()));
    }
    sets.join(" ")
}

pub fn legacy_sprite_count(duration_s: f64) -> u32 {
    ((duration_s / f64::from(LEGACY_SPRITE_SECONDS)).ceil() as u32).max(1)
}

/// (c): the earlier service's pipeline, command for command: one full HLS
/// encode per rung (smallest first), one more full encode of the whole ladder
/// for DASH, one ffmpeg per 100 s sprite sheet, and a poster frame.
pub fn legacy_commands(
    input: &Path,
    rungs: &[Rung],
    has_audio: bool,
    duration_s: f64,
    out_dir: &Path,
) -> Vec<Vec<OsString>> {
    let mut cmds = Vec::new();
    for r in rungs.iter().rev() {
        let br = format!("{}k", r.bitrate_kbps);
        let mut v = ffmpeg_prelude();
        v.extend([os("-i"), path(input)]);
        v.extend([os("-vf"), os(format!("scale=w={}:h={}", r.width, r.height))]);
        v.extend(strs(&[
            "-c:v",
            "h264",
            "-profile:v",
            "main",
            "-crf",
            "20",
            "-b:v",
            &br,
            "-maxrate",
            &br,
            "-bufsize",
            "1200k",
        ]));
        if has_audio {
            v.extend(strs(&["-c:a", "aac", "-b:a", "128k"]));
        }
        v.extend(strs(&[
            "-hls_time",
            "6",
            "-hls_list_size",
            "0",
            "-hls_segment_filename",
        ]));
        v.push(path(&out_dir.join(format!("{}_%03d.ts", r.name))));
        v.push(path(&out_dir.join(format!("{}.m3u8", r.name))));
        cmds.push(v);
    }

    let mut dash = ffmpeg_prelude();
    dash.extend([os("-i"), path(input)]);
    for _ in rungs {
        dash.extend(strs(&["-map", "0:v:0"]));
    }
    if has_audio {
        dash.extend(strs(&["-map", "0:a:0?"]));
    }
    dash.extend(strs(&["-c:v", "h264"]));
    for (i, r) in rungs.iter().enumerate() {
        dash.extend([os(format!("-b:v:{i}")), os(format!("{}k", r.bitrate_kbps))]);
        dash.extend([
            os(format!("-filter:v:{i}")),
            os(format!("scale={}:{}", r.width, r.height)),
        ]);
    }
    if has_audio {
        dash.extend(strs(&["-c:a", "aac"]));
    }
    let sets = legacy_adaptation_sets(rungs, has_audio);
    dash.extend(strs(&[
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-adaptation_sets",
        &sets,
        "-f",
        "dash",
    ]));
    dash.push(path(&out_dir.join("stream.mpd")));
    cmds.push(dash);

    for i in 0..legacy_sprite_count(duration_s) {
        let mut v = ffmpeg_prelude();
        v.extend([os("-ss"), os((i * LEGACY_SPRITE_SECONDS).to_string())]);
        v.extend([
            os("-t"),
            os(LEGACY_SPRITE_SECONDS.to_string()),
            os("-i"),
            path(input),
        ]);
        v.extend(strs(&[
            "-vf",
            "fps=1,scale=180:-1,tile=10x10",
            "-frames:v",
            "1",
        ]));
        v.push(path(&out_dir.join(format!("sprite_{i}.jpg"))));
        cmds.push(v);
    }

    let mut poster = ffmpeg_prelude();
    poster.extend([
        os("-ss"),
        os("1"),
        os("-i"),
        path(input),
        os("-frames:v"),
        os("1"),
    ]);
    poster.push(path(&out_dir.join("poster.jpg")));
    cmds.push(poster);
    cmds
}

/// PSNR of `output` against `source` scaled to `width`×`height`, both
/// timelines started at zero. Logs at info level: the result is on stderr.
pub fn psnr_args(output: &Path, source: &Path, width: u32, height: u32) -> Vec<OsString> {
    let graph = format!(
        "[0:v]setpts=PTS-STARTPTS[o];[1:v]setpts=PTS-STARTPTS,scale={width}:{height}:flags=bicubic[r];[o][r]psnr"
    );
    let mut v = strs(&["-hide_banner", "-nostdin", "-nostats", "-i"]);
    v.push(path(output));
    v.push(os("-i"));
    v.push(path(source));
    v.extend([
        os("-an"),
        os("-sn"),
        os("-dn"),
        os("-lavfi"),
        os(graph),
        os("-f"),
        os("null"),
        os("-"),
    ]);
    v
}

/// The `average:` of the psnr filter's summary line
/// (`[Parsed_psnr_3 @ …] PSNR y:42.6 u:44.5 v:44.5 average:43.2 min:42.7 max:43.6`).
/// `inf` (identical pictures) parses as infinity.
pub fn parse_psnr(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .rev()
        .filter(|l| l.contains("PSNR "))
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("average:"))
        })
        .and_then(|s| s.parse().ok())
}

/// `--generate-1080p`: a real-content 1080p clip of `seconds`, the input looped.
pub fn generate_args(input: &Path, seconds: f64, out: &Path) -> Vec<OsString> {
    let mut v = ffmpeg_prelude();
    v.extend([
        os("-stream_loop"),
        os("-1"),
        os("-i"),
        path(input),
        os("-t"),
        os(format!("{seconds}")),
    ]);
    v.extend(strs(&[
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        "scale=1920:1080:flags=bicubic,setsar=1",
        "-c:v",
        "libx264",
        "-preset",
        "fast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-f",
        "mp4",
    ]));
    v.push(path(out));
    v
}

/// The model name of the first CPU in `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        let k = k.trim();
        (k == "model name" || k == "Hardware" || k == "cpu model").then(|| v.trim().to_owned())
    })
}

/// Average bitrate in kbit/s of `bytes` over `duration_s`.
pub fn kbps(bytes: u64, duration_s: f64) -> f64 {
    if duration_s > 0.0 {
        bytes as f64 * 8.0 / duration_s / 1000.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
