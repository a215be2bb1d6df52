//! Fuzzing of what the Lambda functions read from outside (issue #10): S3
//! event JSON and its URL-encoded keys (anyone who can upload chooses a key),
//! Amazon Transcribe's job names and subtitle URIs, and the error documents
//! of invoke replies. Any input must give an answer, never a panic; keys the
//! coordinator accepts must be decoded, under `uploads/`, and free of NUL and
//! traversal.
//!
//! Cases: `PROPTEST_CASES` (proptest's own variable), 256 when unset. Failures
//! are not persisted to `proptest-regressions/`.

use aws_lambda_events::s3::S3Event;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Value, json};
use slicecast_core::job::{Job, JobResult};
use slicecast_lambda::error_message;
use slicecast_lambda::events::{self, Record, decode_key, is_source_key, transcript_of};
use slicecast_lambda::transcribe::{TranscribeClient, key_from_uri};

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const ID: &str = "0123456789abcdef0123456789abcdef";

/// Pieces of keys as S3 sends them: prefixes, ids, separators, every kind of
/// escape (valid, truncated, non-UTF-8, encoded NUL, slash and dot).
fn key_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "uploads/",
            "uploads",
            "processed/",
            "/",
            "//",
            "..",
            ".",
            "+",
            "%20",
            "%2F",
            "%2f",
            "%2B",
            "%00",
            "%FF",
            "%C3%BC",
            "%C3",
            "%",
            "%2",
            "%G0",
            "%2e%2e",
            "%5C",
            "\\",
            "a.mp4",
            "transcripts/",
            ".transcript.json",
            "slicecast-",
            "-1764417600000",
            "work/",
            "\u{0}",
            "ü",
            "\u{202e}",
            "%E2%80%AE",
            "~",
            "?",
            "#",
        ])
        .prop_map(str::to_owned),
        Just(ID.to_owned()),
        "[a-zA-Z0-9 ._-]{1,8}",
        ".{1,4}",
    ]
}

fn raw_key() -> impl Strategy<Value = String> {
    prop_oneof![
        // An upload as S3 names it, its name with any characters.
        2 => ("[a-zA-Z0-9 ._+%()-]{1,12}", ".{1,8}", any::<bool>()).prop_map(|(name, odd, both)| {
            let name = if both { format!("{name}{odd}") } else { name };
            s3_encode(&format!("uploads/{ID}/{name}"))
        }),
        3 => prop::collection::vec(key_piece(), 0..8).prop_map(|p| p.concat()),
        1 => ".{0,40}",
        // A transcript key of this or another video, maybe mangled.
        1 => (prop::sample::select(vec![ID, "ffffffffffffffffffffffffffffffff", "xyz"]), key_piece())
            .prop_map(|(job_id, tail)| format!(
                "processed/{ID}/transcripts/slicecast-{job_id}-1764417600000.transcript{tail}.json"
            )),
    ]
}

/// S3's encoding of a key: unreserved bytes and `/` as they are, space as
/// `+`, everything else `%XX`.
fn s3_encode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A JSON value of any type, for fields the event may carry with the wrong one.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::hash_map("[a-zA-Z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        9 => prop::sample::select(vec![
            "ObjectCreated:Put",
            "ObjectCreated:CompleteMultipartUpload",
            "ObjectCreated:Copy",
            "ObjectRemoved:Delete",
            "ObjectCreated",
            "",
        ])
        .prop_map(Value::from),
        1 => any_json(),
    ]
}

/// One record: a real-looking one, its key and name random, and with some
/// luck another field replaced by a value of any type or removed.
fn record() -> impl Strategy<Value = Value> {
    (
        raw_key(),
        event_name(),
        prop_oneof![9 => Just(json!(5)), 1 => any_json()],
        prop::option::weighted(0.1, (
            prop::sample::select(vec![
                "eventTime", "eventVersion", "s3", "userIdentity", "responseElements", "awsRegion",
            ]),
            prop::option::of(any_json()),
        )),
    )
        .prop_map(|(key, name, size, damage)| {
            let mut r = json!({
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
                    "object": {"key": key, "size": size, "eTag": "e", "sequencer": "0A"}
                }
            });
            if let (Some((field, value)), Some(obj)) = (damage, r.as_object_mut()) {
                match value {
                    Some(v) => obj.insert(field.to_owned(), v),
                    None => obj.remove(field),
                };
            }
            r
        })
}

fn event_json() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(record(), 0..5)
            .prop_map(|rs| json!({ "Records": rs }).to_string()),
        1 => any_json().prop_map(|v| json!({ "Records": v }).to_string()),
        1 => ".{0,64}",
    ]
}

