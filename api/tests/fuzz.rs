//! Fuzzing of what the API reads from clients (issue #10): the JSON bodies of
//! the upload routes, HTTP `Range`, `/stream/` paths, part numbers, ETags,
//! bearer tokens and signed part URLs. First the parsers as functions, then
//! the same inputs sent to a running server (filesystem store, recording
//! processor): any input gets an answer below 500, never a panic or a
//! dropped connection.
//!
//! Cases: `PROPTEST_CASES` (proptest's own variable), 256 when unset. Failures
//! are not persisted to `proptest-regressions/`.

mod common;

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{Value, json};
use slicecast_api::bodies::{AbortUploadRequest, CompleteUploadRequest, CreateUploadRequest};
use slicecast_api::stream::{RangeRequest, parse_range};
use slicecast_api::validate;
use slicecast_api::{ApiConfig, PartSigner, bearer_matches};
use slicecast_storage::BlobStore;
use std::sync::OnceLock;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const ID: &str = "0123456789abcdef0123456789abcdef";
const MAX_UPLOAD: u64 = 1000;

// ------------------------------------------------------------ generators

/// A JSON value of any type, numbers at their edges included.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![Just(i64::MIN), Just(-1i64), Just(0), Just(1), any::<i64>()]
            .prop_map(Value::from),
        prop_oneof![
            Just(u64::MAX),
            Just(MAX_UPLOAD),
            Just(MAX_UPLOAD + 1),
            any::<u64>()
        ]
        .prop_map(Value::from),
        prop_oneof![Just(1.5f64), Just(1e30), Just(-0.0), any::<f64>()].prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::hash_map("[a-zA-Z]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// File names: ordinary, and built from the characters that matter.
fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._+%'\"()-]{1,20}",
        prop::collection::vec(
            prop::sample::select(vec![
                "a", ".", "..", "/", "\\", "\0", "\n", "\u{7f}", " ", "ü", "🎬", "\u{202e}",
                "\u{200b}", "\u{feff}", "%2F", "+", "mp4",
            ]),
            0..12,
        )
        .prop_map(|p| p.concat()),
        "x{250,260}",
        ".{0,40}",
    ]
}

fn upload_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(ID.to_owned()),
        "[0-9a-fA-F]{31,33}",
        ".{0,40}",
        Just("../../etc/passwd".to_owned()),
    ]
}

fn etag() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{32}".prop_map(|h| format!("\"{h}\"")),
        "[0-9a-fA-F]{32}".prop_map(|h| format!("W/\"{h}\"")),
        "\"{0,3}[0-9a-f]{30,34}\"{0,3}",
        ".{0,40}",
    ]
}

/// The upload routes' bodies: the right fields with random values and
/// types, fields missing or added, and anything at all.
fn body() -> impl Strategy<Value = Value> {
    let value = |s: BoxedStrategy<Value>| prop_oneof![3 => s, 1 => any_json()];
    let part = (
        value(any::<u32>().prop_map(Value::from).boxed()),
        value(etag().prop_map(Value::from).boxed()),
        prop::sample::select(vec!["PartNumber", "partNumber", "part"]),
        prop::sample::select(vec!["ETag", "etag", "Etag", "e_tag"]),
    )
        .prop_map(|(n, e, nk, ek)| json!({ nk: n, ek: e }));
    prop_oneof![
        (
            value(file_name().prop_map(Value::from).boxed()),
            value(
                prop_oneof![1u64..=MAX_UPLOAD, any::<u64>()]
                    .prop_map(Value::from)
                    .boxed()
            ),
        )
            .prop_map(|(n, s)| json!({"fileName": n, "fileSize": s})),
        (
            value(file_name().prop_map(Value::from).boxed()),
            value(upload_id().prop_map(Value::from).boxed()),
            prop_oneof![
                3 => prop::collection::vec(part, 0..5).prop_map(Value::from),
                1 => any_json(),
            ],
        )
            .prop_map(|(n, id, parts)| json!({"fileName": n, "uploadId": id, "parts": parts})),
        value(upload_id().prop_map(Value::from).boxed()).prop_map(|id| json!({"uploadId": id})),
        any_json(),
    ]
}

