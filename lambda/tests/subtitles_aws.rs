//! Subtitles on AWS, against real stand-ins: s3s-fs for S3 and moto's server
//! for Amazon Transcribe (API shape: it walks a job QUEUED → IN_PROGRESS →
//! COMPLETED, one step per `GetTranscriptionJob`, and writes no files, so the
//! test places the subtitle file at the key the job reports, as Transcribe
//! would). A video is processed by the coordinator's handler (the slices on a
//! local pool); its transcription job is started with the right parameters;
//! the transcript's S3 event publishes the subtitles (playlists, MPD,
//! manifest); a second video completes through status reads of the api
//! instead; a FAILED job (from a wire-format stand-in, moto never fails one)
//! records its reason.

use aws_sdk_transcribe::types::{MediaFormat, SubtitleFormat};
use slicecast_api::{ApiConfig, AppState};
use slicecast_coordinator::subtitles::check_pending;
use slicecast_coordinator::{LocalInvoker, Settings};
use slicecast_core::manifest::{Manifest, Status, TranscriptionStatus};
use slicecast_core::{VideoId, keys};
use slicecast_lambda::handlers::Coordinator;
use slicecast_lambda::subtitles::{AwsTranscriber, speech_key};
use slicecast_lambda::transcribe::{LanguageChoice, TranscribeClient};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, S3Store};
use slicecast_tests::speech_video;
use std::sync::Arc;
use std::time::Duration;
use support::{Moto, Reply, client, serve};

use slicecast_tests::s3s;
mod support;

use support::BUCKET;

const VTT: &str = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:03.000\nAnd so my fellow Americans,\n\n2\n00:00:03.500 --> 00:00:08.000\nask not what your country can do for you.\n";

fn s3_event(key: &str) -> aws_lambda_events::s3::S3Event {
    serde_json::from_value(support::s3_event(key, 1)).expect("event")
}

/// Where a job's WebVTT lands: Transcribe's name for it, and moto's.
fn vtt_keys(id: &VideoId, job: &str) -> [String; 2] {
    let prefix = keys::transcripts(id);
    [format!("{prefix}{job}.vtt"), format!("{prefix}.vtt")]
}

async fn manifest(store: &dyn BlobStore, id: &VideoId) -> Manifest {
    serde_json::from_slice(&store.get(&keys::manifest(id)).await.expect("manifest")).expect("json")
}

async fn text(store: &dyn BlobStore, key: &str) -> String {
    String::from_utf8_lossy(
        &store
            .get(key)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}")),
    )
    .into_owned()
}

