//! [`TranscribeClient`]: subtitles for a video's audio through Amazon Transcribe
//! (aws-sdk-transcribe `StartTranscriptionJob` / `GetTranscriptionJob` /
//! `DeleteTranscriptionJob`).
//!
//! A job reads `s3://<bucket>/<media key>` and writes its transcript and its
//! WebVTT and SubRip subtitles under `processed/<id>/transcripts/`, named
//! after the job: `slicecast-<id>-<unix ms>.transcript.json` (the key the S3
//! trigger filters on), `….transcript.vtt` and `….transcript.srt`.

use aws_sdk_transcribe::Client;
use aws_sdk_transcribe::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_transcribe::types::{
    LanguageCode, Media, MediaFormat, SubtitleFormat, Subtitles, TranscriptionJobStatus,
};
use slicecast_core::{VideoId, keys};
use slicecast_storage::aws_errors;

/// Sample rate of the audio handed to Transcribe (the extracted speech track).
pub const MEDIA_SAMPLE_RATE_HZ: i32 = 16_000;

/// Longest job name Transcribe accepts.
pub const MAX_JOB_NAME_LEN: usize = 200;

const JOB_PREFIX: &str = "slicecast-";
const JOB_SUFFIX: &str = ".transcript";

/// Which language(s) the audio is in: `LANGUAGE_CODE` fixed, else
/// `IdentifyLanguage` with `LANGUAGE_OPTIONS` (comma list, default "en-US").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageChoice {
    /// One known language (`LanguageCode`, e.g. "en-GB").
    Fixed(String),
    /// Let Transcribe identify the language among these candidates
    /// (`IdentifyLanguage` + `LanguageOptions`). With a single candidate
    /// the job is started with that `LanguageCode` instead (Transcribe
    /// wants two or more options); with none, among all it knows.
    Identify(Vec<String>),
}

impl LanguageChoice {
    /// The choice from the values of `LANGUAGE_CODE` and `LANGUAGE_OPTIONS`:
    /// a non-blank code wins; otherwise the comma-separated options (blanks
    /// dropped), "en-US" when there are none.
    pub fn from_settings(language_code: Option<&str>, language_options: Option<&str>) -> Self {
        if let Some(code) = language_code.map(str::trim).filter(|c| !c.is_empty()) {
            return Self::Fixed(code.to_owned());
        }
        let options: Vec<String> = language_options
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if options.is_empty() {
            Self::Identify(vec!["en-US".to_owned()])
        } else {
            Self::Identify(options)
        }
    }

    /// [`LanguageChoice::from_settings`] over the process environment.
    pub fn from_env() -> Self {
        let code = std::env::var("LANGUAGE_CODE").ok();
        let options = std::env::var("LANGUAGE_OPTIONS").ok();
        Self::from_settings(code.as_deref(), options.as_deref())
    }
}

/// Where a transcription job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Queued or in progress.
    Running,
    /// Done: the language transcribed and the S3 keys of the subtitle files
    /// (in the adapter's bucket).
    Completed {
        /// The job's language ("en-US"), fixed or identified; "und" if
        /// Transcribe reported none.
        language_code: String,
        /// Key of the WebVTT subtitles.
        vtt_key: String,
        /// Key of the SubRip subtitles.
        srt_key: String,
    },
    /// Transcribe gave up on the job.
    Failed {
        /// Transcribe's `FailureReason`, a sentence a person can read.
        reason: String,
    },
}

/// A Transcribe call that did not go through. The message names the call and
/// the job and carries the SDK's description of what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscribeApiError {
    /// Transcribe is throttling us (`LimitExceededException`, HTTP 429):
    /// try again later, without counting it as a failure of the job.
    #[error("{0}")]
    Throttled(String),
    /// The job does not exist (never started, deleted, or expired).
    #[error("{0}")]
    NotFound(String),
    /// Anything else: a rejected request, a service or network failure, or
    /// a reply this adapter cannot use.
    #[error("{0}")]
    Other(String),
}

impl TranscribeApiError {
    /// Whether Transcribe was throttling.
    pub fn is_throttled(&self) -> bool {
        matches!(self, Self::Throttled(_))
    }

