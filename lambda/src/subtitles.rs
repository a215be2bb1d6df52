//! Amazon Transcribe as a [`Transcriber`]: the coordinator uploads the speech
//! audio next to the video's output, starts a job and returns; the job's
//! transcript lands under `processed/<id>/transcripts/`, whose S3 event (or a
//! status read) asks [`Transcriber::check`], which reads Transcribe's WebVTT
//! back into cues and removes the temporary audio.

use crate::transcribe::{JobState, TranscribeApiError, TranscribeClient};
use async_trait::async_trait;
use slicecast_coordinator::subtitles::{TranscribeError, Transcriber, Transcript};
use slicecast_core::now_ms;
use slicecast_core::subtitles::parse_webvtt;
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::warn;

/// Amazon Transcribe over the video bucket.
pub struct AwsTranscriber {
    transcribe: TranscribeClient,
    store: Arc<dyn BlobStore>,
}

impl std::fmt::Debug for AwsTranscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsTranscriber").finish_non_exhaustive()
    }
}

impl AwsTranscriber {
    /// Transcribe jobs reading from and writing to `store`'s bucket.
    pub fn new(transcribe: TranscribeClient, store: Arc<dyn BlobStore>) -> Self {
        Self { transcribe, store }
    }
}

/// `processed/<id>/transcripts/speech.flac`: the audio a job reads; deleted once it ends.
pub fn speech_key(id: &VideoId) -> String {
    format!("{}speech.flac", keys::transcripts(id))
}

fn error(e: TranscribeApiError) -> TranscribeError {
    TranscribeError(format!("Amazon Transcribe: {e}"))
}

impl AwsTranscriber {
    async fn drop_audio(&self, id: &VideoId) {
        if let Err(e) = self.store.delete(&speech_key(id)).await
            && !e.is_not_found()
        {
            warn!(video.id = %id, error = %e, "could not delete the temporary speech audio");
        }
    }
}

#[async_trait]
impl Transcriber for AwsTranscriber {
    fn engine(&self) -> &'static str {
        "aws"
    }

    fn audio_extension(&self) -> &'static str {
        "flac"
    }

    /// Transcribe queues jobs; a long video can take a while.
    fn deadline(&self, duration_s: f64) -> Duration {
        Duration::from_secs_f64(3600.0 + 2.0 * duration_s.max(0.0))
    }

    async fn start(&self, video: &VideoId, audio: &Path) -> Result<Transcript, TranscribeError> {
        let key = speech_key(video);
        self.store
            .put_file(&key, audio)
            .await
            .map_err(|e| TranscribeError(format!("uploading the speech audio failed: {e}")))?;
        let job = self
            .transcribe
            .start(video, &key, now_ms())
            .await
            .map_err(error)?;
        Ok(Transcript::Pending { job })
    }

    async fn check(&self, video: &VideoId, job: &str) -> Result<Transcript, TranscribeError> {
        match self.transcribe.check(job).await.map_err(error)? {
            JobState::Running => Ok(Transcript::Pending {
                job: job.to_owned(),
            }),
            JobState::Failed { reason } => {
                self.drop_audio(video).await;
                Ok(Transcript::Failed {
                    reason: format!("Amazon Transcribe could not transcribe the audio: {reason}"),
                })
            }
            JobState::Completed {
                language_code,
                vtt_key,
                ..
            } => {
                let vtt = self.store.get(&vtt_key).await.map_err(|e| {
                    TranscribeError(format!("reading Transcribe's subtitles failed: {e}"))
                })?;
                let cues = parse_webvtt(&String::from_utf8_lossy(&vtt)).map_err(|e| {
                    TranscribeError(format!("Transcribe's subtitles at {vtt_key}: {e}"))
                })?;
                self.drop_audio(video).await;
                Ok(Transcript::Done {
                    engine: "aws",
                    lang: language_code,
                    cues,
                })
            }
        }
    }
}
