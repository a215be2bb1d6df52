//! The local speech engines on real speech with transcripts: Whisper
//! (installed on first use into `target/whisper-venv`, so the installer runs
//! too) and pocketsphinx through ffmpeg's `asr` filter; their words become
//! WebVTT that ffmpeg must read back. Run with `--nocapture` to see the WERs.

use slicecast_core::subtitles::{CueLimits, Word, cues, webvtt, word_error_rate};
use slicecast_speech::{self as speech, SpeechError, Whisper};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);

/// `../shared/media` (or `SLICECAST_MEDIA`), as in the end-to-end tests.
fn media() -> PathBuf {
    std::env::var_os("SLICECAST_MEDIA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/media")),
        PathBuf::from,
    )
}

fn whisper_venv() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/whisper-venv"
    ))
}

/// Every speech clip with its transcript: JFK, then the five LibriVox clips
/// (sphinx format: `<s> words </s> (file-stem)`).
fn speech_clips() -> Vec<(PathBuf, String)> {
    let dir = media().join("speech");
    let jfk = std::fs::read_to_string(dir.join("jfk.txt")).expect("jfk.txt");
    let mut clips = vec![(dir.join("jfk_11s_16k.wav"), jfk.trim().to_owned())];
    let libri = dir.join("librivox_sense_and_sensibility");
    let listing = std::fs::read_to_string(libri.join("transcription")).expect("transcription");
    for line in listing.lines().filter(|l| !l.trim().is_empty()) {
        let (text, stem) = line.rsplit_once('(').expect("(file-stem)");
        let stem = stem.trim().trim_end_matches(')');
        let text = text
            .trim()
            .trim_start_matches("<s>")
            .trim_end()
            .trim_end_matches("</s>");
        clips.push((libri.join(format!("{stem}.wav")), text.trim().to_owned()));
    }
    assert_eq!(clips.len(), 6);
    clips
}

fn name(path: &Path) -> String {
    path.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// Words joined; hyphens split, since the transcripts write "ill disposed"
/// where an engine writes "ill-disposed" (and `normalize` would glue them).
fn hypothesis(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.text.replace('-', " "))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts never go backwards, each word ends after it starts, all inside the audio.
fn check_times(words: &[Word], duration_s: f64, what: &str) {
    assert!(!words.is_empty(), "{what}: no words");
    let mut last_start = 0.0;
    for w in words {
        assert!(
            w.start_s >= last_start && w.start_s <= w.end_s && w.end_s <= duration_s + 1e-6,
            "{what}: {w:?} (previous start {last_start}, duration {duration_s})"
        );
        last_start = w.start_s;
    }
}

fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .expect("readable dir")
        .map(|e| dir_size(&e.expect("entry").path()))
        .sum()
}

