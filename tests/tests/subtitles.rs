//! Subtitles through the whole local pipeline, with real engines: Whisper on
//! the JFK speech muxed into a video (word error rate against its
//! transcript), pocketsphinx on the sintel trailer, and the outputs players
//! read (HLS SUBTITLES group + segmented WebVTT, DASH text set, manifest).

use slicecast_coordinator::subtitles::{PocketsphinxTranscriber, Transcriber, WhisperTranscriber};
use slicecast_coordinator::{LocalInvoker, Outcome, Settings, process_upload};
use slicecast_core::keys;
use slicecast_core::manifest::{Manifest, Status, TranscriptionStatus};
use slicecast_core::subtitles::{parse_webvtt, word_error_rate};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use slicecast_tests::{clip, media_dir, speech_video};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The venv the tests install Whisper into (once; kept under target/).
fn whisper_venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/whisper-venv")
}

async fn transcode(src: &Path, out: &Path, settings: &Settings) -> Manifest {
    let store = Arc::new(FsStore::new(out).expect("store"));
    let key = keys::upload(&src.file_name().expect("name").to_string_lossy());
    store.put_file(&key, src).await.expect("upload");
    let invoker = Arc::new(LocalInvoker::new(
        store.clone(),
        settings.workers,
        WorkerOptions::default(),
    ));
    match process_upload(store, invoker, &key, settings, Arc::new(|_| {}))
        .await
        .expect("transcode")
    {
        Outcome::Completed(m) => m,
        other => panic!("not processed now: {other:?}"),
    }
}

fn settings(transcriber: Arc<dyn Transcriber>) -> Settings {
    Settings {
        workers: 2,
        slice_seconds: Some(6.0),
        preset: "ultrafast".into(),
        transcriber: Some(transcriber),
        ..Settings::default()
    }
}

