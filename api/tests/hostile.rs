//! Hostile uploads through the upload API of a processing server: each one
//! ends `processing_failed` with a sentence (or is refused at the door), the
//! status shows no path or URL, nothing named is read, nothing is requested.

mod common;

use anyhow::{Context, ensure};
use common::*;
use slicecast_api::ApiConfig;
use slicecast_tests::hostile::{self, Tripwire};
use std::time::Duration;

#[tokio::test]
async fn hostile_uploads_fail_cleanly_and_read_nothing() -> anyhow::Result<()> {
    let s = processing_server(ApiConfig::default()).await?;
    let secret = tempfile::tempdir()?;
    let decoy = hostile::decoy(secret.path());
    let decoy_bytes = std::fs::read(&decoy)?;
    let needle = decoy_bytes[decoy_bytes.len() / 2..][..188].to_vec();
    let tripwire = Tripwire::start()?;

    // A real upload first, so a relative name has a sibling to reach.
    let sibling = "deer_1920x1080_1s_h264_aac_23976.mp4";
    let done = s
        .upload(sibling, &std::fs::read(media(sibling))?, None)
        .await?;
    let sibling_id = done["video_id"].as_str().context("video_id")?.to_owned();
    ensure!(
        s.wait_done(&sibling_id, Duration::from_secs(120)).await?["status"]
            == "processing_complete"
    );

    for h in hostile::corpus(&decoy, tripwire.port, sibling) {
        let (code, body) = s
            .post(
                "/create_multipart_upload",
                &serde_json::json!({"fileName": h.name, "fileSize": h.bytes.len()}),
                None,
            )
            .await?;
        if code == 400 {
            // Refused by name at the door: as safe as a refusal after upload.
            hostile::assert_public(&body.to_string());
            continue;
        }
        let done = s.upload(&h.name, &h.bytes, None).await?;
        let id = done["video_id"].as_str().context("video_id")?.to_owned();
        let status = s.wait_done(&id, Duration::from_secs(60)).await?;
        ensure!(
            status["status"] == "processing_failed",
            "{}: {status}",
            h.name
        );
        let error = status["error"].as_str().unwrap_or_default();
        ensure!(error.contains(h.says), "{}: {error}", h.name);
        hostile::assert_public(&status.to_string());
    }
    let (code, videos) = s.get_json("/api/videos").await?;
    ensure!(code == 200);
    hostile::assert_public(&videos.to_string());
    hostile::assert_nowhere(s.dir.path(), &needle);
    ensure!(tripwire.hits() == 0, "an upload made a network request");
    Ok(())
}
