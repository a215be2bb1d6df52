//! Which objects of an S3 event the coordinator processes.
//!
//! Keys in S3 event notifications are URL-encoded (`+` is a space, `%2F` a
//! slash). Only objects under `uploads/` are sources; everything slicecast
//! writes itself lives under `processed/` (or the api's own prefixes), so
//! whatever prefixes a trigger is given, the coordinator never processes its
//! own output. The one exception is Amazon Transcribe's transcript
//! (`processed/<id>/transcripts/<job>.transcript.json`), which is not
//! processed but tells the coordinator that a video's subtitles are ready;
//! nothing slicecast writes ends in `.transcript.json`, so that is no loop either.

use crate::transcribe::TranscribeClient;
use aws_lambda_events::s3::S3Event;
use percent_encoding::percent_decode_str;
use slicecast_core::{VideoId, keys};

/// The prefix of uploaded sources.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Decodes an S3 event key: `+` → space, then percent-decoding; `None` when
/// the result is not UTF-8.
pub fn decode_key(raw: &str) -> Option<String> {
    let plus = raw.replace('+', " ");
    percent_decode_str(&plus)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Whether a decoded key is an upload the coordinator should process.
pub fn is_source_key(key: &str) -> bool {
    key.starts_with(UPLOADS_PREFIX)
        && key.len() > UPLOADS_PREFIX.len()
        && !key.ends_with('/')
        && slicecast_storage::validate_key(key).is_ok()
}

/// The video and job of a transcript key
/// (`processed/<id>/transcripts/<job>.transcript.json`, the job named for the
/// same video); `None` for any other key.
pub fn transcript_of(key: &str) -> Option<(VideoId, String)> {
    let rest = key.strip_prefix(keys::PROCESSED)?;
    let id = VideoId::parse(rest.split_once('/')?.0).ok()?;
    let job = key
        .strip_prefix(&keys::transcripts(&id))?
        .strip_suffix(".json")?;
    (TranscribeClient::video_of_job(job).as_ref() == Some(&id)).then(|| (id, job.to_owned()))
}

/// What to do with one record of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Process this upload (decoded key).
    Source(String),
    /// A transcription job of this video finished: its subtitles may be published.
    Transcript {
        /// The video.
        video_id: VideoId,
        /// The job name.
        job: String,
    },
    /// Not for the coordinator, with the reason.
    Ignored {
        /// The key as it came (decoded where possible).
        key: String,
        /// Why.
        reason: &'static str,
    },
}

/// Sorts an event's records into sources and ignored objects. Repeated keys
/// in one event are processed once.
pub fn records(event: &S3Event) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    for r in &event.records {
        let raw = r.s3.object.key.clone().unwrap_or_default();
        let created = r
            .event_name
            .as_deref()
            .is_none_or(|n| n.starts_with("ObjectCreated"));
        let record = match decode_key(&raw) {
            None => Record::Ignored {
                key: raw,
                reason: "the key is not valid UTF-8 once decoded",
            },
            Some(key) if !created => Record::Ignored {
                key,
                reason: "not an ObjectCreated event",
            },
            Some(key) if let Some((video_id, job)) = transcript_of(&key) => {
                Record::Transcript { video_id, job }
            }
            Some(key) if !is_source_key(&key) => Record::Ignored {
                key,
                reason: "not an upload under uploads/ (slicecast's own output or another prefix)",
            },
            Some(key) => Record::Source(key),
        };
        if !out.contains(&record) {
            out.push(record);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        let table = [
            ("uploads/a+b.mp4", Some("uploads/a b.mp4")),
            ("uploads/a%2Bb.mp4", Some("uploads/a+b.mp4")),
            ("uploads%2Fx%2Fclip.mp4", Some("uploads/x/clip.mp4")),
            ("uploads/%C3%BCn%C3%AF.mov", Some("uploads/ünï.mov")),
            ("uploads/%FF.mp4", None),
            ("uploads/100%25.mp4", Some("uploads/100%.mp4")),
        ];
        for (raw, want) in table {
            assert_eq!(decode_key(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn sources() {
        let table = [
            ("uploads/a.mp4", true),
            ("uploads/tok/a b.mp4", true),
            ("uploads/", false),
            ("uploads/dir/", false),
            ("processed/abc/video/1080p/seg_1.m4s", false),
            ("processed/abc/manifest.json", false),
            ("multipart/tok.json", false),
            ("uploadsx/a.mp4", false),
            ("uploads/../processed/x", false),
        ];
        for (key, want) in table {
            assert_eq!(is_source_key(key), want, "{key}");
        }
    }

    #[test]
    fn transcripts() {
        let id = "0123456789abcdef0123456789abcdef";
        let job = format!("slicecast-{id}-1764417600000.transcript");
        let table = [
            (format!("processed/{id}/transcripts/{job}.json"), true),
            (format!("processed/{id}/transcripts/{job}.vtt"), false),
            (format!("processed/{id}/transcripts/other.json"), false),
            (format!("processed/{id}/manifest.json"), false),
            (format!("processed/{id}/transcripts/x/{job}.json"), false),
            (
                format!("processed/{}/transcripts/{job}.json", "f".repeat(32)),
                false,
            ),
            (format!("uploads/{id}/transcripts/{job}.json"), false),
            (
                format!("processed/{id}/transcripts/.write_access_check_file.temp"),
                false,
            ),
        ];
        for (key, want) in table {
            let got = transcript_of(&key);
            assert_eq!(got.is_some(), want, "{key}");
            if let Some((v, j)) = got {
                assert_eq!((v.as_str(), j.as_str()), (id, job.as_str()));
            }
        }
    }

    #[test]
    fn event_records() {
        let record = |name: &str, key: &str| {
            serde_json::json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-29T12:00:00.000Z",
                "eventName": name,
                "userIdentity": {"principalId": "AWS:EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "uploads",
                    "bucket": {"name": "b", "ownerIdentity": {"principalId": "A"}, "arn": "arn:aws:s3:::b"},
                    "object": {"key": key, "size": 5, "eTag": "e", "sequencer": "0A"}
                }
            })
        };
        let event: S3Event = serde_json::from_value(serde_json::json!({
            "Records": [
                record("ObjectCreated:CompleteMultipartUpload", "uploads/t/My+Clip%281%29.mp4"),
                record("ObjectCreated:Put", "uploads/t/My+Clip%281%29.mp4"),
                record("ObjectCreated:Put", "processed/x/manifest.json"),
                record("ObjectRemoved:Delete", "uploads/gone.mp4"),
            ]
        }))
        .expect("event");
        let got = records(&event);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Record::Source("uploads/t/My Clip(1).mp4".into()));
        assert!(
            matches!(&got[1], Record::Ignored { key, .. } if key == "processed/x/manifest.json")
        );
        assert!(
            matches!(&got[2], Record::Ignored { reason, .. } if reason.contains("ObjectCreated"))
        );
    }
}
