//! Tests of the manifest: status transitions, stale processing settled as failed, the earlier service's status strings.

use super::*;

fn id() -> VideoId {
    VideoId::parse("0123456789abcdef0123456789abcdef").expect("id")
}

#[test]
fn transitions() {
    let m = Manifest::new(id(), "uploads/a.mp4".into(), 1000, 5000);
    assert_eq!(m.status, Status::Processing);
    let m = m
        .at_stage(Stage::Encoding, 1100)
        .with_progress(1, 4, 2, 5, 1200);
    assert_eq!(m.progress.slices_done, 1);
    assert!((m.progress.fraction - 0.4).abs() < 1e-9);
    assert_eq!(m.progress.elapsed_ms, 200);
    assert_eq!(m.progress.eta_ms, None);
    let live = m.clone().with_live_progress(1, 4, 0.55, Some(900), 1300);
    assert_eq!(
        (live.progress.fraction, live.progress.elapsed_ms),
        (0.55, 300)
    );
    assert_eq!(live.progress.eta_ms, Some(900));
    for bad in [f64::NAN, -1.0, 7.0] {
        let p = m.clone().with_live_progress(1, 4, bad, None, 1300).progress;
        assert!((0.0..=1.0).contains(&p.fraction), "{bad}");
    }
    let done = m.clone().completed(2000);
    assert_eq!(done.status, Status::ProcessingComplete);
    assert_eq!(done.progress.fraction, 1.0);
    assert_eq!(done.timings.total_ms, 1000);
    let failed = m.failed("bad", 2000);
    assert_eq!(failed.error.as_deref(), Some("bad"));
    assert_eq!(failed.stage, Stage::Done);
}

#[test]
fn stale_processing_settles_as_failed() {
    let m = Manifest::new(id(), "uploads/a.mp4".into(), 1000, 5000);
    assert!(!m.is_stale(4000));
    let s = m.settled(6000);
    assert_eq!(s.status, Status::ProcessingFailed);
    assert!(s.error.unwrap_or_default().contains("deadline"));
}

#[test]
fn transcription_transitions() {
    let m = Manifest::new(id(), "uploads/a.mp4".into(), 1000, 5000).completed(2000);
    assert_eq!(m.transcription_status, TranscriptionStatus::NotRequested);
    let started = m.clone().transcription_started("whisper", None, 2000, 3000);
    assert_eq!(
        started.transcription_status,
        TranscriptionStatus::InProgress
    );
    assert!(!started.transcription_is_stale(3000));
    let mut pending = m.clone();
    pending.transcription_status = TranscriptionStatus::Pending;
    assert!(!pending.transcription_is_stale(2000 + PENDING_TRANSCRIPTION_MS));
    let never = pending.settled(2001 + PENDING_TRANSCRIPTION_MS);
    assert_eq!(never.transcription_status, TranscriptionStatus::Failed);
    let stale = started.clone().settled(3001);
    assert_eq!(stale.transcription_status, TranscriptionStatus::Failed);
    assert_eq!(
        stale.status,
        Status::ProcessingComplete,
        "the video still plays"
    );
    assert!(
        stale
            .transcription
            .as_ref()
            .and_then(|t| t.error.clone())
            .is_some()
    );
    let track = SubtitleTrack {
        lang: "en".into(),
        name: "English".into(),
        vtt: "v".into(),
        srt: "s".into(),
        playlist: "p".into(),
    };
    let done = started.with_subtitles(vec![track], 2500);
    assert_eq!(done.transcription_status, TranscriptionStatus::Completed);
    assert_eq!(
        done.transcription.as_ref().and_then(|t| t.finished_ms),
        Some(2500)
    );
    assert_eq!(done.subtitles.len(), 1);
    let json = serde_json::to_value(&done).expect("json");
    assert_eq!(json["transcription_status"], "completed");
    assert_eq!(json["subtitles"][0]["lang"], "en");
    // A manifest written before subtitles existed still reads.
    let mut old = serde_json::to_value(&m).expect("json");
    for k in ["transcription_status", "transcription", "subtitles"] {
        old.as_object_mut().expect("object").remove(k);
    }
    let back: Manifest = serde_json::from_value(old).expect("old manifests read");
    assert_eq!(back.transcription_status, TranscriptionStatus::NotRequested);
}

#[test]
fn status_strings_match_the_earlier_service() {
    let json = serde_json::to_string(&Status::ProcessingComplete).expect("json");
    assert_eq!(json, "\"processing_complete\"");
    let json = serde_json::to_string(&Stage::Assembling).expect("json");
    assert_eq!(json, "\"assembling\"");
}
