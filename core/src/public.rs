//! Text that people can read: the one sanitiser every public error goes through.
//!
//! A failure reason ends up in `manifest.error`, `/status`, `/api/*` and the
//! page, which anyone with the link can read. Tool output (ffmpeg's stderr,
//! storage errors) can carry local paths, presigned URLs with credentials in
//! their query strings, host names and ports. [`public_text`] keeps the words
//! and drops those: it is applied where a reason is recorded
//! ([`Manifest::failed`](crate::manifest::Manifest::failed) and the
//! transcription error) and where the API answers an error, so no caller can
//! forget it. [`redact_queries`] is the milder form for logs: paths stay (they
//! help whoever operates the service), presigned query strings do not.

/// What replaces a URL.
pub const URL: &str = "<url>";
/// What replaces a file path or object key.
pub const PATH: &str = "<path>";
/// What replaces a host name, address or `host:port`.
pub const HOST: &str = "<host>";
/// What replaces a token that looks like a credential.
pub const SECRET: &str = "<redacted>";

/// Longest public text kept, in characters (a tool's stderr can be long).
pub const MAX_CHARS: usize = 600;

/// Returns `raw` fit for people to read: URLs, paths, hosts, addresses and
/// credential-like tokens replaced by placeholders, ffmpeg's `@ 0x…` context
/// addresses and control characters removed, at most [`MAX_CHARS`] characters.
pub fn public_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_CHARS));
    for (i, word) in raw.split_whitespace().enumerate() {
        if word.starts_with("0x") && out.ends_with(" @") {
            // "[h264 @ 0x55d0…]" → "[h264]": drop the address and the "@".
            out.truncate(out.len() - 2);
            out.push_str(word.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c == 'x'));
            continue;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&public_word(word));
    }
    let mut s: String = out.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() > MAX_CHARS {
        s = s.chars().take(MAX_CHARS - 1).collect();
        s.push('…');
    }
    s
}

/// Removes the query string (`?…`) of every URL in `raw` (presigned URLs
/// carry their credentials there); everything else is kept. For logs.
pub fn redact_queries(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("://") {
        let end_of_url = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '<' | '>'))
            .map_or(rest.len(), |e| at + e);
        let url = &rest[..end_of_url];
        match url[at..].find('?').map(|q| at + q) {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?…");
            }
            _ => out.push_str(url),
        }
        rest = &rest[end_of_url..];
    }
    out.push_str(rest);
    out
}

/// Punctuation that may open a token without being part of it.
fn is_opener(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '<' | '\'' | '"' | '`')
}

/// Punctuation that may close a token without being part of it.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '>' | '\'' | '"' | '`' | ',' | ';' | ':' | '.' | '!' | '?'
    )
}

fn public_word(word: &str) -> String {
    let after_lead = word.trim_start_matches(is_opener);
    let core = after_lead.trim_end_matches(is_closer);
    if core.is_empty() {
        return word.to_owned();
    }
    let start = word.len() - after_lead.len();
    let (lead, trail) = (&word[..start], &word[start + core.len()..]);
    match classify(core) {
        None => word.to_owned(),
        Some(placeholder) => format!("{lead}{placeholder}{trail}"),
    }
}

/// The placeholder for a token that must not be shown, or `None` to keep it.
fn classify(token: &str) -> Option<&'static str> {
    let lower = token.to_ascii_lowercase();
    if token.contains("://") || lower.starts_with("file:") || lower.starts_with("data:") {
        return Some(URL);
    }
    if lower.contains("x-amz-") || lower.contains("signature=") || looks_like_secret(token) {
        return Some(SECRET);
    }
    if is_path(token) {
        return Some(PATH);
    }
    if is_host(&lower) {
        return Some(HOST);
    }
    None
}

/// A token with a path separator, other than a ratio (`16/9`) or a unit (`kb/s`).
fn is_path(token: &str) -> bool {
    if token.contains('\\') || token.starts_with('~') {
        return true;
    }
    if !token.contains('/') {
        return false;
    }
    let ratio = token
        .split_once('/')
        .is_some_and(|(a, b)| is_number(a) && is_number(b));
    let unit = matches!(
        token,
        "b/s" | "kb/s" | "Kb/s" | "mb/s" | "Mb/s" | "Gb/s" | "kbit/s" | "Mbit/s" | "bits/s"
    );
    !(ratio || unit)
}

fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// An IPv4/IPv6 address, `host:port`, `localhost`, or a dotted name that ends
/// in a top-level domain (file names like `clip.mp4` are kept).
fn is_host(lower: &str) -> bool {
    let (host, port) = match lower.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => (h, true),
        _ => (lower, false),
    };
    let host = host.trim_matches(|c| c == '[' || c == ']');
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let ipv4 = labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_digit()));
    let ipv6 = host.matches(':').count() >= 2
        && host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    if ipv4 || ipv6 {
        return true;
    }
    let dns_like = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !dns_like {
        return false;
    }
    let tld = labels.last().copied().unwrap_or_default();
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "dev", "aws", "local", "internal", "lan", "cloud", "app", "edu",
        "gov", "info", "biz", "co", "uk", "de", "fr", "cn", "ru", "jp", "us", "eu",
    ];
    TLDS.contains(&tld) || (port && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// A long run of key-like characters mixing letters and digits (access keys,
/// session tokens, signatures); 32-hex video ids are shorter and are kept.
fn looks_like_secret(token: &str) -> bool {
    let key_id = token.len() == 20
        && (token.starts_with("AKIA") || token.starts_with("ASIA"))
        && token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let long = token.len() >= 40
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '%'))
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().any(|c| c.is_ascii_alphabetic());
    key_id || long
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_text_drops_what_people_must_not_see() {
        let cases = [
            (
                "encoding slice 0 failed after 3 attempts: `ffmpeg` failed (exit status: 1): http://127.0.0.1:8014/bucket/uploads/a.mp4?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIAEXAMPLE%2F2026: Server returned 403 Forbidden",
                "encoding slice 0 failed after 3 attempts: `ffmpeg` failed (exit status: 1): <url>: Server returned 403 Forbidden",
            ),
            (
                "/tmp/slicecast-x1/work/rung_0.mp4: No such file or directory",
                "<path>: No such file or directory",
            ),
            (
                "[h264 @ 0x55ae4d9b5280] Invalid NAL unit size (1234 > 56).",
                "[h264] Invalid NAL unit size (1234 > 56).",
            ),
            (
                "Connection to 10.0.0.7:9000 failed; bucket.s3.us-east-1.amazonaws.com refused",
                "Connection to <host> failed; <host> refused",
            ),
            (
                "token FwoGZXIvYXdzEJr//////////wEaDOtR3mP7aBcD9kLqSiKGAe0XYZ end",
                "token <redacted> end",
            ),
            ("key AKIAIOSFODNN7EXAMPLE leaked", "key <redacted> leaked"),
            (
                "reading 'file:/etc/passwd' and ../../secret.mp4",
                "reading '<url>' and <path>",
            ),
            ("localhost:8080 said no", "<host> said no"),
        ];
        for (raw, want) in cases {
            assert_eq!(public_text(raw), want, "{raw}");
        }
    }

    #[test]
    fn public_text_keeps_ordinary_sentences() {
        let keep = [
            "the file is truncated: its video data stops at 26.4 s of 52.2 s (was the upload interrupted?)",
            "the picture is 16384×16 at 16/9; 128 kb/s audio",
            "clip.mp4 has no video stream",
            "video 0123456789abcdef0123456789abcdef failed",
            "processing took longer than the 900 s deadline and was stopped",
        ];
        for s in keep {
            assert_eq!(public_text(s), s);
        }
    }

    #[test]
    fn public_text_is_bounded_and_has_no_control_characters() {
        let long = "word ".repeat(1000);
        let p = public_text(&long);
        assert_eq!(p.chars().count(), MAX_CHARS);
        assert!(p.ends_with('…'));
        assert_eq!(public_text("a\u{7}b\tc\nd"), "ab c d");
    }

    #[test]
    fn logs_keep_paths_but_not_query_strings() {
        assert_eq!(
            redact_queries(
                "GET 'https://b.s3.amazonaws.com/uploads/x.mp4?X-Amz-Signature=abc' failed: /tmp/a b"
            ),
            "GET 'https://b.s3.amazonaws.com/uploads/x.mp4?…' failed: /tmp/a b"
        );
        assert_eq!(redact_queries("no url here?"), "no url here?");
        assert_eq!(redact_queries("http://h/p"), "http://h/p");
    }
}