fn read(root: &Path, key: &str) -> String {
    std::fs::read_to_string(root.join(key)).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// Every place players read the track from, checked: files, HLS, DASH, manifest.
fn check_published(root: &Path, m: &Manifest) -> String {
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(
        m.transcription_status,
        TranscriptionStatus::Completed,
        "{m:?}"
    );
    assert_eq!(m.subtitles.len(), 1, "{:?}", m.subtitles);
    let track = &m.subtitles[0];
    let vtt = read(root, &track.vtt);
    let cues = parse_webvtt(&vtt).expect("valid WebVTT");
    assert!(!cues.is_empty());
    let duration = m.duration_s.expect("duration");
    for c in &cues {
        assert!(c.start_s <= c.end_s && c.end_s <= duration + 1.0, "{c:?}");
        assert!(
            c.lines.len() <= 2 && c.lines.iter().all(|l| l.chars().count() <= 42),
            "{c:?}"
        );
        assert!(c.end_s - c.start_s <= 7.0 + 1e-6, "{c:?}");
    }
    let srt = read(root, &track.srt);
    assert!(srt.starts_with("1\n"), "{srt}");
    // ffprobe reads both files as subtitle streams with every cue.
    for key in [&track.vtt, &track.srt] {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_packets",
                "-show_entries",
                "stream=codec_type,nb_read_packets",
                "-of",
                "csv=p=0",
            ])
            .arg(root.join(key))
            .output()
            .expect("ffprobe");
        let got = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(out.status.success(), "ffprobe rejects {key}");
        assert_eq!(got, format!("subtitle,{}", cues.len()), "{key}");
    }
    let master = read(root, m.assets.hls_master.as_deref().expect("master"));
    assert!(
        master.contains(&format!(
            "TYPE=SUBTITLES,URI=\"subs_{}.m3u8\",GROUP-ID=\"subs\"",
            track.lang
        )),
        "{master}"
    );
    assert!(master.contains("SUBTITLES=\"subs\""), "{master}");
    let playlist = read(root, &track.playlist);
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".vtt")).collect();
    let video = read(root, &m.rungs[0].playlist);
    assert_eq!(
        segments.len(),
        video.lines().filter(|l| l.ends_with(".m4s")).count(),
        "one subtitle segment per video segment"
    );
    let mut texts = Vec::new();
    for s in segments {
        let key = keys::hls(&m.video_id, s).replace("hls/../", "");
        let text = read(root, &key);
        assert!(
            text.contains("X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"),
            "{text}"
        );
        texts.extend(parse_webvtt(&text).expect("segment parses"));
    }
    assert!(
        cues.iter().all(|c| texts.contains(c)),
        "every cue in some segment"
    );
    let mpd = read(root, m.assets.dash_mpd.as_deref().expect("mpd"));
    assert!(mpd.contains("mimeType=\"text/vtt\""), "{mpd}");
    assert!(
        mpd.contains(&format!(
            "<BaseURL>../subtitles/{}.vtt</BaseURL>",
            track.lang
        )),
        "{mpd}"
    );
    cues.iter()
        .map(|c| c.lines.join(" "))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisper_subtitles_for_speech_in_a_video() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = speech_video(dir.path(), "navy");
    let out = dir.path().join("store");
    let t0 = std::time::Instant::now();
    let m = transcode(
        &src,
        &out,
        &settings(Arc::new(WhisperTranscriber::new(whisper_venv()))),
    )
    .await;
    let text = check_published(&out, &m);
    assert_eq!(m.subtitles[0].lang, "en");
    let reference = std::fs::read_to_string(media_dir().join("speech/jfk.txt")).expect("jfk.txt");
    let wer = word_error_rate(&reference, &text);
    let t = m.transcription.as_ref().expect("transcription");
    let after_playable_ms = t.finished_ms.unwrap_or(0).saturating_sub(t.started_ms);
    eprintln!(
        "whisper, jfk via the pipeline: WER {:.1} % ({text:?}); subtitles {after_playable_ms} ms after playable; whole run {:.1} s",
        wer * 100.0,
        t0.elapsed().as_secs_f64()
    );
    assert!(wer <= 0.25, "WER {wer} > 25 %: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pocketsphinx_subtitles_for_sintel() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let m = transcode(
        &src,
        dir.path(),
        &settings(Arc::new(PocketsphinxTranscriber)),
    )
    .await;
    let text = check_published(dir.path(), &m);
    eprintln!("pocketsphinx, sintel: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_without_audio_has_no_subtitles_and_says_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = clip("city_720x405_oddheight_7s_mpeg2ps_noaudio.mpg");
    let m = transcode(
        &src,
        dir.path(),
        &settings(Arc::new(PocketsphinxTranscriber)),
    )
    .await;
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(m.transcription_status, TranscriptionStatus::NoAudio);
    assert!(m.subtitles.is_empty());
    let master = read(dir.path(), m.assets.hls_master.as_deref().expect("master"));
    assert!(!master.contains("SUBTITLES"), "{master}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_fails_leaves_the_video_playable() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = speech_video(dir.path(), "navy");
    let out = dir.path().join("store");
    // Whisper in a venv that does not exist and cannot be made (a file is in the way).
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("write");
    let m = transcode(
        &src,
        &out,
        &settings(Arc::new(WhisperTranscriber::new(blocker.join("venv")))),
    )
    .await;
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(m.transcription_status, TranscriptionStatus::Failed);
    let reason = m
        .transcription
        .as_ref()
        .and_then(|t| t.error.clone())
        .unwrap_or_default();
    assert!(!reason.is_empty());
    eprintln!("failure reason: {reason}");
    assert!(m.subtitles.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_falls_back_to_pocketsphinx_when_whisper_cannot_be_installed() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = speech_video(dir.path(), "teal");
    let out = dir.path().join("store");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("write");
    let whisper = WhisperTranscriber::new(blocker.join("venv")).with_fallback();
    let m = transcode(&src, &out, &settings(Arc::new(whisper))).await;
    let text = check_published(&out, &m);
    assert_eq!(
        m.transcription.as_ref().map(|t| t.engine.as_str()),
        Some("pocketsphinx")
    );
    let reference = std::fs::read_to_string(media_dir().join("speech/jfk.txt")).expect("jfk.txt");
    eprintln!(
        "pocketsphinx fallback, jfk via the pipeline: WER {:.1} % ({text:?})",
        word_error_rate(&reference, &text) * 100.0
    );
}