/// Range headers built from pieces: `bytes=`, digits of any length
/// (`u64::MAX` and past it), `-`, `,`, spaces and other units.
fn range_header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        4 => (0u64..200).prop_map(|n| n.to_string()),
        1 => Just(u64::MAX.to_string()),
        1 => Just("18446744073709551616".to_owned()),
        1 => Just("99999999999999999999999999".to_owned()),
        1 => Just("-0".to_owned()),
        1 => Just(String::new()),
        1 => "[0-9]{0,3}",
    ];
    let spec = (
        number.clone(),
        prop::sample::select(vec!["-", "-", "--", "", " - "]),
        number,
    )
        .prop_map(|(a, d, b)| format!("{a}{d}{b}"));
    (
        prop::sample::select(vec![
            "bytes=", "bytes=", "bytes =", "Bytes=", "items=", "", " bytes= ",
        ]),
        prop::collection::vec(spec, 1..3),
        prop::sample::select(vec![",", ", "]),
    )
        .prop_map(|(unit, specs, sep)| format!("{unit}{}", specs.join(sep)))
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![range_header(), "[ -~]{0,30}"]
}

/// Raw `/stream/` paths: encoded and plain traversal, ids, work files.
fn stream_path() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            prop::sample::select(vec![
                "processed",
                "/",
                ID,
                "work",
                "hls",
                "master.m3u8",
                "seg_1.m4s",
                "..",
                ".",
                "%2e",
                "%2E%2e",
                "%2f",
                "%5c",
                "%00",
                "%FF",
                "%C3%BC",
                "%",
                "\\",
                "uploads",
                "//",
                "x",
            ]),
            0..8,
        )
        .prop_map(|p| p.concat()),
        ".{0,40}",
    ]
}

// ------------------------------------------------------------ parsers