    /// Whether the job was not found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// Amazon Transcribe over one bucket: audio in, subtitles out, both in
/// `bucket`.
#[derive(Debug, Clone)]
pub struct TranscribeClient {
    client: Client,
    bucket: String,
    language: LanguageChoice,
}

impl TranscribeClient {
    /// An adapter over an existing client.
    pub fn new(client: Client, bucket: impl Into<String>, language: LanguageChoice) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            language,
        }
    }

    /// An adapter configured from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL_TRANSCRIBE` / `AWS_ENDPOINT_URL`), with the SDK's
    /// standard retries.
    pub async fn from_env(bucket: impl Into<String>, language: LanguageChoice) -> Self {
        let conf = aws_config::load_from_env().await;
        Self::new(Client::new(&conf), bucket, language)
    }

    /// The job name for a video: unique and valid (`^[0-9a-zA-Z._-]+`, at
    /// most 200 characters): `slicecast-<video id>-<unix ms>.transcript`.
    /// The `.transcript` suffix makes its JSON output key end in
    /// `.transcript.json`, which the S3 trigger filters on.
    pub fn job_name(video_id: &VideoId, now_ms: u64) -> String {
        format!("{JOB_PREFIX}{video_id}-{now_ms}{JOB_SUFFIX}")
    }

    /// The video a job name belongs to (for the S3 event on
    /// `processed/<id>/transcripts/<job>.transcript.json`); `None` when the
    /// name is not one of [`TranscribeClient::job_name`]'s.
    pub fn video_of_job(job: &str) -> Option<VideoId> {
        let middle = job.strip_prefix(JOB_PREFIX)?.strip_suffix(JOB_SUFFIX)?;
        let (id, ms) = middle.split_once('-')?;
        if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        VideoId::parse(id).ok()
    }

    /// `processed/<id>/transcripts/`: where a video's jobs write.
    pub fn output_prefix(video_id: &VideoId) -> String {
        keys::transcripts(video_id)
    }

    /// Starts transcribing `s3://<bucket>/<media_key>` (FLAC or WAV, by its
    /// extension, at 16 kHz) into WebVTT and SubRip subtitles (cues numbered
    /// from 1) under [`TranscribeClient::output_prefix`]. Returns the job name.
    /// A job of that name that already exists (a retried start with the same
    /// `now_ms`) counts as started.
    pub async fn start(
        &self,
        video_id: &VideoId,
        media_key: &str,
        now_ms: u64,
    ) -> Result<String, TranscribeApiError> {
        let job = Self::job_name(video_id, now_ms);
        let format = media_format(media_key).ok_or_else(|| {
            TranscribeApiError::Other(format!(
                "cannot transcribe {media_key}: only FLAC or WAV audio (.flac, .wav) is sent to Amazon Transcribe"
            ))
        })?;
        let mut request = self
            .client
            .start_transcription_job()
            .transcription_job_name(&job)
            .media(
                Media::builder()
                    .media_file_uri(format!("s3://{}/{media_key}", self.bucket))
                    .build(),
            )
            .media_format(format)
            .media_sample_rate_hertz(MEDIA_SAMPLE_RATE_HZ)
            .subtitles(
                Subtitles::builder()
                    .formats(SubtitleFormat::Vtt)
                    .formats(SubtitleFormat::Srt)
                    .output_start_index(1)
                    .build(),
            )
            .output_bucket_name(&self.bucket)
            .output_key(Self::output_prefix(video_id));
        request = match &self.language {
            LanguageChoice::Fixed(code) => request.language_code(LanguageCode::from(code.as_str())),
            LanguageChoice::Identify(options) if options.len() == 1 => {
                request.language_code(LanguageCode::from(options[0].as_str()))
            }
            LanguageChoice::Identify(options) => request
                .identify_language(true)
                .set_language_options((!options.is_empty()).then(|| {
                    options
                        .iter()
                        .map(|o| LanguageCode::from(o.as_str()))
                        .collect()
                })),
        };
        match request.send().await {
            Ok(_) => Ok(job),
            Err(e) if e.code() == Some("ConflictException") => Ok(job),
            Err(e) => Err(classify(&format!("starting transcription job {job}"), e)),
        }
    }

    /// Where job `job` stands (`GetTranscriptionJob`). A completed job's
    /// subtitle files are given as keys in this adapter's bucket.
    pub async fn check(&self, job: &str) -> Result<JobState, TranscribeApiError> {
        let out = self
            .client
            .get_transcription_job()
            .transcription_job_name(job)
            .send()
            .await
            .map_err(|e| classify(&format!("checking transcription job {job}"), e))?;
        let unusable = |what: &str| {
            TranscribeApiError::Other(format!(
                "transcription job {job}: Transcribe's reply {what}"
            ))
        };
        let info = out
            .transcription_job()
            .ok_or_else(|| unusable("has no job"))?;
        let status = info
            .transcription_job_status()
            .ok_or_else(|| unusable("has no status"))?;
        match status {
            TranscriptionJobStatus::Queued | TranscriptionJobStatus::InProgress => {
                Ok(JobState::Running)
            }
            TranscriptionJobStatus::Failed => Ok(JobState::Failed {
                reason: info
                    .failure_reason()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .unwrap_or("Amazon Transcribe reported the job as failed without a reason.")
                    .to_owned(),
            }),
            TranscriptionJobStatus::Completed => {
                let language_code = info
                    .language_code()
                    .or_else(|| info.language_codes().iter().find_map(|l| l.language_code()))
                    .map_or("und", |l| l.as_str())
                    .to_owned();
                let uris = info
                    .subtitles()
                    .map(|s| s.subtitle_file_uris())
                    .unwrap_or_default();
                let find = |ext: &str| {
                    uris.iter()
                        .filter_map(|u| key_from_uri(u, &self.bucket))
                        .find(|k| k.to_ascii_lowercase().ends_with(ext))
                        .ok_or_else(|| {
                            unusable(&format!(
                                "names no {ext} subtitle file in bucket {} (subtitle files: {uris:?})",
                                self.bucket
                            ))
                        })
                };
                Ok(JobState::Completed {
                    language_code,
                    vtt_key: find(".vtt")?,
                    srt_key: find(".srt")?,
                })
            }
            other => Err(unusable(&format!(
                "has a status this adapter does not know: {}",
                other.as_str()
            ))),
        }
    }

    /// Deletes job `job` (`DeleteTranscriptionJob`; its output files stay).
    /// A job that is already gone is fine.
    pub async fn delete(&self, job: &str) -> Result<(), TranscribeApiError> {
        match self
            .client
            .delete_transcription_job()
            .transcription_job_name(job)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match classify(&format!("deleting transcription job {job}"), e) {
                TranscribeApiError::NotFound(_) => Ok(()),
                other => Err(other),
            },
        }
    }
}

