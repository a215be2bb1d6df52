//! Parsing and validation of what clients send, as plain functions.

use crate::error::ApiError;
use percent_encoding::percent_decode_str;
use slicecast_core::VideoId;

mod name;
pub use name::{FORMAT_CHARS, MAX_NAME_BYTES, file_name, is_format_char};

/// S3's limit on the number of parts of one upload.
pub const MAX_PARTS: u32 = 10_000;

/// Checks an upload id: 32 hex digits (normalised to lowercase).
pub fn upload_id(id: &str) -> Result<String, ApiError> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(ApiError::Invalid(format!(
            "uploadId must be the 32 hex digits create_multipart_upload returned, not {:?}",
            truncate(id, 64)
        )))
    }
}

/// Checks a declared file size: an integer from 1 to `max` bytes.
pub fn file_size(v: &serde_json::Value, max: u64) -> Result<u64, ApiError> {
    let n = match v {
        serde_json::Value::Number(n) => n,
        other => {
            return Err(ApiError::Invalid(format!(
                "fileSize must be a number of bytes, not {other}"
            )));
        }
    };
    let Some(size) = n.as_u64() else {
        return Err(ApiError::Invalid(format!(
            "fileSize must be a whole, non-negative number of bytes, not {n}"
        )));
    };
    if size == 0 {
        return Err(ApiError::Invalid(
            "fileSize is 0: the file is empty, there is nothing to transcode".into(),
        ));
    }
    if size > max {
        return Err(ApiError::Invalid(format!(
            "fileSize {size} is larger than this server accepts ({max} bytes)"
        )));
    }
    Ok(size)
}

/// How a file is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    /// Bytes per part (the last one may be shorter).
    pub part_size: u64,
    /// Number of parts.
    pub parts: u32,
}

impl PartPlan {
    /// Size of part `n` (1-based) of a file of `file_size` bytes.
    pub fn size_of(&self, n: u32, file_size: u64) -> u64 {
        let start = u64::from(n.saturating_sub(1)) * self.part_size;
        file_size.saturating_sub(start).min(self.part_size)
    }
}

/// Cuts `file_size` bytes into parts of `preferred` bytes, growing the part
/// size (to whole MiB) when that would take more than `max_parts` parts.
pub fn plan_parts(file_size: u64, preferred: u64, max_parts: u32) -> PartPlan {
    const MIB: u64 = 1024 * 1024;
    let max_parts = u64::from(max_parts.max(1));
    let mut part_size = preferred.max(1);
    if file_size.div_ceil(part_size) > max_parts {
        part_size = file_size.div_ceil(max_parts).div_ceil(MIB) * MIB;
    }
    let parts = file_size.div_ceil(part_size).max(1);
    PartPlan {
        part_size,
        parts: u32::try_from(parts).unwrap_or(u32::MAX),
    }
}

/// Parses a part number from a URL: 1 ..= `max`.
pub fn part_number(s: &str, max: u32) -> Result<u32, ApiError> {
    match s.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::Invalid(format!(
            "part number must be from 1 to {max}, not {:?}",
            truncate(s, 32)
        ))),
    }
}

/// Normalises an ETag as S3 clients send it back (`"abc.."`, `W/"abc.."` or
/// bare) to 32 lowercase hex digits.
pub fn normalize_etag(etag: &str) -> Option<String> {
    let t = etag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let t = t.trim_matches('"');
    (t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase())
}

/// The quoted ETag header value of an MD5 hex digest.
pub fn etag_header(md5_hex: &str) -> String {
    format!("\"{md5_hex}\"")
}

/// One part as listed at completion: number and normalised ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRef {
    /// 1-based part number.
    pub number: u32,
    /// 32 lowercase hex digits.
    pub etag: String,
}