fn check_range(header: Option<&str>, size: u64) -> Result<(), TestCaseError> {
    match parse_range(header, size) {
        RangeRequest::Partial { start, end } => {
            prop_assert!(
                start <= end && end < size,
                "{header:?} on {size}: {start}-{end}"
            );
        }
        RangeRequest::Unsatisfiable => {
            prop_assert!(header.is_some());
        }
        RangeRequest::Full => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any text as a Range header, on objects of any size: a partial range
    /// is always inside the object.
    #[test]
    fn range_headers(
        header in prop_oneof![range_header(), ".{0,30}"],
        size in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0u64..300, any::<u64>()],
    ) {
        check_range(Some(&header), size)?;
        check_range(None, size)?;
    }

    /// A well-formed single range means what RFC 9110 says.
    #[test]
    fn range_semantics(start in 0u64..300, len in 0u64..300, size in 0u64..300, suffix in any::<bool>()) {
        if suffix {
            let got = parse_range(Some(&format!("bytes=-{len}")), size);
            let want = if len == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial { start: size.saturating_sub(len), end: size - 1 }
            };
            prop_assert_eq!(got, want);
        } else {
            let end = start + len;
            let got = parse_range(Some(&format!("bytes={start}-{end}")), size);
            let want = if start >= size {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial { start, end: end.min(size - 1) }
            };
            prop_assert_eq!(got, want);
        }
    }

    /// Request bodies: any bytes or JSON deserialise or are refused, and the
    /// checks applied to the fields never panic; what they accept is safe.
    #[test]
    fn upload_bodies(body in body(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = body.to_string();
        for raw in [text.as_bytes(), &bytes] {
            if let Ok(r) = serde_json::from_slice::<CreateUploadRequest>(raw) {
                check_file_name(&r.file_name)?;
                if let Ok(size) = validate::file_size(&r.file_size, MAX_UPLOAD) {
                    prop_assert!((1..=MAX_UPLOAD).contains(&size));
                }
            }
            if let Ok(r) = serde_json::from_slice::<CompleteUploadRequest>(raw) {
                check_file_name(&r.file_name)?;
                check_upload_id(&r.upload_id)?;
                let parts: Vec<(u32, String)> =
                    r.parts.into_iter().map(|p| (p.part_number, p.etag)).collect();
                if let Ok(ok) = validate::completed_parts(&parts, validate::MAX_PARTS) {
                    prop_assert!(!ok.is_empty());
                    prop_assert!(ok.windows(2).all(|w| w[0].number < w[1].number));
                    prop_assert!(ok.iter().all(|p| p.etag.len() == 32));
                }
            }
            if let Ok(r) = serde_json::from_slice::<AbortUploadRequest>(raw) {
                check_upload_id(&r.upload_id)?;
            }
        }
    }

    /// `/stream/` paths: a key that is accepted lies under `processed/<id>/`,
    /// outside `work/`, with no traversal once decoded.
    #[test]
    fn stream_keys(raw in stream_path()) {
        if let Ok(key) = validate::stream_key(&raw) {
            prop_assert!(key.starts_with("processed/"), "{key:?}");
            prop_assert!(!key.contains(['\\', '\0']), "{key:?}");
            prop_assert!(key.split('/').all(|p| !p.is_empty() && p != "." && p != ".."), "{key:?}");
            let id = key.split('/').nth(1).unwrap_or_default();
            prop_assert!(slicecast_core::VideoId::parse(id).is_ok(), "{key:?}");
            prop_assert!(key.split('/').nth(2) != Some("work"), "{key:?}");
        }
        let _ = validate::content_type(&raw);
        let _ = validate::cache_control(&raw);
    }

    /// Part numbers, ETags, names and times from URLs and bodies.
    #[test]
    fn small_parsers(
        s in ".{0,24}",
        n in prop_oneof![Just(0u32), Just(u32::MAX), 1u32..20_000],
        e in etag(),
        ms in prop_oneof![Just(u64::MAX), Just(0u64), any::<u64>()],
        size in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        preferred in prop_oneof![Just(0u64), Just(1u64), Just(u64::MAX), any::<u64>()],
    ) {
        if let Ok(p) = validate::part_number(&s, n) {
            prop_assert!((1..=n).contains(&p));
        }
        if let Some(t) = validate::normalize_etag(&e) {
            prop_assert!(t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        let _ = validate::base_name(&s);
        prop_assert!(validate::iso8601(ms).ends_with('Z'));
        let plan = validate::plan_parts(size, preferred, validate::MAX_PARTS);
        prop_assert!(plan.parts >= 1 && plan.part_size >= 1);
    }

    /// Bearer tokens and signed part URLs: any header and query values.
    #[test]
    fn credentials(
        auth in prop_oneof![".{0,40}", "(Bearer|bearer|BEARER|Basic) {0,2}[ -~]{0,12}"],
        key in "[ -~]{0,12}",
        expires in prop::option::of(prop_oneof![".{0,24}", Just(u64::MAX.to_string()), "[0-9]{1,22}"]),
        signature in prop::option::of(prop_oneof![".{0,70}", "[0-9a-f]{63,65}"]),
        id in upload_id(),
        part in any::<u32>(),
        now in any::<u64>(),
    ) {
        if bearer_matches(Some(&auth), &key) {
            prop_assert!(auth.contains(key.as_str()));
        }
        let signer = PartSigner::with_key(common::KEY);
        let verdict = signer.verify(&id, part, expires.as_deref(), signature.as_deref(), now);
        // Only a signature made with the key passes.
        if verdict.is_ok() {
            let e: u64 = expires.as_deref().unwrap_or_default().parse().unwrap_or_default();
            let signed = signer.sign(&id, part, e);
            prop_assert!(signature.is_some_and(|s| s.eq_ignore_ascii_case(&signed)));
        }
    }
}

fn check_file_name(name: &str) -> Result<(), TestCaseError> {
    if let Ok(n) = validate::file_name(name) {
        prop_assert!(
            !n.is_empty() && n.len() <= validate::MAX_NAME_BYTES,
            "{n:?}"
        );
        prop_assert!(n != "." && n != "..");
        prop_assert!(
            !n.contains(['/', '\\']) && !n.contains(char::is_control),
            "{n:?}"
        );
        // Format characters (U+202E and the like) would spoof names in the page.
        prop_assert!(!n.contains(validate::is_format_char), "{n:?}");
    }
    Ok(())
}

fn check_upload_id(id: &str) -> Result<(), TestCaseError> {
    if let Ok(i) = validate::upload_id(id) {
        prop_assert!(
            i.len() == 32 && i.bytes().all(|b| b.is_ascii_hexdigit()),
            "{i:?}"
        );
    }
    Ok(())
}

// ------------------------------------------------------------ the server

/// One server for every case of this file (its runtime lives as long).
struct Live {
    rt: tokio::runtime::Runtime,
    server: common::Server,
    /// `/stream/...` of an object of `SIZE` bytes.
    object: String,
}

const SIZE: u64 = 100;

fn live() -> &'static Live {
    static LIVE: OnceLock<Live> = OnceLock::new();
    LIVE.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let server = rt
            .block_on(common::recording_server(ApiConfig {
                part_size: 10,
                max_upload_bytes: MAX_UPLOAD,
                ..ApiConfig::default()
            }))
            .expect("server");
        let key = format!("processed/{ID}/video/720p/seg_1.m4s");
        let data: Vec<u8> = (0..SIZE).map(|i| i as u8).collect();
        rt.block_on(server.store.put(&key, Bytes::from(data)))
            .expect("object");
        Live {
            rt,
            server,
            object: format!("/stream/{key}"),
        }
    })
}

