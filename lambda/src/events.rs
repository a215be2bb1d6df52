//! Which objects of an S3 event the coordinator processes.
//!
//! Keys in S3 event notifications are URL-encoded (`+` is a space, `%2F` a
//! slash). Only objects under `uploads/` are sources; everything slicecast
//! writes itself lives under `processed/` (or the api's own prefixes), so
//! whatever prefixes a trigger is given, the coordinator never processes its
//! own output.

use aws_lambda_events::s3::S3Event;
use percent_encoding::percent_decode_str;

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

/// What to do with one record of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Process this upload (decoded key).
    Source(String),
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
