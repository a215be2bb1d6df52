//! Tests of the Transcribe client's pure parts: job names, output keys, language settings, media formats.

use super::*;

fn id() -> VideoId {
    VideoId::parse("0123456789abcdef0123456789abcdef").expect("valid id")
}

#[test]
fn job_names_are_valid_unique_and_round_trip() {
    let id = id();
    let a = TranscribeClient::job_name(&id, 1_796_000_000_000);
    let b = TranscribeClient::job_name(&id, 1_796_000_000_001);
    assert_eq!(
        a,
        "slicecast-0123456789abcdef0123456789abcdef-1796000000000.transcript"
    );
    assert_ne!(a, b);
    let longest = TranscribeClient::job_name(&id, u64::MAX);
    for name in [&a, &b, &longest] {
        assert!(name.len() <= MAX_JOB_NAME_LEN, "{name}");
        assert!(
            name.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)),
            "{name}"
        );
        assert_eq!(TranscribeClient::video_of_job(name), Some(id.clone()));
    }
    assert!(format!("{a}.json").ends_with(".transcript.json"));
}

#[test]
fn foreign_job_names_are_not_ours() {
    let table = [
        "",
        "slicecast-",
        "my-own-job",
        "slicecast-0123456789abcdef0123456789abcdef-1796000000000",
        "slicecast-0123456789abcdef0123456789abcdef.transcript",
        "slicecast-0123456789abcdef0123456789abcdef-.transcript",
        "slicecast-0123456789abcdef0123456789abcdef-17x6.transcript",
        "slicecast-0123456789abcdef0123456789abcde-1796000000000.transcript",
        "slicecast-0123456789abcdef0123456789abcdeg-1796000000000.transcript",
        "slicecast-0123456789abcdef0123456789abcdef-1-2.transcript",
        "other-0123456789abcdef0123456789abcdef-1796000000000.transcript",
        "slicecast-0123456789abcdef0123456789abcdef-1796000000000.transcript.json",
    ];
    for name in table {
        assert_eq!(TranscribeClient::video_of_job(name), None, "{name:?}");
    }
}

#[test]
fn output_prefix_is_under_the_video() {
    assert_eq!(
        TranscribeClient::output_prefix(&id()),
        "processed/0123456789abcdef0123456789abcdef/transcripts/"
    );
}

#[test]
fn language_settings() {
    let fixed = |s: &str| LanguageChoice::Fixed(s.to_owned());
    let identify =
        |v: &[&str]| LanguageChoice::Identify(v.iter().map(|s| (*s).to_owned()).collect());
    let table = [
        ((Some("en-GB"), Some("de-DE,fr-FR")), fixed("en-GB")),
        ((Some(" en-GB "), None), fixed("en-GB")),
        (
            (Some(""), Some("en-US, es-US")),
            identify(&["en-US", "es-US"]),
        ),
        (
            (None, Some(" en-US ,,es-US,")),
            identify(&["en-US", "es-US"]),
        ),
        ((None, Some(" , ")), identify(&["en-US"])),
        ((None, None), identify(&["en-US"])),
    ];
    for ((code, options), want) in table {
        assert_eq!(
            LanguageChoice::from_settings(code, options),
            want,
            "{code:?} {options:?}"
        );
    }
}

#[test]
fn media_formats() {
    let table = [
        ("processed/x/work/speech.flac", Some(MediaFormat::Flac)),
        ("processed/x/work/speech.WAV", Some(MediaFormat::Wav)),
        ("processed/x/work/speech.mp3", None),
        ("processed/x/work/speech", None),
    ];
    for (key, want) in table {
        assert_eq!(media_format(key), want, "{key}");
    }
}

