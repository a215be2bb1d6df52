//! [`TranscribeClient`] against a real Amazon Transcribe stand-in: moto's server
//! (`target/tools-venv/bin/moto_server`, which `bash scripts/install-deps.sh
//! --test` installs). moto checks the API shape and walks a job through
//! QUEUED → IN_PROGRESS → COMPLETED, one step per `GetTranscriptionJob`; it
//! never fails a job, so the FAILED path (and throttling) is tested against a
//! small local HTTP server that answers with Transcribe's JSON wire format.

use aws_sdk_transcribe::types::{
    LanguageCode, MediaFormat, OutputLocationType, SubtitleFormat, TranscriptionJob,
};
use slicecast_core::VideoId;
use slicecast_lambda::transcribe::{
    JobState, LanguageChoice, TranscribeApiError, TranscribeClient,
};
use std::time::{SystemTime, UNIX_EPOCH};
use support::{Moto, Reply, client, serve};

mod support;

use support::BUCKET;

fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since.as_millis()).expect("ms fit u64")
}

fn video(n: u8) -> VideoId {
    VideoId::from_digest(&[n; 16])
}

/// The job as `GetTranscriptionJob` reports it (which moves a moto job one step on).
async fn get_job(client: &aws_sdk_transcribe::Client, job: &str) -> TranscriptionJob {
    client
        .get_transcription_job()
        .transcription_job_name(job)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "GetTranscriptionJob {job}: {}",
                aws_sdk_transcribe::error::DisplayErrorContext(e)
            )
        })
        .transcription_job()
        .cloned()
        .expect("a job in the reply")
}

#[tokio::test]
async fn identify_language_job_is_requested_as_designed() {
    let moto = Moto::start("identify_language_job_is_requested_as_designed");
    let client = client(&moto.endpoint);
    let options = vec!["en-US".to_owned(), "es-US".to_owned()];
    let transcribe =
        TranscribeClient::new(client.clone(), BUCKET, LanguageChoice::Identify(options));
    let id = video(1);
    let media = format!("processed/{id}/work/speech.flac");
    let job = transcribe
        .start(&id, &media, now_ms())
        .await
        .expect("start");
    assert_eq!(TranscribeClient::video_of_job(&job), Some(id.clone()));

    let got = get_job(&client, &job).await;
    assert_eq!(got.transcription_job_name(), Some(job.as_str()));
    assert_eq!(got.identify_language(), Some(true));
    assert_eq!(
        got.language_options(),
        [LanguageCode::EnUs, LanguageCode::EsUs]
    );
    assert_eq!(
        got.media().and_then(|m| m.media_file_uri()),
        Some(format!("s3://{BUCKET}/{media}").as_str())
    );
    assert_eq!(got.media_format(), Some(&MediaFormat::Flac));
    assert_eq!(got.media_sample_rate_hertz(), Some(16_000));
    let subtitles = got.subtitles().expect("subtitles");
    assert_eq!(
        subtitles.formats(),
        [SubtitleFormat::Vtt, SubtitleFormat::Srt]
    );
    assert_eq!(subtitles.output_start_index(), Some(1));

    // The output location: our bucket, under the video's transcripts folder.
    let listed = client
        .list_transcription_jobs()
        .job_name_contains(&job)
        .send()
        .await
        .expect("list");
    let summary = listed.transcription_job_summaries();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(
        summary[0].output_location_type(),
        Some(&OutputLocationType::CustomerBucket)
    );
    get_job(&client, &job).await;
    let done = get_job(&client, &job).await;
    let transcript = done
        .transcript()
        .and_then(|t| t.transcript_file_uri())
        .expect("transcript uri");
    println!("moto's transcript URI: {transcript}");
    println!(
        "moto's subtitle URIs: {:?}",
        done.subtitles().map(|s| s.subtitle_file_uris())
    );
    assert!(
        transcript.starts_with(&format!(
            "https://s3.us-east-1.amazonaws.com/{BUCKET}/processed/{id}/transcripts/"
        )),
        "{transcript}"
    );
}

