//! Tests of probing: real ffprobe output, frame and packet lists, refusals.

use super::*;

fn fixture(name: &str) -> Probe {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let json = std::fs::read_to_string(&path).expect("fixture");
    parse_probe(&json).expect("parse")
}

#[test]
fn parses_real_ffprobe_output() {
    // (fixture, codec, display size, has audio, frame rate)
    let cases = [
        (
            "sintel_trailer_1280x720_52s_h264_aac_dialogue",
            "h264",
            (1280, 720),
            true,
            24.0,
        ),
        (
            "deer_1920x1080_1s_h264_aac_23976",
            "h264",
            (1920, 1080),
            true,
            23.976,
        ),
        (
            "city_720x405_oddheight_7s_mpeg2ps_noaudio",
            "mpeg2video",
            (720, 405),
            false,
            25.0,
        ),
        (
            "pedestrians_768x576_80s_msmpeg4v3_noaudio",
            "msmpeg4v3",
            (768, 576),
            false,
            10.0,
        ),
        (
            "gnome_dualmonitors_1024x768_37s_vp8_noaudio",
            "vp8",
            (1024, 768),
            false,
            15.0,
        ),
        (
            "highway_960x540_5994fps_30s_h264_noaudio",
            "h264",
            (960, 540),
            false,
            59.94,
        ),
        ("generated_rotated_320x240", "h264", (240, 320), false, 30.0),
    ];
    for (name, codec, size, audio, fps) in cases {
        let p = fixture(name);
        let v = require_video(&p).expect("video");
        assert_eq!(v.codec, codec, "{name}");
        assert_eq!(v.display_size(), size, "{name}");
        assert_eq!(p.audio.is_some(), audio, "{name}");
        let got = v.frame_rate.map(Rational::as_f64).unwrap_or(0.0);
        assert!((got - fps).abs() < 0.01, "{name}: {got}");
    }
    let city = fixture("city_720x405_oddheight_7s_mpeg2ps_noaudio");
    assert!((city.start_time_s - 0.54).abs() < 1e-9);
    let sintel = fixture("sintel_trailer_1280x720_52s_h264_aac_dialogue");
    let a = sintel.audio.expect("audio");
    assert_eq!((a.sample_rate, a.channels), (48_000, 2));
}

#[test]
fn parses_decoded_frames_by_field_name() {
    let text = "key_frame=0|best_effort_timestamp=N/A\nkey_frame=1|best_effort_timestamp=48600\n\nside_data_type=x\nkey_frame=0|best_effort_timestamp=52200\nbest_effort_timestamp=55800|key_frame=0\nkey_frame=0|best_effort_timestamp=N/A\n";
    let idx = parse_frames(text, Rational::new(1, 90_000));
    // The last frame, flushed without a timestamp, one frame later; a
    // frame before any timestamp cannot be placed.
    assert_eq!(idx.pts, vec![48_600, 52_200, 55_800, 59_400]);
    assert_eq!(idx.key, vec![true, false, false, false]);
}

#[test]
fn raw_streams_are_numbered_at_their_nominal_rate() {
    let stream = |tb: Rational, rate: Option<Rational>| VideoStream {
        index: 0,
        codec: "h264".into(),
        width: 16,
        height: 16,
        sample_aspect: Rational::new(1, 1),
        rotation: 0,
        frame_rate: rate,
        avg_frame_rate: None,
        time_base: tb,
        pix_fmt: None,
        interlaced: false,
        transfer: Transfer::Sdr,
        full_range: false,
    };
    let csv = "N/A,N/A,K_\nN/A,N/A,__\nN/A,N/A,_D\nN/A,N/A,__\nN/A,N/A,K_\n";
    // ffmpeg's raw demuxer: 1/1200000, 25 fps → 48000 ticks a frame.
    let idx = synthesized_index(
        csv,
        &stream(Rational::new(1, 1_200_000), Some(Rational::new(25, 1))),
    );
    assert_eq!(idx.pts, vec![0, 48_000, 96_000, 144_000]);
    assert_eq!(idx.key, vec![true, false, false, true]);
    // No rate: 25 fps; 30000/1001 in 1/90000 → 3003.
    let idx = synthesized_index(csv, &stream(Rational::new(1, 90_000), None));
    assert_eq!(idx.pts[1], 3600);
    let idx = synthesized_index(
        csv,
        &stream(Rational::new(1, 90_000), Some(Rational::new(30_000, 1001))),
    );
    assert_eq!(idx.pts[1], 3003);
    assert!(synthesized_index("", &stream(Rational::new(0, 0), None)).is_empty());
}

