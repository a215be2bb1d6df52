//! Argument lists of every process the benchmark runs, and parsing of what they
//! print. Pure: data in, `Vec<OsString>` out, unit-tested below.

use slicecast_core::ladder::Rung;
use slicecast_media::args::{
    FRAG_MOVFLAGS, UNBOUNDED_GOP, X264, ffmpeg_prelude, keyframe_opts, scale_filter, x264_rung_opts,
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

/// `slicecast transcode INPUT --out OUT --quiet` with slicecast's default
/// preset, CRF and segment length spelled out (so `X264_PRESET` and friends in
/// the environment cannot make it differ from the ladder baseline), and
/// `--workers N` only when the bench was given one.
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
    ];
    v.extend([os("--preset"), os(preset), os("--crf"), os(crf.to_string())]);
    v.extend([os("--segment-seconds"), os(format!("{SEGMENT_SECONDS}"))]);
    if let Some(n) = workers {
        v.extend([os("--workers"), os(n.to_string())]);
    }
    v
}

/// The filter graph of the ladder baseline: decode once, split, scale per rung
/// exactly as a slice does.
pub fn ladder_filter(rungs: &[Rung]) -> String {
    let mut g = format!("[0:v:0]split={}", rungs.len());
    for i in 0..rungs.len() {
        g.push_str(&format!("[s{i}]"));
    }
    for (i, r) in rungs.iter().enumerate() {
        g.push_str(&format!(";[s{i}]{}[v{i}]", scale_filter(r)));
    }
    g
}

/// Where the ladder baseline writes rung `r`.
pub fn ladder_output(out_dir: &Path, r: &Rung) -> std::path::PathBuf {
    out_dir.join(format!("{}.mp4", r.name))
}