#[tokio::test]
async fn fixed_language_job_sets_language_code() {
    let moto = Moto::start("fixed_language_job_sets_language_code");
    let client = client(&moto.endpoint);
    let transcribe = TranscribeClient::new(
        client.clone(),
        BUCKET,
        LanguageChoice::Fixed("en-GB".to_owned()),
    );
    let id = video(2);
    let media = format!("processed/{id}/work/speech.wav");
    let job = transcribe
        .start(&id, &media, now_ms())
        .await
        .expect("start");
    let got = get_job(&client, &job).await;
    assert_eq!(got.language_code(), Some(&LanguageCode::EnGb));
    assert_ne!(got.identify_language(), Some(true));
    assert!(got.language_options().is_empty());
    assert_eq!(got.media_format(), Some(&MediaFormat::Wav));

    // A single candidate language is sent as that language (Transcribe
    // wants two or more `LanguageOptions`).
    let single = TranscribeClient::new(
        client.clone(),
        BUCKET,
        LanguageChoice::Identify(vec!["es-US".to_owned()]),
    );
    let job = single
        .start(&id, &media, now_ms() + 1)
        .await
        .expect("start");
    let got = get_job(&client, &job).await;
    assert_eq!(got.language_code(), Some(&LanguageCode::EsUs));
    assert_ne!(got.identify_language(), Some(true));
    assert!(got.language_options().is_empty());

    // Audio that is not FLAC or WAV is refused before any request.
    let err = transcribe
        .start(&id, &format!("processed/{id}/work/speech.mp3"), now_ms())
        .await
        .expect_err("mp3 is not ours to send");
    assert!(err.to_string().contains("speech.mp3"), "{err}");
}

#[tokio::test]
async fn check_follows_a_job_to_completion_and_delete_cleans_up() {
    let moto = Moto::start("check_follows_a_job_to_completion_and_delete_cleans_up");
    let client = client(&moto.endpoint);
    let options = vec!["en-US".to_owned(), "es-US".to_owned()];
    let transcribe =
        TranscribeClient::new(client.clone(), BUCKET, LanguageChoice::Identify(options));
    let id = video(3);
    let media = format!("processed/{id}/work/speech.flac");
    let t0 = now_ms();
    let job = transcribe.start(&id, &media, t0).await.expect("start");

    // A retried start (same instant) finds its job and counts as started.
    assert_eq!(
        transcribe.start(&id, &media, t0).await.expect("restart"),
        job
    );
    // A later start for the same video is a second, differently named job.
    let second = transcribe.start(&id, &media, t0 + 1).await.expect("second");
    assert_ne!(second, job);
    for name in [&job, &second] {
        assert!(name.len() <= 200, "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{name}"
        );
        assert_eq!(TranscribeClient::video_of_job(name), Some(id.clone()));
    }
    let listed = client
        .list_transcription_jobs()
        .job_name_contains(id.as_str())
        .send()
        .await
        .expect("list");
    assert_eq!(listed.transcription_job_summaries().len(), 2);

    // moto: QUEUED → IN_PROGRESS → COMPLETED, one step per Get.
    assert_eq!(
        transcribe.check(&job).await.expect("check 1"),
        JobState::Running
    );
    assert_eq!(
        transcribe.check(&job).await.expect("check 2"),
        JobState::Running
    );
    let JobState::Completed {
        language_code,
        vtt_key,
        srt_key,
    } = transcribe.check(&job).await.expect("check 3")
    else {
        panic!("the third check should find the job completed");
    };
    println!("completed: {language_code} {vtt_key} {srt_key}");
    assert_eq!(language_code, "en-US", "moto identifies the first option");
    let prefix = TranscribeClient::output_prefix(&id);
    assert_eq!(prefix, format!("processed/{id}/transcripts/"));
    for (key, ext) in [(&vtt_key, "vtt"), (&srt_key, "srt")] {
        // Real Transcribe names the files after the job inside the OutputKey
        // folder; moto 5.2.5 appends the extension to the folder itself.
        assert!(
            *key == format!("{prefix}{job}.{ext}") || *key == format!("{prefix}.{ext}"),
            "{key}"
        );
    }
    // A completed job stays completed.
    assert!(matches!(
        transcribe.check(&job).await.expect("check 4"),
        JobState::Completed { .. }
    ));

    transcribe.delete(&job).await.expect("delete");
    transcribe
        .delete(&job)
        .await
        .expect("a second delete is fine");
    let gone = transcribe.check(&job).await.expect_err("deleted");
    assert!(gone.is_not_found(), "{gone:?}");
    assert!(gone.to_string().contains(&job), "{gone}");
    transcribe.delete(&second).await.expect("delete second");
}