#[test]
fn absurd_picture_sizes_are_refused() {
    let json = r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":65535,"height":4,"time_base":"1/25"}],"format":{"format_name":"mov","duration":"3.0"}}"#;
    let p = parse_probe(json).expect("parse");
    let err = require_video(&p).expect_err("too wide");
    assert!(
        err.to_string().contains("at most 16384 pixels per side"),
        "{err}"
    );
    assert!(err.is_input_error());
}

#[test]
fn a_still_picture_track_is_not_taken_for_the_video() {
    let json = |streams: &str| {
        format!(
            r#"{{"streams":[{streams}],"format":{{"format_name":"matroska,webm","duration":"4.0"}}}}"#
        )
    };
    let png = r#"{"index":0,"codec_type":"video","codec_name":"png","width":320,"height":240}"#;
    let one = r#"{"index":1,"codec_type":"video","codec_name":"h264","width":320,"height":240,"nb_frames":"1"}"#;
    let moving = r#"{"index":2,"codec_type":"video","codec_name":"h264","width":320,"height":240,"nb_frames":"100"}"#;
    let chosen = |streams: &str| {
        parse_probe(&json(streams))
            .expect("probe")
            .video
            .map(|v| v.index)
    };
    assert_eq!(chosen(&format!("{png},{one},{moving}")), Some(2));
    // Alone, a picture codec or a single frame is the video.
    assert_eq!(chosen(png), Some(0));
    assert_eq!(chosen(&format!("{png},{one}")), Some(0));
}

#[test]
fn the_transfer_curve_and_range_are_read() {
    let json = |extra: &str| {
        format!(
            r#"{{"streams":[{{"index":0,"codec_type":"video","codec_name":"hevc","width":320,"height":240{extra}}}],"format":{{"format_name":"mov","duration":"2.0"}}}}"#
        )
    };
    let video = |extra: &str| {
        parse_probe(&json(extra))
            .expect("probe")
            .video
            .expect("video")
    };
    let pq = video(r#","color_transfer":"smpte2084","color_range":"tv""#);
    assert_eq!((pq.transfer, pq.full_range), (Transfer::Pq, false));
    let hlg = video(r#","color_transfer":"arib-std-b67","color_range":"pc""#);
    assert_eq!((hlg.transfer, hlg.full_range), (Transfer::Hlg, true));
    let plain = video("");
    assert_eq!((plain.transfer, plain.full_range), (Transfer::Sdr, false));
}

#[test]
fn no_video_is_a_clear_error() {
    let json = r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"mp3","sample_rate":"44100","channels":2}],"format":{"format_name":"mp3","duration":"3.0"}}"#;
    let p = parse_probe(json).expect("parse");
    let err = require_video(&p).expect_err("no video");
    assert_eq!(
        err.to_string(),
        "the file has no video stream (it looks like an audio-only file)"
    );
    assert!(err.is_input_error());
}