/// Transcribe's `MediaFormat` for an audio key, from its extension.
fn media_format(key: &str) -> Option<MediaFormat> {
    let (_, ext) = key.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "flac" => Some(MediaFormat::Flac),
        "wav" => Some(MediaFormat::Wav),
        _ => None,
    }
}

/// The key in `bucket` that an S3 object URI points at, percent-decoded;
/// `None` when it points into another bucket or is not an object URI.
/// Understands path-style (`https://s3.<region>.amazonaws.com/<bucket>/<key>`,
/// also `s3-<region>`, `s3.dualstack.<region>`, and custom endpoints such as
/// `http://127.0.0.1:9000/<bucket>/<key>`), virtual-hosted
/// (`https://<bucket>.s3.<region>.amazonaws.com/<key>`) and `s3://<bucket>/<key>`;
/// a query string (a presigned URL's) is ignored.
pub fn key_from_uri(uri: &str, bucket: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/')?;
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let raw_key = if scheme.eq_ignore_ascii_case("s3") {
        (host == bucket).then_some(path)?
    } else if virtual_hosted(&host, bucket) {
        path
    } else {
        path.strip_prefix(bucket)?.strip_prefix('/')?
    };
    let key = percent_encoding::percent_decode_str(raw_key)
        .decode_utf8()
        .ok()?
        .into_owned();
    (!key.is_empty()).then_some(key)
}

/// Whether `host` names `bucket` itself (`<bucket>.s3….amazonaws.com`, or
/// `<bucket>.<endpoint>` off AWS).
fn virtual_hosted(host: &str, bucket: &str) -> bool {
    let Some(service) = host.strip_prefix(bucket).and_then(|h| h.strip_prefix('.')) else {
        return false;
    };
    let on_aws = service.ends_with(".amazonaws.com") || service.ends_with(".amazonaws.com.cn");
    // On AWS the bucket's label is followed by the S3 endpoint; otherwise
    // `s3.us-east-1.amazonaws.com` would be bucket "s3" virtual-hosted.
    !service.is_empty() && (!on_aws || service.starts_with("s3"))
}

/// A failed SDK call as a [`TranscribeApiError`]. Transcribe answers a missing
/// job with `BadRequestException` ("The requested job couldn't be found")
/// as often as with `NotFoundException`.
fn classify<E>(doing: &str, e: SdkError<E>) -> TranscribeApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, status) = aws_errors::code_and_status(&e);
    let message = e.message().unwrap_or_default().to_ascii_lowercase();
    let text = format!("{doing} failed: {}", aws_errors::detail(&e));
    if aws_errors::is_throttling(code.as_deref(), status) {
        return TranscribeApiError::Throttled(text);
    }
    match code.as_deref() {
        Some("NotFoundException") => TranscribeApiError::NotFound(text),
        Some("BadRequestException")
            if message.contains("couldn't be found")
                || message.contains("could not be found")
                || message.contains("doesn't exist")
                || message.contains("does not exist") =>
        {
            TranscribeApiError::NotFound(text)
        }
        _ => TranscribeApiError::Other(text),
    }
}

#[cfg(test)]
mod tests;