/// The answer's status, which must be below 500; `None` when the client
/// could not even build the request (a URL it refuses).
fn under_500(
    what: &str,
    status: Result<u16, reqwest::Error>,
) -> Result<Option<u16>, TestCaseError> {
    match status {
        Ok(s) => {
            prop_assert!(s < 500, "{what}: HTTP {s}");
            Ok(Some(s))
        }
        Err(e) if e.is_builder() => Ok(None),
        Err(e) => Err(TestCaseError::fail(format!("{what}: no answer: {e}"))),
    }
}

proptest! {
    #![proptest_config(config())]

    /// The upload routes answer any body, JSON or not, below 500; an error
    /// answer is the JSON error document.
    #[test]
    fn server_upload_routes(
        body in body(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        raw in any::<bool>(),
        route in prop::sample::select(vec![
            "/create_multipart_upload",
            "/complete_multipart_upload",
            "/abort_multipart_upload",
        ]),
        content_type in prop::sample::select(vec!["application/json", "text/plain", ""]),
    ) {
        let l = live();
        let payload = if raw { bytes } else { body.to_string().into_bytes() };
        let (status, answer) = l.rt.block_on(async {
            let mut req = l.server.http.post(l.server.url(route)).body(payload);
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            match req.send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    (Ok(s), r.json::<Value>().await.unwrap_or(Value::Null))
                }
                Err(e) => (Err(e), Value::Null),
            }
        });
        let status = under_500(route, status)?.unwrap_or_default();
        if status >= 400 {
            prop_assert!(answer["error"].is_string(), "{route}: HTTP {status}: {answer}");
        }
    }

    /// `/stream/` with any Range header: 200, 206 with a Content-Range inside
    /// the object and exactly its bytes, or 416.
    #[test]
    fn server_ranges(header in header_text()) {
        let l = live();
        let got = l.rt.block_on(async {
            let r = l.server.http.get(l.server.url(&l.object)).header("range", &header).send().await?;
            let status = r.status().as_u16();
            let content_range = r
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, content_range, body))
        });
        let (status, content_range, body) = got.map_err(|e| TestCaseError::fail(format!("{header:?}: {e}")))?;
        match status {
            200 => prop_assert_eq!(body.len() as u64, SIZE),
            206 => {
                let cr = content_range.unwrap_or_default();
                let spec = cr.strip_prefix("bytes ").and_then(|r| r.strip_suffix(&format!("/{SIZE}")));
                let parsed = spec
                    .and_then(|s| s.split_once('-'))
                    .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
                prop_assert!(parsed.is_some(), "{header:?}: Content-Range {cr:?}");
                if let Some((a, b)) = parsed {
                    prop_assert!(a <= b && b < SIZE, "{header:?}: {cr}");
                    let want: Vec<u8> = (a..=b).map(|i| i as u8).collect();
                    prop_assert_eq!(body.as_ref(), want.as_slice(), "{:?}", header);
                }
            }
            416 => {}
            other => prop_assert!(false, "{header:?}: HTTP {other}"),
        }
    }

    /// Any `/stream/` path and any part PUT answer below 500.
    #[test]
    fn server_paths(
        path in stream_path(),
        id in upload_id(),
        part in ".{0,8}",
        query in "[ -~]{0,40}",
        data in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let l = live();
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let stream = format!("/stream/{path}");
        let put = format!("/uploads/parts/{}/{}?{query}", enc(&id), enc(&part));
        let state = format!("/multipart_upload/{}", enc(&id));
        let (a, b, c) = l.rt.block_on(async {
            let http = &l.server.http;
            let a = http.get(l.server.url(&stream)).send().await.map(|r| r.status().as_u16());
            let b = http.put(l.server.url(&put)).body(data).send().await.map(|r| r.status().as_u16());
            let c = http.get(l.server.url(&state)).send().await.map(|r| r.status().as_u16());
            (a, b, c)
        });
        under_500(&stream, a)?;
        under_500(&put, b)?;
        under_500(&state, c)?;
    }
}

/// The server the properties above talk to answers ordinary requests as
/// expected (so they are not vacuous).
#[test]
fn the_live_server_answers() {
    let l = live();
    let (create, range) = l.rt.block_on(async {
        let create = l
            .server
            .post(
                "/create_multipart_upload",
                &json!({"fileName": "a.mp4", "fileSize": 25}),
                None,
            )
            .await
            .expect("create")
            .0;
        let range = l
            .server
            .http
            .get(l.server.url(&l.object))
            .header("range", "bytes=10-19")
            .send()
            .await
            .expect("range");
        let status = range.status().as_u16();
        (create, (status, range.bytes().await.expect("body")))
    });
    assert_eq!(create, 200);
    assert_eq!(range.0, 206);
    assert_eq!(range.1.as_ref(), (10u8..20).collect::<Vec<u8>>().as_slice());
}