/// The video's subtitles are in the manifest, the HLS master, the subtitle
/// playlist and its segments, and the MPD.
async fn assert_published(store: &dyn BlobStore, m: &Manifest) {
    assert_eq!(
        m.transcription_status,
        TranscriptionStatus::Completed,
        "{m:?}"
    );
    assert_eq!(m.subtitles.len(), 1);
    let t = &m.subtitles[0];
    assert_eq!((t.lang.as_str(), t.name.as_str()), ("en-US", "English"));
    let vtt = text(store, &t.vtt).await;
    assert!(
        vtt.contains("ask not what your country can do for you."),
        "{vtt}"
    );
    assert!(
        text(store, &t.srt)
            .await
            .starts_with("1\n00:00:00,500 --> 00:00:03,000\n")
    );
    let master = text(store, m.assets.hls_master.as_deref().expect("master")).await;
    assert!(
        master.contains("TYPE=SUBTITLES,URI=\"subs_en-US.m3u8\""),
        "{master}"
    );
    let playlist = text(store, &t.playlist).await;
    assert!(
        playlist.contains("../subtitles/en-US/seg_0.vtt"),
        "{playlist}"
    );
    let seg0 = text(store, &keys::subtitle_segment(&m.video_id, "en-US", 0)).await;
    assert!(
        seg0.contains("X-TIMESTAMP-MAP") && seg0.contains("Americans"),
        "{seg0}"
    );
    let mpd = text(store, m.assets.dash_mpd.as_deref().expect("mpd")).await;
    assert!(
        mpd.contains("<BaseURL>../subtitles/en-US.vtt</BaseURL>"),
        "{mpd}"
    );
    // The temporary speech audio is gone.
    assert!(store.head(&speech_key(&m.video_id)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcribe_job_event_and_polling_publish_subtitles() {
    let (s3_server, s3) = s3s::with_bucket(BUCKET).await;
    let store: Arc<dyn BlobStore> = Arc::new(S3Store::new(s3, BUCKET));
    let moto = Moto::start("transcribe_job_event_and_polling_publish_subtitles");
    let tc = client(&moto.endpoint);
    let languages = LanguageChoice::Identify(vec!["en-US".into(), "es-US".into()]);
    let transcriber = Arc::new(AwsTranscriber::new(
        TranscribeClient::new(tc.clone(), BUCKET, languages),
        store.clone(),
    ));
    let settings = Settings {
        workers: 2,
        preset: "ultrafast".into(),
        transcriber: Some(transcriber.clone()),
        ..Settings::default()
    };
    let coordinator = Coordinator {
        store: store.clone(),
        invoker: Arc::new(LocalInvoker::new(
            store.clone(),
            2,
            WorkerOptions::default(),
        )),
        settings,
    };
    let dir = tempfile::tempdir().expect("tmp");

    // 1. An upload: the video completes and a Transcribe job starts.
    let src = speech_video(dir.path(), "navy");
    store
        .put_file("uploads/speech one.mp4", &src)
        .await
        .expect("upload");
    let reply = coordinator
        .handle(s3_event("uploads/speech one.mp4"))
        .await
        .expect("handled");
    assert_eq!(
        reply.processed[0].status, "processing_complete",
        "{reply:?}"
    );
    let id = VideoId::parse(reply.processed[0].video_id.as_deref().expect("id")).expect("id");
    let m = manifest(store.as_ref(), &id).await;
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(m.transcription_status, TranscriptionStatus::InProgress);
    let t = m.transcription.clone().expect("transcription");
    assert_eq!(t.engine, "aws");
    let job = t.job.expect("a job name");
    assert!(
        job.contains(id.as_str()) && job.ends_with(".transcript"),
        "{job}"
    );
    let flac = store
        .head(&speech_key(&id))
        .await
        .expect("speech audio in S3");
    assert!(flac.size > 10_000, "{flac:?}");
    // The job as Transcribe has it (this read moves moto's job one step on).
    let got = tc
        .get_transcription_job()
        .transcription_job_name(&job)
        .send()
        .await
        .expect("GetTranscriptionJob");
    let j = got.transcription_job().expect("job");
    assert_eq!(
        j.media().and_then(|m| m.media_file_uri()),
        Some(format!("s3://{BUCKET}/{}", speech_key(&id)).as_str())
    );
    assert_eq!(j.media_format(), Some(&MediaFormat::Flac));
    assert_eq!(j.identify_language(), Some(true));
    let options: Vec<&str> = j.language_options().iter().map(|l| l.as_str()).collect();
    assert_eq!(options, ["en-US", "es-US"]);
    let subs = j.subtitles().expect("subtitles requested");
    assert!(
        subs.formats().contains(&SubtitleFormat::Vtt)
            && subs.formats().contains(&SubtitleFormat::Srt)
    );
    // moto names the files when the job completes; Transcribe writes them
    // as <OutputKey><job>.vtt, moto reports <OutputKey>.vtt: place both.
    let first_keys = vtt_keys(&id, &job);

    // 2. The transcript event before the job is done changes nothing.
    let transcript_key = format!("{}{job}.json", keys::transcripts(&id));
    let reply = coordinator
        .handle(s3_event(&transcript_key))
        .await
        .expect("handled");
    assert_eq!(
        reply.transcripts[0].transcription_status, "in_progress",
        "{reply:?}"
    );
    assert!(reply.processed.is_empty());
    // Transcribe writes its output; then its event publishes the subtitles.
    for k in &first_keys {
        store.put(k, VTT.into()).await.expect("vtt");
    }
    let reply = coordinator
        .handle(s3_event(&transcript_key))
        .await
        .expect("handled");
    assert_eq!(
        reply.transcripts[0].transcription_status, "completed",
        "{reply:?}"
    );
    let m = manifest(store.as_ref(), &id).await;
    assert_published(store.as_ref(), &m).await;
    // A repeated event is harmless.
    let reply = coordinator
        .handle(s3_event(&transcript_key))
        .await
        .expect("handled");
    assert_eq!(reply.transcripts[0].transcription_status, "completed");

    // 3. Another video whose event never comes: status reads of the api finish it.
    let src = speech_video(dir.path(), "maroon");
    store
        .put_file("uploads/speech two.mp4", &src)
        .await
        .expect("upload");
    let reply = coordinator
        .handle(s3_event("uploads/speech two.mp4"))
        .await
        .expect("handled");
    let id2 = VideoId::parse(reply.processed[0].video_id.as_deref().expect("id")).expect("id");
    let job2 = manifest(store.as_ref(), &id2)
        .await
        .transcription
        .and_then(|t| t.job)
        .expect("job");
    for k in vtt_keys(&id2, &job2) {
        store.put(&k, VTT.into()).await.expect("vtt");
    }
    let config = ApiConfig {
        transcript_check_every: Duration::ZERO,
        ..ApiConfig::default()
    };
    let s3_store = S3Store::new(s3s::client(&s3_server.endpoint, "testsecret"), BUCKET);
    let state = AppState::aws(s3_store, config).with_transcriber(Some(transcriber.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(slicecast_api::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let body: serde_json::Value = http
            .get(format!("{base}/status/{id2}"))
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        statuses.push(
            body["transcription_status"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        );
        if statuses.last().map(String::as_str) == Some("completed") {
            assert_eq!(body["subtitles"][0]["lang"], "en-US", "{body}");
            break;
        }
    }
    // moto: QUEUED when started, then IN_PROGRESS, then COMPLETED: one step per read.
    assert_eq!(
        statuses,
        ["in_progress", "in_progress", "completed"],
        "one read per moto step"
    );
    assert_published(store.as_ref(), &manifest(store.as_ref(), &id2).await).await;
    let list: serde_json::Value = http
        .get(format!("{base}/api/videos"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let listed = list
        .as_array()
        .into_iter()
        .flatten()
        .chain(list["videos"].as_array().into_iter().flatten())
        .find(|v| v["video_id"] == id2.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(listed["transcription_status"], "completed", "{listed}");
    assert!(
        listed["subtitles"][0]["url"]
            .as_str()
            .unwrap_or("")
            .ends_with("/subtitles/en-US.vtt"),
        "{listed}"
    );

    // 4. A job Transcribe fails: its reason is recorded, the video still plays.
    let reason = "The media format provided does not match the detected media format.";
    let (endpoint, seen) = serve(vec![Reply {
        status: 200,
        body: serde_json::json!({"TranscriptionJob": {
            "TranscriptionJobName": job2,
            "TranscriptionJobStatus": "FAILED",
            "FailureReason": reason,
            "Media": {"MediaFileUri": format!("s3://{BUCKET}/{}", speech_key(&id2))},
            "MediaFormat": "flac",
        }}),
    }])
    .await;
    let failing = AwsTranscriber::new(
        TranscribeClient::new(
            client(&endpoint),
            BUCKET,
            LanguageChoice::Fixed("en-US".into()),
        ),
        store.clone(),
    );
    let restarted = manifest(store.as_ref(), &id2).await.transcription_started(
        "aws",
        Some(job2.clone()),
        1,
        u64::MAX,
    );
    store
        .put(
            &keys::manifest(&id2),
            serde_json::to_vec(&restarted).expect("json").into(),
        )
        .await
        .expect("manifest");
    store
        .put(&speech_key(&id2), "flac".into())
        .await
        .expect("speech");
    let m = check_pending(store.as_ref(), &failing, &id2, None)
        .await
        .expect("checked")
        .expect("manifest");
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(m.transcription_status, TranscriptionStatus::Failed);
    let error = m.transcription.and_then(|t| t.error).unwrap_or_default();
    assert!(error.contains(reason), "{error}");
    assert!(
        store.head(&speech_key(&id2)).await.is_err(),
        "speech audio removed"
    );
    let seen = seen.await.expect("server");
    assert_eq!(seen[0].target, "Transcribe.GetTranscriptionJob");

    // 5. The transcript of a video deleted meanwhile is removed, not published.
    store
        .delete_prefix(&keys::video_prefix(&id))
        .await
        .expect("delete");
    store
        .put(&first_keys[0], VTT.into())
        .await
        .expect("late vtt");
    let reply = coordinator
        .handle(s3_event(&transcript_key))
        .await
        .expect("handled");
    assert_eq!(reply.transcripts[0].transcription_status, "gone");
    assert!(
        store
            .list(&keys::video_prefix(&id))
            .await
            .expect("list")
            .is_empty()
    );
}