/// (b): ONE ffmpeg encoding the whole ladder with slicecast's settings: the
/// same x264 options per rung, a keyframe every segment length, closed GOPs,
/// the source's frames passed through as they are (as a slice does: no frames
/// duplicated to fill a late video start), fragmented MP4 per rung, AAC 128k audio once. `x.threads` 0 lets it use all cores.
pub fn ladder_args(
    input: &Path,
    rungs: &[Rung],
    x: &X264,
    has_audio: bool,
    out_dir: &Path,
) -> Vec<OsString> {
    let mut v = ffmpeg_prelude();
    v.extend([
        os("-i"),
        path(input),
        os("-filter_complex"),
        os(ladder_filter(rungs)),
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
mod tests {
    use super::*;
    use slicecast_core::ladder::ladder_for;

    fn joined(v: &[OsString]) -> String {
        v.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn veryfast() -> X264 {
        X264 {
            preset: "veryfast".into(),
            crf: 21,
            threads: 0,
        }
    }

    #[test]
    fn transcode_command_spells_out_the_defaults() {
        let v = transcode_args(
            Path::new("/in/my clip.mp4"),
            Path::new("/t/a"),
            "veryfast",
            21,
            None,
        );
        assert_eq!(
            joined(&v),
            "transcode /in/my clip.mp4 --out /t/a --quiet --preset veryfast --crf 21 --segment-seconds 4"
        );
        assert!(
            v.iter().any(|a| a == "/in/my clip.mp4"),
            "the path is one argument"
        );
        let v = transcode_args(Path::new("i.mp4"), Path::new("o"), "medium", 21, Some(3));
        assert!(joined(&v).ends_with("--preset medium --crf 21 --segment-seconds 4 --workers 3"));
    }

    #[test]
    fn ladder_baseline_is_one_ffmpeg_with_the_slice_settings() {
        let rungs = ladder_for(1920, 1080);
        let v = ladder_args(
            Path::new("src.mp4"),
            &rungs,
            &veryfast(),
            true,
            Path::new("/o"),
        );
        let s = joined(&v);
        assert_eq!(v.iter().filter(|a| *a == "-i").count(), 1, "decodes once");
        assert!(
            s.contains(
                "-filter_complex [0:v:0]split=4[s0][s1][s2][s3];\
             [s0]scale=1920:1080:flags=bicubic,setsar=1,format=yuv420p[v0];\
             [s1]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p[v1];"
            ),
            "{s}"
        );
        assert!(s.contains(
            "-map [v0] -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 21 -maxrate 3500k \
             -bufsize 7000k -g 1073741824 -keyint_min 1073741824 -sc_threshold 0 -flags +cgop -forced-idr 1 \
             -force_key_frames expr:gte(t,n_forced*4) -fps_mode passthrough -movflags +frag_keyframe+empty_moov+default_base_moof -f mp4 /o/1080p.mp4"
        ), "{s}");
        assert!(s.contains("-maxrate 800k -bufsize 1600k"), "{s}");
        assert!(!s.contains("-threads"), "all cores");
        assert!(s.ends_with("-map 0:a:0 -vn -c:a aac -b:a 128k -movflags +empty_moov+default_base_moof -frag_duration 4000000 -f mp4 /o/audio.mp4"), "{s}");
        let silent = joined(&ladder_args(
            Path::new("src.mp4"),
            &rungs[3..],
            &veryfast(),
            false,
            Path::new("/o"),
        ));
        assert!(silent.contains("split=1[s0];[s0]scale=640:360"), "{silent}");
        assert!(!silent.contains("aac"));
    }

    #[test]
    fn legacy_pipeline_replays_the_service() {
        let rungs = ladder_for(1280, 720);
        let cmds = legacy_commands(Path::new("in.mp4"), &rungs, true, 250.0, Path::new("/l"));
        // 3 HLS encodes, 1 DASH encode, 3 sprite sheets, 1 poster.
        assert_eq!(cmds.len(), 8);
        let c: Vec<String> = cmds.iter().map(|v| joined(v)).collect();
        let pre = "-hide_banner -nostdin -nostats -loglevel error -y";
        assert_eq!(
            c[0],
            format!(
                "{pre} -i in.mp4 -vf scale=w=640:h=360 -c:v h264 -profile:v main -crf 20 -b:v 800k -maxrate 800k \
                 -bufsize 1200k -c:a aac -b:a 128k -hls_time 6 -hls_list_size 0 -hls_segment_filename \
                 /l/360p_%03d.ts /l/360p.m3u8"
            )
        );
        assert!(
            c[2].contains("scale=w=1280:h=720") && c[2].ends_with("/l/720p.m3u8"),
            "tallest last"
        );
        assert_eq!(
            c[3],
            format!(
                "{pre} -i in.mp4 -map 0:v:0 -map 0:v:0 -map 0:v:0 -map 0:a:0? -c:v h264 -b:v:0 2500k \
                 -filter:v:0 scale=1280:720 -b:v:1 1200k -filter:v:1 scale=854:480 -b:v:2 800k \
                 -filter:v:2 scale=640:360 -c:a aac -use_template 1 -use_timeline 1 \
                 -adaptation_sets id=0,streams=0 id=1,streams=1 id=2,streams=2 id=3,streams=a -f dash /l/stream.mpd"
            )
        );
        assert!(
            cmds[3]
                .iter()
                .any(|a| a == "id=0,streams=0 id=1,streams=1 id=2,streams=2 id=3,streams=a"),
            "one argument"
        );
        assert_eq!(
            c[4],
            format!(
                "{pre} -ss 0 -t 100 -i in.mp4 -vf fps=1,scale=180:-1,tile=10x10 -frames:v 1 /l/sprite_0.jpg"
            )
        );
        assert!(c[6].contains("-ss 200 -t 100") && c[6].ends_with("/l/sprite_2.jpg"));
        assert_eq!(
            c[7],
            format!("{pre} -ss 1 -i in.mp4 -frames:v 1 /l/poster.jpg")
        );

        let silent: Vec<String> =
            legacy_commands(Path::new("in.mp4"), &rungs, false, 1.0, Path::new("/l"))
                .iter()
                .map(|v| joined(v))
                .collect();
        assert_eq!(silent.len(), 6);
        assert!(
            silent
                .iter()
                .all(|c| !c.contains("aac") && !c.contains("0:a")),
            "{silent:?}"
        );
        assert!(
            silent[3]
                .contains("-adaptation_sets id=0,streams=0 id=1,streams=1 id=2,streams=2 -f dash"),
            "{}",
            silent[3]
        );
    }

    #[test]
    fn sprite_sheets_per_hundred_seconds() {
        assert_eq!(legacy_sprite_count(0.98), 1);
        assert_eq!(legacy_sprite_count(100.0), 1);
        assert_eq!(legacy_sprite_count(100.5), 2);
        assert_eq!(legacy_sprite_count(0.0), 1);
    }

    #[test]
    fn psnr_command_and_parse() {
        let s = joined(&psnr_args(
            Path::new("out.m3u8"),
            Path::new("src.mp4"),
            1280,
            720,
        ));
        assert_eq!(
            s,
            "-hide_banner -nostdin -nostats -i out.m3u8 -i src.mp4 -an -sn -dn -lavfi \
             [0:v]setpts=PTS-STARTPTS[o];[1:v]setpts=PTS-STARTPTS,scale=1280:720:flags=bicubic[r];[o][r]psnr -f null -"
        );
        // Real ffmpeg 5.1 stderr.
        let stderr = "Input #0, hls, from 'x.m3u8':\n  Duration: 00:00:00.96\n\
            video:11kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown\n\
            [Parsed_psnr_3 @ 0x55b44abbeec0] PSNR y:42.668165 u:44.559819 v:44.552307 average:43.211090 min:42.773641 max:43.652208\n";
        assert_eq!(parse_psnr(stderr), Some(43.211090));
        assert_eq!(
            parse_psnr("[Parsed_psnr_2 @ 0x1] PSNR y:inf u:inf v:inf average:inf min:inf max:inf"),
            Some(f64::INFINITY)
        );
        assert_eq!(parse_psnr("Conversion failed!"), None);
    }

    #[test]
    fn generated_clip_is_true_1080p() {
        let s = joined(&generate_args(
            Path::new("deer.mp4"),
            30.0,
            Path::new("/t/g.mp4"),
        ));
        assert!(
            s.contains("-stream_loop -1 -i deer.mp4 -t 30 -map 0:v:0 -map 0:a:0?"),
            "{s}"
        );
        assert!(
            s.contains("scale=1920:1080:flags=bicubic,setsar=1 -c:v libx264 -preset fast -crf 18"),
            "{s}"
        );
        assert!(s.ends_with("-c:a aac -b:a 128k -f mp4 /t/g.mp4"));
    }

    #[test]
    fn cpu_model_and_bitrate() {
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
        assert_eq!(cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        assert!((kbps(500_000, 2.0) - 2000.0).abs() < 1e-9);
        assert_eq!(kbps(1, 0.0), 0.0);
    }
}