#[tokio::test]
async fn whisper_transcribes_real_speech() {
    let whisper = Whisper::new(whisper_venv());
    let fresh = !whisper.is_installed();
    let said = Mutex::new(Vec::<String>::new());
    let notify = |m: &str| {
        eprintln!("notify: {m}");
        said.lock().expect("lock").push(m.to_owned());
    };
    let started = Instant::now();
    whisper.ensure_installed(&notify).await.expect("installs");
    if fresh {
        eprintln!(
            "whisper install: {:.1} s, {} MB on disk",
            started.elapsed().as_secs_f64(),
            dir_size(whisper.venv()) / 1_000_000
        );
        assert_eq!(said.lock().expect("lock").len(), 1, "one notice");
    }
    assert!(whisper.is_installed());
    let n = said.lock().expect("lock").len();
    whisper.ensure_installed(&notify).await.expect("no-op");
    assert_eq!(said.lock().expect("lock").len(), n, "installed: no notice");

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut clips = speech_clips();
    // The first clip goes through extract_speech_audio (WAV → FLAC) first.
    let flac = tmp.path().join("jfk.flac");
    speech::extract_speech_audio(&clips[0].0.to_string_lossy(), None, None, &flac, MINUTE)
        .await
        .expect("extracts");
    clips[0].0 = flac;
    for (i, (audio, reference)) in clips.iter().enumerate() {
        let duration_s = speech::audio_duration_s(&audio.to_string_lossy(), MINUTE)
            .await
            .expect("duration");
        let started = Instant::now();
        let (lang, words) = whisper
            .transcribe(audio, speech::transcribe_timeout(duration_s))
            .await
            .expect("transcribes");
        let took = started.elapsed().as_secs_f64();
        let hyp = hypothesis(&words);
        let wer = word_error_rate(reference, &hyp);
        eprintln!(
            "whisper {}: {duration_s:.1} s audio in {took:.1} s, WER {wer:.3}: {hyp}",
            name(audio)
        );
        if i == 0 {
            assert!(
                (duration_s - 11.0).abs() < 0.05,
                "FLAC of 11 s: {duration_s}"
            );
        }
        assert_eq!(lang, "en");
        assert!(wer <= 0.25, "{}: WER {wer} > 0.25", name(audio));
        check_times(&words, duration_s, &name(audio));
    }

    let err = whisper
        .transcribe(&tmp.path().join("missing.wav"), MINUTE)
        .await
        .expect_err("no such file");
    assert!(matches!(err, SpeechError::InputMissing { .. }), "{err}");
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[tokio::test]
async fn pocketsphinx_transcribes_and_sintel_gets_valid_webvtt() {
    assert!(
        speech::pocketsphinx_available(),
        "ffmpeg's asr filter and pocketsphinx-en-us are needed (apt-get install -y ffmpeg pocketsphinx-en-us)"
    );
    for (audio, reference) in speech_clips() {
        let duration_s = speech::audio_duration_s(&audio.to_string_lossy(), MINUTE)
            .await
            .expect("duration");
        let started = Instant::now();
        let words = speech::pocketsphinx_words(&audio, MINUTE)
            .await
            .expect("transcribes");
        let hyp = hypothesis(&words);
        let wer = word_error_rate(&reference, &hyp);
        eprintln!(
            "pocketsphinx {}: {duration_s:.1} s audio in {:.1} s, WER {wer:.3}: {hyp}",
            name(&audio),
            started.elapsed().as_secs_f64()
        );
        assert!(wer <= 0.8, "{}: WER {wer} > 0.8", name(&audio));
        check_times(&words, duration_s, &name(&audio));
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    let sintel = media().join("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let sintel = sintel.to_string_lossy();
    let wav = tmp.path().join("sintel.wav");
    // Stream 1 is its audio; the same as the default (first audio stream).
    speech::extract_speech_audio(&sintel, None, Some(1), &wav, MINUTE)
        .await
        .expect("extracts");
    let duration_s = speech::audio_duration_s(&wav.to_string_lossy(), MINUTE)
        .await
        .expect("duration");
    assert!((duration_s - 52.2).abs() < 1.0, "{duration_s}");
    let words = speech::pocketsphinx_words(&wav, 2 * MINUTE)
        .await
        .expect("transcribes");
    check_times(&words, duration_s, "sintel");
    let cs = cues(&words, &CueLimits::default());
    assert!(!cs.is_empty());
    let mut last_end = 0.0;
    for c in &cs {
        assert!(
            c.start_s >= last_end && c.start_s <= c.end_s && c.end_s <= duration_s,
            "{c:?}"
        );
        last_end = c.end_s;
    }
    let vtt = tmp.path().join("sintel.vtt");
    std::fs::write(&vtt, webvtt(&cs)).expect("write vtt");
    eprintln!("pocketsphinx sintel: {} cues\n{}", cs.len(), webvtt(&cs));
    // ffmpeg decodes and re-encodes it without complaint...
    let read = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&vtt)
        .args(["-map", "0:s", "-c:s", "webvtt", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        read.status.success() && read.stderr.is_empty(),
        "ffmpeg rejects the WebVTT: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    // ...and finds every cue at its time (ffmpeg silently skips what it
    // cannot parse, so the count is the real check).
    let packets = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(&vtt)
        .output()
        .expect("ffprobe runs");
    let starts: Vec<f64> = String::from_utf8_lossy(&packets.stdout)
        .lines()
        .map(|l| l.trim().parse().expect("pts_time"))
        .collect();
    assert_eq!(starts.len(), cs.len(), "ffprobe sees every cue");
    for (seen, c) in starts.iter().zip(&cs) {
        assert!((seen - c.start_s).abs() < 0.0015, "{seen} vs {c:?}");
    }
}

#[tokio::test]
async fn failures_are_errors_that_say_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("speech.flac");

    let err = speech::extract_speech_audio("/nonexistent/clip.mp4", None, None, &out, MINUTE)
        .await
        .expect_err("missing input");
    assert!(matches!(err, SpeechError::InputMissing { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/clip.mp4"), "{err}");

    let jfk = media().join("speech/jfk_11s_16k.wav");
    let err = speech::extract_speech_audio(
        &jfk.to_string_lossy(),
        None,
        None,
        &tmp.path().join("a.mp3"),
        MINUTE,
    )
    .await
    .expect_err("mp3 out");
    assert!(
        matches!(err, SpeechError::UnsupportedOutput { .. }),
        "{err}"
    );

    let silent = media().join("highway_960x540_5994fps_30s_h264_noaudio.mp4");
    let err = speech::extract_speech_audio(&silent.to_string_lossy(), None, None, &out, MINUTE)
        .await
        .expect_err("no audio stream");
    eprintln!("no audio: {err}");
    assert!(matches!(err, SpeechError::Engine { .. }), "{err}");
    assert!(err.to_string().contains("0:a:0"), "{err}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert!(left.is_empty(), "nothing half-written: {left:?}");

    let err = speech::pocketsphinx_words(&tmp.path().join("missing.wav"), MINUTE)
        .await
        .expect_err("missing input");
    assert!(matches!(err, SpeechError::InputMissing { .. }), "{err}");

    let absent = Whisper::new(PathBuf::from("/nonexistent/slicecast/whisper-venv"));
    assert!(!absent.is_installed());
    let err = absent
        .transcribe(&jfk, MINUTE)
        .await
        .expect_err("not installed");
    eprintln!("not installed: {err}");
    assert!(err.is_not_installed() && !err.is_retryable(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("not installed")
            && msg.contains("/nonexistent/slicecast/whisper-venv")
            && msg.contains("install it on first use"),
        "{msg}"
    );
}

/// Two first uses at once leave one working venv and no debris, and a venv
/// of other versions is replaced (three pip runs, so not in every run:
/// `cargo test -p slicecast-media --test speech -- --ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "installs the Whisper venv twice"]
async fn concurrent_first_installs_leave_one_venv() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let venv = tmp.path().join("whisper-venv");
    let (a, b) = (Whisper::new(venv.clone()), Whisper::new(venv.clone()));
    let quiet = |_: &str| {};
    let started = Instant::now();
    let (ra, rb) = tokio::join!(a.ensure_installed(&quiet), b.ensure_installed(&quiet));
    eprintln!(
        "two concurrent installs: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ra.expect("first");
    rb.expect("second");
    assert!(a.is_installed());
    let entries: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["whisper-venv"]);
    let jfk = media().join("speech/jfk_11s_16k.wav");
    let (_, words) = a.transcribe(&jfk, 2 * MINUTE).await.expect("works");
    assert!(words.len() > 10);

    // A venv of other versions is replaced on the next first use.
    std::fs::write(
        venv.join("slicecast-whisper-pins.txt"),
        "faster-whisper==1.0.0\n",
    )
    .expect("write marker");
    assert!(!a.is_installed());
    let said = Mutex::new(0);
    let count = |_: &str| *said.lock().expect("lock") += 1;
    a.ensure_installed(&count).await.expect("reinstalls");
    assert!(a.is_installed());
    assert_eq!(*said.lock().expect("lock"), 1);
    let entries: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["whisper-venv"]);
}