/// Checks the part list of a completion: non-empty, numbers strictly
/// ascending within 1 ..= `max_parts`, every ETag an MD5.
pub fn completed_parts(parts: &[(u32, String)], max_parts: u32) -> Result<Vec<PartRef>, ApiError> {
    if parts.is_empty() {
        return Err(ApiError::Invalid(
            "parts must list at least one part".into(),
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut prev = 0;
    for (number, etag) in parts {
        if *number == 0 || *number > max_parts {
            return Err(ApiError::Invalid(format!(
                "PartNumber {number} is outside 1..={max_parts}"
            )));
        }
        if *number <= prev {
            return Err(ApiError::Invalid(format!(
                "parts must be in ascending PartNumber order without repeats (part {number} after {prev})"
            )));
        }
        prev = *number;
        let Some(etag) = normalize_etag(etag) else {
            return Err(ApiError::Invalid(format!(
                "part {number}: ETag {:?} is not one this server handed out",
                truncate(etag, 64)
            )));
        };
        out.push(PartRef {
            number: *number,
            etag,
        });
    }
    Ok(out)
}

/// Turns the raw (still percent-encoded) path after `/stream/` into an object
/// key under `processed/<id>/`. Encoded `.`, `/`, `\` and NUL are refused
/// outright (400) so no decoding step can smuggle in a traversal; so are `..`,
/// empty or `.` segments, absolute paths and backslashes. Keys outside
/// `processed/<id>/`, or inside its private `work/` folder, are 404.
pub fn stream_key(raw: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::Invalid("invalid stream path".into());
    let lower = raw.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return Err(invalid());
    }
    let key = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid())?
        .into_owned();
    if key.is_empty()
        || key.starts_with('/')
        || key.contains(['\\', '\0'])
        || key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(invalid());
    }
    let not_found = || ApiError::NotFound("no such stream object".into());
    let mut parts = key.splitn(3, '/');
    let (Some("processed"), Some(id), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(not_found());
    };
    if VideoId::parse(id).is_err() || rest == "work" || rest.starts_with("work/") {
        return Err(not_found());
    }
    Ok(key)
}

pub use slicecast_core::keys::{cache_control, content_type};

/// The name without its extension (`my clip.v2.mp4` → `my clip.v2`).
pub fn base_name(file_name: &str) -> &str {
    match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    }
}