fn check_records(event: &S3Event) -> Result<(), TestCaseError> {
    let out = events::records(event);
    prop_assert!(out.len() <= event.records.len());
    for (i, r) in out.iter().enumerate() {
        prop_assert!(!out[..i].contains(r), "duplicate {:?}", r);
        match r {
            Record::Source(key) => {
                prop_assert!(
                    key.starts_with(events::UPLOADS_PREFIX) && key.len() > 8,
                    "{key:?}"
                );
                prop_assert!(!key.contains('\0') && !key.contains('\\'), "{key:?}");
                prop_assert!(!key.ends_with('/'), "{key:?}");
                prop_assert!(
                    key.split('/')
                        .all(|p| !p.is_empty() && p != "." && p != ".."),
                    "{key:?}"
                );
                prop_assert!(is_source_key(key));
                // It is the decoded form of a key the event named.
                prop_assert!(
                    event.records.iter().any(|rec| {
                        rec.s3.object.key.as_deref().and_then(decode_key).as_deref()
                            == Some(key.as_str())
                    }),
                    "{key:?} is no record's decoded key"
                );
            }
            Record::Transcript { video_id, job } => {
                prop_assert_eq!(TranscribeClient::video_of_job(job), Some(video_id.clone()));
            }
            Record::Ignored { .. } => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any event document: parsed or refused by serde, and sorted without panic.
    #[test]
    fn s3_events_never_panic(json in event_json()) {
        if let Ok(event) = serde_json::from_str::<S3Event>(&json) {
            check_records(&event)?;
        }
    }

    /// Any bytes as the event body.
    #[test]
    fn s3_event_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(event) = serde_json::from_slice::<S3Event>(&data) {
            check_records(&event)?;
        }
    }

    /// Decoding any raw key never panics; what it returns has no `+` left
    /// from a space and re-encodes to a key that decodes the same.
    #[test]
    fn decode_key_never_panics(raw in raw_key()) {
        if let Some(key) = decode_key(&raw) {
            prop_assert_eq!(decode_key(&s3_encode(&key)), Some(key.clone()));
        }
        let _ = is_source_key(&raw);
        let _ = transcript_of(&raw);
    }

    /// S3's encoding of any key decodes back to that key.
    #[test]
    fn decode_key_inverts_s3_encoding(key in prop_oneof![".{0,40}", "uploads/[ -~]{0,20}"]) {
        prop_assert_eq!(decode_key(&s3_encode(&key)), Some(key));
    }

    /// A transcript key names a video whose id is in the key, and a job of that video.
    #[test]
    fn transcript_keys(raw in raw_key()) {
        let Some(key) = decode_key(&raw) else { return Ok(()) };
        if let Some((id, job)) = transcript_of(&key) {
            prop_assert!(key.starts_with(&format!("processed/{id}/transcripts/")), "{key:?}");
            prop_assert!(job.ends_with(".transcript"), "{job:?}");
            prop_assert_eq!(TranscribeClient::video_of_job(&job), Some(id));
        }
    }

    /// Job names of any text.
    #[test]
    fn job_names(job in prop_oneof![".{0,64}", "slicecast-[0-9a-fA-F]{30,34}-[0-9]{0,20}\\.transcript"]) {
        if let Some(id) = TranscribeClient::video_of_job(&job) {
            prop_assert!(job.contains(id.as_str()) || job.to_ascii_lowercase().contains(id.as_str()));
        }
    }

    /// Transcribe's subtitle URIs: any text, any bucket; a key found is non-empty.
    #[test]
    fn subtitle_uris(
        uri in prop_oneof![
            ".{0,64}",
            (
                prop::sample::select(vec!["https://", "http://", "s3://", "S3://", "ftp://", "", "://"]),
                prop::sample::select(vec![
                    "b.s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com/b", "b",
                    "user@b:443", "127.0.0.1:9000/b", "b.", ":", "@",
                ]),
                "(/[a-zA-Z0-9%._-]{0,8}){0,4}",
                prop::sample::select(vec!["", "?X-Amz-Signature=x", "#f", "?", "%FF"]),
            )
                .prop_map(|(s, h, p, q)| format!("{s}{h}{p}{q}")),
        ],
        bucket in prop_oneof![Just("b".to_owned()), ".{0,8}"],
    ) {
        if let Some(key) = key_from_uri(&uri, &bucket) {
            prop_assert!(!key.is_empty());
        }
    }

    /// The error document of an invoke reply, and the jobs and results that
    /// travel as invoke payloads: any bytes parse or are refused.
    #[test]
    fn invoke_payloads_never_panic(
        data in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..128),
            any_json().prop_map(|v| v.to_string().into_bytes()),
            any_json().prop_map(|v| json!({"errorType": "x", "errorMessage": v}).to_string().into_bytes()),
            any_json().prop_map(|v| json!({"kind": "slice", "video_id": ID, "index": v}).to_string().into_bytes()),
        ],
    ) {
        let _ = error_message(&data);
        let _ = serde_json::from_slice::<Job>(&data);
        let _ = serde_json::from_slice::<JobResult>(&data);
    }
}

/// The generators' template is a real event: it parses, and an ordinary key
/// comes out as a source (so the properties above are not vacuous).
#[test]
fn the_record_template_parses() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut sources = 0;
    for _ in 0..200 {
        let json = event_json().new_tree(&mut runner).expect("value").current();
        if let Ok(event) = serde_json::from_str::<S3Event>(&json) {
            sources += events::records(&event)
                .iter()
                .filter(|r| matches!(r, Record::Source(_)))
                .count();
        }
    }
    assert!(sources > 0, "no generated event had a source key");
}