#[test]
fn keys_from_subtitle_uris() {
    let k = "processed/0123456789abcdef0123456789abcdef/transcripts/slicecast-0123456789abcdef0123456789abcdef-1796000000000.transcript.vtt";
    let b = "videos";
    let table: Vec<(String, &str, Option<&str>)> = vec![
        // Path-style, as real Transcribe and moto 5.2.5 answer.
        (
            format!("https://s3.us-east-1.amazonaws.com/{b}/{k}"),
            b,
            Some(k),
        ),
        (
            format!("https://s3.eu-west-1.amazonaws.com/{b}/{k}"),
            b,
            Some(k),
        ),
        (
            format!("https://s3-us-west-2.amazonaws.com/{b}/{k}"),
            b,
            Some(k),
        ),
        (format!("https://s3.amazonaws.com/{b}/{k}"), b, Some(k)),
        (
            format!("https://s3.dualstack.us-east-1.amazonaws.com/{b}/{k}"),
            b,
            Some(k),
        ),
        (
            format!("https://s3.cn-north-1.amazonaws.com.cn/{b}/{k}"),
            b,
            Some(k),
        ),
        // Virtual-hosted.
        (
            format!("https://{b}.s3.us-east-1.amazonaws.com/{k}"),
            b,
            Some(k),
        ),
        (format!("https://{b}.s3.amazonaws.com/{k}"), b, Some(k)),
        (
            format!("https://{b}.s3-us-west-2.amazonaws.com/{k}"),
            b,
            Some(k),
        ),
        (
            "https://my.dotted.bucket.s3.us-east-1.amazonaws.com/a/b.srt".to_owned(),
            "my.dotted.bucket",
            Some("a/b.srt"),
        ),
        // A key that begins with the bucket's name, virtual-hosted.
        (
            format!("https://{b}.s3.us-east-1.amazonaws.com/{b}/x.vtt"),
            b,
            Some("videos/x.vtt"),
        ),
        // A bucket named like the endpoint's first label, path-style.
        (
            "https://s3.us-east-1.amazonaws.com/s3/x.vtt".to_owned(),
            "s3",
            Some("x.vtt"),
        ),
        // s3:// and custom endpoints (MinIO, LocalStack, s3s-fs).
        (format!("s3://{b}/{k}"), b, Some(k)),
        (format!("http://127.0.0.1:9000/{b}/{k}"), b, Some(k)),
        (format!("http://{b}.localhost:4566/{k}"), b, Some(k)),
        // Percent-encoding, query strings, case of the host.
        (
            format!("https://s3.us-east-1.amazonaws.com/{b}/dir/my%20file%2B1.vtt"),
            b,
            Some("dir/my file+1.vtt"),
        ),
        (
            format!("https://s3.us-east-1.amazonaws.com/{b}/caf%C3%A9.srt"),
            b,
            Some("café.srt"),
        ),
        (
            format!(
                "https://{b}.s3.us-east-1.amazonaws.com/{k}?X-Amz-Signature=abc&X-Amz-Expires=900"
            ),
            b,
            Some(k),
        ),
        (
            format!("https://S3.US-EAST-1.AMAZONAWS.COM/{b}/{k}"),
            b,
            Some(k),
        ),
        // Not in our bucket, or not an object.
        (
            format!("https://s3.us-east-1.amazonaws.com/other/{k}"),
            b,
            None,
        ),
        (
            format!("https://other.s3.us-east-1.amazonaws.com/{k}"),
            b,
            None,
        ),
        (
            format!("https://s3.us-east-1.amazonaws.com/{b}x/{k}"),
            b,
            None,
        ),
        (format!("s3://other/{k}"), b, None),
        (format!("https://s3.us-east-1.amazonaws.com/{b}/"), b, None),
        (format!("https://s3.us-east-1.amazonaws.com/{b}"), b, None),
        (format!("https://{b}.s3.us-east-1.amazonaws.com/"), b, None),
        (
            format!("https://s3.us-east-1.amazonaws.com/{b}/bad%FF.vtt"),
            b,
            None,
        ),
        (k.to_owned(), b, None),
        (String::new(), b, None),
    ];
    for (uri, bucket, want) in &table {
        assert_eq!(key_from_uri(uri, bucket).as_deref(), *want, "{uri}");
    }
}