/// Unix milliseconds as ISO 8601 UTC with seconds (`2024-05-06T07:08:09Z`).
pub fn iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upload_ids() {
        assert_eq!(
            upload_id("0123456789ABCDEF0123456789abcdef").expect("ok"),
            "0123456789abcdef0123456789abcdef"
        );
        for bad in [
            "",
            "xyz",
            "../../etc/passwd",
            &"0".repeat(33),
            &"g".repeat(32),
        ] {
            assert!(upload_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_sizes() {
        let max = 1000;
        assert_eq!(file_size(&json!(1), max).expect("1"), 1);
        assert_eq!(file_size(&json!(1000), max).expect("max"), 1000);
        for bad in [
            json!(0),
            json!(-5),
            json!(1.5),
            json!(1001),
            json!("12"),
            json!(null),
            json!(1e30),
        ] {
            let e = file_size(&bad, max).expect_err("bad");
            assert!(matches!(e, ApiError::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn part_plans() {
        let mib = 1024 * 1024;
        assert_eq!(
            plan_parts(20 * mib, 8 * mib, MAX_PARTS),
            PartPlan {
                part_size: 8 * mib,
                parts: 3
            }
        );
        assert_eq!(plan_parts(1, 8 * mib, MAX_PARTS).parts, 1);
        assert_eq!(plan_parts(8 * mib, 8 * mib, MAX_PARTS).parts, 1);
        // 200 GiB would take 25 600 parts of 8 MiB: the part size grows.
        let big = plan_parts(200 * 1024 * mib, 8 * mib, MAX_PARTS);
        assert!(big.parts <= MAX_PARTS);
        assert_eq!(big.part_size % mib, 0);
        assert!(u64::from(big.parts) * big.part_size >= 200 * 1024 * mib);
        let p = plan_parts(10, 4, 100);
        assert_eq!(p.parts, 3);
        assert_eq!(
            (p.size_of(1, 10), p.size_of(2, 10), p.size_of(3, 10)),
            (4, 4, 2)
        );
        assert_eq!(p.size_of(4, 10), 0);
    }

    #[test]
    fn part_numbers() {
        assert_eq!(part_number("1", 3).expect("1"), 1);
        assert_eq!(part_number("3", 3).expect("3"), 3);
        for bad in ["0", "4", "-1", "x", "", "1.0", "99999999999"] {
            assert!(part_number(bad, 3).is_err(), "{bad}");
        }
    }

    #[test]
    fn etags() {
        let h = "0123456789abcdef0123456789abcdef";
        assert_eq!(normalize_etag(&format!("\"{h}\"")).as_deref(), Some(h));
        assert_eq!(normalize_etag(&format!("W/\"{h}\"")).as_deref(), Some(h));
        assert_eq!(normalize_etag(&h.to_uppercase()).as_deref(), Some(h));
        assert_eq!(normalize_etag("\"abc\""), None);
        assert_eq!(etag_header(h), format!("\"{h}\""));
    }

    #[test]
    fn completion_part_lists() {
        let h = "0123456789abcdef0123456789abcdef".to_owned();
        let ok = completed_parts(&[(1, h.clone()), (2, format!("\"{h}\""))], 10).expect("ok");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].etag, h);
        assert!(completed_parts(&[], 10).is_err());
        assert!(completed_parts(&[(2, h.clone()), (1, h.clone())], 10).is_err());
        assert!(completed_parts(&[(1, h.clone()), (1, h.clone())], 10).is_err());
        assert!(completed_parts(&[(0, h.clone())], 10).is_err());
        assert!(completed_parts(&[(11, h.clone())], 10).is_err());
        assert!(completed_parts(&[(1, "nope".into())], 10).is_err());
    }

    #[test]
    fn stream_keys() {
        let id = "0123456789abcdef0123456789abcdef";
        for ok in [
            format!("processed/{id}/hls/master.m3u8"),
            format!("processed/{id}/video/720p/seg_3.m4s"),
            format!("processed/{id}/manifest.json"),
        ] {
            assert_eq!(stream_key(&ok).expect(&ok), ok);
        }
        assert_eq!(
            stream_key(&format!("processed/{id}/a%20b.vtt")).expect("decoded"),
            format!("processed/{id}/a b.vtt")
        );
        let invalid = [
            "../Cargo.toml".to_owned(),
            "processed/../../etc/passwd".to_owned(),
            format!("processed/{id}/..%2f..%2fetc/passwd"),
            "processed/..%2F..%2Fetc/passwd".to_owned(),
            "%2e%2e/Cargo.toml".to_owned(),
            "processed/%2E%2E/x".to_owned(),
            "/etc/passwd".to_owned(),
            "%2fetc/passwd".to_owned(),
            format!("processed/{id}\\..\\x"),
            format!("processed/{id}/%5c..%5cx"),
            format!("processed/{id}/a%00.m4s"),
            format!("processed/{id}//hls"),
            format!("processed/{id}/./hls"),
            format!("processed/{id}/%ff"),
            String::new(),
        ];
        for bad in invalid {
            assert!(
                matches!(stream_key(&bad), Err(ApiError::Invalid(_))),
                "{bad:?}"
            );
        }
        for missing in [
            "uploads/a.mp4".to_owned(),
            "Cargo.toml".to_owned(),
            "processed/notanid/hls/master.m3u8".to_owned(),
            format!("processed/{id}"),
            format!("processed/{id}/work/heartbeat"),
            format!("names/{id}.json"),
        ] {
            assert!(
                matches!(stream_key(&missing), Err(ApiError::NotFound(_))),
                "{missing:?}"
            );
        }
    }

    #[test]
    fn content_types_and_caching() {
        let cases = [
            ("a/master.m3u8", "application/vnd.apple.mpegurl", "no-cache"),
            ("a/stream.mpd", "application/dash+xml", "no-cache"),
            (
                "a/seg_1.m4s",
                "video/iso.segment",
                "public, max-age=31536000, immutable",
            ),
            (
                "a/init.mp4",
                "video/mp4",
                "public, max-age=31536000, immutable",
            ),
            (
                "a/thumbnails.vtt",
                "text/vtt; charset=utf-8",
                "public, max-age=60",
            ),
            (
                "a/sprite_0.JPG",
                "image/jpeg",
                "public, max-age=31536000, immutable",
            ),
            ("a/manifest.json", "application/json", "no-cache"),
            ("a/noext", "application/octet-stream", "no-cache"),
        ];
        for (key, ct, cc) in cases {
            assert_eq!(content_type(key), ct, "{key}");
            assert_eq!(cache_control(key), cc, "{key}");
        }
    }

    #[test]
    fn base_names() {
        assert_eq!(base_name("clip.mp4"), "clip");
        assert_eq!(base_name("my clip.v2.mp4"), "my clip.v2");
        assert_eq!(base_name("noext"), "noext");
        assert_eq!(base_name(".hidden"), ".hidden");
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(4_107_542_399_000), "2100-02-28T23:59:59Z");
    }
}