#[test]
fn parses_packet_lists() {
    let csv = "2002,0,K_\n6006,1001,__\n4004,2002,__\nN/A,3003,__\nN/A,N/A,__\n8008,5005,_D\n";
    let (idx, missing) = parse_packets(csv, Rational::new(1, 24_000));
    assert_eq!(idx.pts, vec![2002, 4004, 6006]);
    assert_eq!(idx.key, vec![true, false, false]);
    assert_eq!(missing, 2);
    // MPEG-TS: each packet's side data adds an empty field and a blank line.
    let (idx, missing) = parse_packets(
        "133200,126000,5214,K_,\n\n147600,129600,2483,__,\n\n140400,133200,1405,__,\n",
        Rational::new(1, 90_000),
    );
    assert_eq!((idx.key.clone(), missing), (vec![true, false, false], 0));
    assert_eq!(idx.bytes, vec![5214, 1405, 2483]);
    let (idx, _) = parse_packets("0,1\n40,0\n", Rational::new(1, 1000));
    assert_eq!(idx.key, vec![true, false]);
    // MPEG-PS: the last picture has no pts and its dts is the previous
    // picture's pts; it cannot be placed without decoding.
    let (idx, missing) = parse_packets(
        "3600,0,K_\n7200,3600,__\nN/A,7200,__\n",
        Rational::new(1, 90_000),
    );
    assert_eq!((idx.len(), missing), (2, 1));
}

#[test]
fn pictures_no_decoder_shows_are_not_indexed() {
    // A capture cut mid-GOP: two pictures before the first keyframe (decode
    // order), then an open GOP whose leading B-picture (pts 7) shows before
    // its keyframe (pts 8).
    let csv = "3,2,__\n5,3,__\n8,6,K_\n7,7,__\n9,8,__\n10,9,__\n";
    let (idx, missing) = parse_packets(csv, Rational::new(1, 25));
    assert_eq!((idx.pts.clone(), missing), (vec![8, 9, 10], 0));
    assert_eq!(idx.key, vec![true, false, false]);
    // No keyframe flagged at all: every picture stays.
    let (idx, _) = parse_packets("0,0,__\n1,1,__\n", Rational::new(1, 25));
    assert_eq!(idx.len(), 2);
}

#[test]
fn packet_sizes_come_with_the_index_when_every_line_has_one() {
    // pts,dts,size,flags, in decode order: sizes follow their frames into
    // presentation order; a discarded packet's size goes with it.
    let csv = "0,-1,9000,K_
2,0,300,__
1,1,200,__
3,2,77,_D
";
    let (idx, missing) = parse_packets(csv, Rational::new(1, 24));
    assert_eq!((idx.pts.clone(), missing), (vec![0, 1, 2], 0));
    assert_eq!(idx.bytes, vec![9000, 200, 300]);
    assert_eq!(idx.key, vec![true, false, false]);
    // One line without a readable size: no sizes at all, every frame weighs the same.
    let (idx, _) = parse_packets(
        "0,0,9000,K_
1,1,N/A,__
",
        Rational::new(1, 24),
    );
    assert!(idx.bytes.is_empty());
    assert_eq!(idx.work_clock(), vec![0.0, 1.0]);
    // The older three-column form still reads, without sizes.
    let (idx, _) = parse_packets(
        "0,0,K_
1,1,__
",
        Rational::new(1, 24),
    );
    assert_eq!((idx.len(), idx.bytes.len()), (2, 0));
}

#[test]
fn unreadable_files_are_explained_in_plain_words() {
    for (ffmpeg_says, want) in [
        (
            "Invalid data found when processing input",
            "not in a video format",
        ),
        ("moov atom not found", "index is missing"),
        (
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d] stream 1, offset 0x30: partial file",
            "ends before",
        ),
        ("End of file", "ends before"),
        ("no container format recognised", "no video or audio"),
        ("ffprobe found no streams", "no video or audio"),
        (
            "the h264 video stream has no picture size",
            "how large its pictures are",
        ),
        (
            "something nobody has seen before",
            "damaged, or not in a video format",
        ),
    ] {
        let e = ProbeError::Unreadable {
            detail: ffmpeg_says.into(),
        };
        let text = e.to_string();
        assert!(text.contains(want), "{ffmpeg_says:?} -> {text}");
        assert!(!text.contains(ffmpeg_says), "ffmpeg's words leak: {text}");
        assert!(!text.contains('@') && !text.contains("0x"), "{text}");
    }
}
