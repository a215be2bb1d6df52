//! Unit tests of the speech engines' pure parts.
#[allow(clippy::wildcard_imports)]
use crate::extract::*;
#[allow(clippy::wildcard_imports)]
use crate::pocketsphinx::*;
#[allow(clippy::wildcard_imports)]
use crate::whisper::*;
#[allow(clippy::wildcard_imports)]
use crate::*;

#[test]
fn venv_location() {
    let env = |pairs: &'static [(&str, &str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let table: [(&'static [(&str, &str)], &str); 5] = [
        (&[("SLICECAST_WHISPER_VENV", "/v"), ("HOME", "/h")], "/v"),
        (
            &[("XDG_DATA_HOME", "/d"), ("HOME", "/h")],
            "/d/slicecast/whisper-venv",
        ),
        (
            &[("XDG_DATA_HOME", "rel"), ("HOME", "/h")],
            "/h/.local/share/slicecast/whisper-venv",
        ),
        (
            &[("SLICECAST_WHISPER_VENV", ""), ("HOME", "/h")],
            "/h/.local/share/slicecast/whisper-venv",
        ),
        (
            &[],
            "", // temp dir, checked below
        ),
    ];
    for (pairs, want) in table {
        let got = venv_from_env(env(pairs));
        if want.is_empty() {
            assert!(got.ends_with("slicecast/whisper-venv"), "{got:?}");
        } else {
            assert_eq!(got, PathBuf::from(want), "{pairs:?}");
        }
    }
}

#[test]
fn whisper_output() {
    let json = br#"{"language": "en", "words": [
        {"start": 0.0, "end": 0.74, "word": " And"},
        {"start": 0.74, "end": 0.7, "word": "so,"},
        {"start": 1.0, "end": 1.2, "word": "  "}]}"#;
    let (lang, words) = parse_whisper_output(json).expect("parses");
    assert_eq!(lang, "en");
    assert_eq!(
        words,
        vec![
            Word {
                text: "And".into(),
                start_s: 0.0,
                end_s: 0.74
            },
            Word {
                text: "so,".into(),
                start_s: 0.74,
                end_s: 0.74
            },
        ]
    );
    for bad in [
        &b"Traceback"[..],
        br#"{"language": "", "words": []}"#,
        br#"{"language": "en", "words": [{"start": -1, "end": 1, "word": "x"}]}"#,
        br#"{"language": "en"}"#,
    ] {
        let err = parse_whisper_output(bad).expect_err("rejected");
        assert!(matches!(err, SpeechError::BadOutput { .. }), "{err}");
    }
}

#[test]
fn asr_print_lines() {
    // The filter chain's real output on the JFK clip, plus an empty
    // utterance and one with fillers.
    let text = "frame:250  pts:40000   pts_time:2.5\n\
                lavfi.asr.text=and then our my ah i\n\
                frame:481  pts:76960   pts_time:4.81\n\
                lavfi.asr.text=and not\n\
                frame:801  pts:128160  pts_time:8.01\n\
                lavfi.asr.text=what your country can do for you\n\
                frame:1153 pts:184480  pts_time:11.53\n\
                lavfi.asr.text=and when you can do for your country\n\
                frame:1200 pts:192000  pts_time:12\n\
                lavfi.asr.text=\n\
                frame:1300 pts:208000  pts_time:13\n\
                lavfi.asr.text=so <sil> do(2) [NOISE] ++UH++ it\n";
    let utts = parse_asr_print(text);
    let times: Vec<f64> = utts.iter().map(|u| u.0).collect();
    assert_eq!(times, [2.5, 4.81, 8.01, 11.53, 12.0, 13.0]);
    assert_eq!(utts[2].1, "what your country can do for you");
    assert_eq!(utts[4].1, "");
    assert_eq!(sphinx_tokens(&utts[5].1), ["so", "do", "it"]);
}

#[test]
fn utterance_spans() {
    let utts = vec![
        (2.52, "ab cd".to_owned()),
        (4.0, String::new()),
        (30.0, "x y z".to_owned()),
        (31.0, "late".to_owned()),
    ];
    let words = words_from_utterances(&utts, 30.2);
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, ["ab", "cd", "x", "y", "z", "late"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // "ab cd" ends at 2.0 and spans 2 × 0.45 s, shared equally.
    assert!(close(words[0].start_s, 1.1) && close(words[0].end_s, 1.55));
    assert!(close(words[1].start_s, 1.55) && close(words[1].end_s, 2.0));
    // "x y z" ends at 29.48, 1.35 s long.
    assert!(close(words[2].start_s, 29.48 - 1.35), "{:?}", words[2]);
    assert!(close(words[4].end_s, 29.48));
    // "late" is clamped to the audio's end, after "z".
    assert!(words[5].start_s >= words[4].end_s && words[5].end_s <= 30.2);
    for w in &words {
        assert!(w.start_s <= w.end_s && w.start_s >= 0.0, "{w:?}");
    }
    // The first word never starts before 0.
    let early = words_from_utterances(&[(1.0, "a b c d e".into())], 5.0);
    assert!(close(early[0].start_s, 0.0));
}

#[test]
fn argument_lists() {
    let a = extract_args(
        "https://h/v.mp4?X-Amz-Signature=s",
        Some("mov,mp4"),
        Some(2),
        "flac",
        Path::new("/t/a.flac.part"),
    );
    let a: Vec<&str> = a.iter().map(|s| s.to_str().expect("utf-8")).collect();
    let tail = [
        "-f",
        "mov",
        "-i",
        "https://h/v.mp4?X-Amz-Signature=s",
        "-map",
        "0:2",
        "-vn",
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-af",
        "aresample=async=1:first_pts=0",
        "-ac",
        "1",
        "-ar",
        "16000",
        "-sample_fmt",
        "s16",
        "-c:a",
        "flac",
        "-f",
        "flac",
        "/t/a.flac.part",
    ];
    assert!(a.ends_with(&tail), "{a:?}");
    let w = extract_args("in.mkv", None, None, "wav", Path::new("o.wav"));
    assert!(w.iter().any(|s| s == "0:a:0") && w.iter().any(|s| s == "pcm_s16le"));
    let p = pocketsphinx_args(Path::new("/t/a.flac"));
    assert!(p.iter().any(|s| {
        s.to_string_lossy()
            .contains("asr=hmm=/usr/share/pocketsphinx/model/en-us/en-us:")
    }));
    assert_eq!(
        redact("https://h/v.mp4?X-Amz-Signature=s"),
        "https://h/v.mp4?…"
    );
    assert_eq!(redact("/a?b.mp4"), "/a?b.mp4");
    assert_eq!(
        part_path(Path::new("/t/a.flac")),
        PathBuf::from("/t/a.flac.part")
    );
}

#[test]
fn error_messages_say_what_to_do() {
    let e = SpeechError::NotInstalled { venv: "/v".into() };
    assert!(e.is_not_installed() && !e.is_retryable());
    assert!(e.to_string().contains("install"), "{e}");
    let e = SpeechError::InstallFailed {
        venv: "/v".into(),
        step: "pip-installing the packages",
        source: ProcessError::Failed {
            program: "pip".into(),
            status: "exit status: 1".into(),
            stderr_tail:
                "Collecting x\nERROR: No matching distribution found for faster-whisper==9\n".into(),
        },
    };
    assert!(e.to_string().contains("No matching distribution"), "{e}");
    assert!(e.is_retryable());
}
