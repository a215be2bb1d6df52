//! Table tests of the benchmark's command builders and parsers.

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
        "transcode /in/my clip.mp4 --out /t/a --quiet --no-subtitles --generate-downloads false --preset veryfast --crf 21 --segment-seconds 4"
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
        None,
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
        None,
        Path::new("/o"),
    ));
    assert!(silent.contains("split=1[s0];[s0]scale=640:360"), "{silent}");
    assert!(!silent.contains("aac"));
    // With thumbnails: one more branch and output, as a slice has.
    let thumbs = Thumbs {
        size: (180, 100),
        every_s: 1.0,
    };
    let with = joined(&ladder_args(
        Path::new("src.mp4"),
        &rungs[3..],
        &veryfast(),
        false,
        Some(thumbs),
        Path::new("/o"),
    ));
    assert!(
        with.contains(
            "split=2[s0][s1];[s0]scale=640:360:flags=bicubic,setsar=1,format=yuv420p[v0];\
             [s1]select='if(eq(n\\,0)\\,1\\,gt(floor(t/1)\\,floor(prev_t/1)))',scale=180:100:flags=bicubic,setsar=1[th]"
        ),
        "{with}"
    );
    assert!(
        with.ends_with("-map [th] -fps_mode passthrough -q:v 4 -f image2 /o/thumb_%05d.jpg"),
        "{with}"
    );
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
        silent[3].contains("-adaptation_sets id=0,streams=0 id=1,streams=1 id=2,streams=2 -f dash"),
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
    let info =
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
    assert_eq!(cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
    assert_eq!(cpu_model("processor : 0\n"), None);
    assert!((kbps(500_000, 2.0) - 2000.0).abs() < 1e-9);
    assert_eq!(kbps(1, 0.0), 0.0);
}

#[test]
fn codec_points_share_scale_cap_and_keyframes() {
    use slicecast_core::ladder::VideoCodec;
    let top = &ladder_for(1280, 720)[0];
    let line = |codec| {
        codec_point_args(Path::new("/in.mp4"), top, codec, 30, Path::new("/o.mp4"))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (h264, av1) = (line(VideoCodec::H264), line(VideoCodec::Av1));
    for l in [&h264, &av1] {
        assert!(l.contains("-vf scale=1280:720"), "{l}");
        assert!(l.contains("-crf 30") && l.contains("-maxrate 2500k"), "{l}");
        assert!(
            l.contains("-force_key_frames expr:gte(t,n_forced*4)"),
            "{l}"
        );
        assert!(l.contains("-an") && l.ends_with("/o.mp4"), "{l}");
    }
    assert!(h264.contains("-c:v libx264 -preset veryfast"), "{h264}");
    assert!(av1.contains("-c:v libaom-av1 -usage realtime"), "{av1}");
}