#[tokio::test]
async fn failed_and_throttled_jobs_over_the_wire() {
    let job = TranscribeClient::job_name(&video(4), 1_796_000_000_000);
    let reason = "The media format provided does not match the detected media format.";
    let failed = |failure_reason: Option<&str>| {
        let mut j = serde_json::json!({
            "TranscriptionJobName": job,
            "TranscriptionJobStatus": "FAILED",
            "Media": {"MediaFileUri": format!("s3://{BUCKET}/processed/x/work/speech.flac")},
            "MediaFormat": "flac",
            "MediaSampleRateHertz": 16000,
            "CreationTime": 1_796_000_000.0,
            "StartTime": 1_796_000_001.0,
            "CompletionTime": 1_796_000_002.5,
            "IdentifyLanguage": true,
            "LanguageOptions": ["en-US", "es-US"],
            "Settings": {"ChannelIdentification": false, "ShowAlternatives": false},
            "Subtitles": {"Formats": ["vtt", "srt"], "OutputStartIndex": 1}
        });
        if let Some(r) = failure_reason {
            j["FailureReason"] = r.into();
        }
        Reply {
            status: 200,
            body: serde_json::json!({ "TranscriptionJob": j }),
        }
    };
    let (endpoint, server) = serve(vec![
        failed(Some(reason)),
        failed(None),
        Reply {
            status: 400,
            body: serde_json::json!({
                "__type": "LimitExceededException",
                "Message": "You've either sent too many requests or your input file is too long."
            }),
        },
        Reply {
            status: 400,
            body: serde_json::json!({
                "__type": "BadRequestException",
                "Message": "The requested job couldn't be found. Check the job name and try your request again."
            }),
        },
        Reply {
            status: 500,
            body: serde_json::json!({
                "__type": "InternalFailureException",
                "Message": "We encountered an internal error."
            }),
        },
    ])
    .await;
    let transcribe = TranscribeClient::new(
        client(&endpoint),
        BUCKET,
        LanguageChoice::Fixed("en-US".to_owned()),
    );

    assert_eq!(
        transcribe.check(&job).await.expect("failed job"),
        JobState::Failed {
            reason: reason.to_owned()
        }
    );
    let JobState::Failed { reason: fallback } =
        transcribe.check(&job).await.expect("failed job, no reason")
    else {
        panic!("a FAILED job without a reason is still failed");
    };
    assert!(fallback.contains("failed"), "{fallback}");

    let throttled = transcribe.check(&job).await.expect_err("throttled");
    assert!(throttled.is_throttled(), "{throttled:?}");
    assert!(
        throttled.to_string().contains("too many requests"),
        "{throttled}"
    );

    let missing = transcribe.check(&job).await.expect_err("not found");
    assert!(missing.is_not_found(), "{missing:?}");

    let internal = transcribe.check(&job).await.expect_err("internal");
    assert!(
        matches!(internal, TranscribeApiError::Other(_)),
        "{internal:?}"
    );
    assert!(
        internal.to_string().contains("internal error"),
        "{internal}"
    );

    let seen = server.await.expect("server");
    assert_eq!(seen.len(), 5);
    for s in &seen {
        assert_eq!(s.target, "Transcribe.GetTranscriptionJob");
        assert_eq!(s.body, serde_json::json!({ "TranscriptionJobName": job }));
    }
}
