//! What an S3 ETag says about an object's content. S3 computes the ETag
//! itself, from the bytes it received, so an uploader cannot choose it: for
//! an object stored as sent or with SSE-S3 it is the MD5 of the bytes (a
//! single PUT) or the MD5 of the parts' MD5s followed by `-<parts>` (a
//! multipart upload). With SSE-KMS or a customer key it is neither.

/// The content digest an ETag carries: its 16 bytes for a plain or SSE-S3
/// object (`server_side_encryption` absent or `AES256`, no customer key),
/// whether it is the MD5 of the bytes or S3's MD5 of a multipart upload's
/// parts; `None` for anything else, or an ETag of another shape.
pub fn content_digest(
    etag: &str,
    server_side_encryption: Option<&str>,
    customer_key: bool,
) -> Option<[u8; 16]> {
    if customer_key || !matches!(server_side_encryption, None | Some("AES256")) {
        return None;
    }
    let tag = etag.strip_prefix('"')?.strip_suffix('"')?;
    let (hex_part, parts) = match tag.split_once('-') {
        Some((h, n)) => (h, Some(n)),
        None => (tag, None),
    };
    if let Some(n) = parts {
        let n: u32 = n
            .parse()
            .ok()
            .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))?;
        if !(1..=10_000).contains(&n) {
            return None;
        }
    }
    if hex_part.len() != 32 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex_part.to_ascii_lowercase(), &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_content_etag_of_an_object_s3_can_read_is_a_digest() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        let want = hex::decode(md5).expect("hex");
        // (ETag, server-side encryption, customer key, digest?)
        let table: &[(&str, Option<&str>, bool, bool)] = &[
            ("\"9e107d9d372bb6826bd81d3542a419d6\"", None, false, true),
            (
                "\"9E107D9D372BB6826BD81D3542A419D6\"",
                Some("AES256"),
                false,
                true,
            ),
            ("\"9e107d9d372bb6826bd81d3542a419d6-12\"", None, false, true),
            (
                "\"9e107d9d372bb6826bd81d3542a419d6-10000\"",
                None,
                false,
                true,
            ),
            (
                "\"9e107d9d372bb6826bd81d3542a419d6\"",
                Some("aws:kms"),
                false,
                false,
            ),
            (
                "\"9e107d9d372bb6826bd81d3542a419d6\"",
                Some("aws:kms:dsse"),
                false,
                false,
            ),
            ("\"9e107d9d372bb6826bd81d3542a419d6\"", None, true, false),
            ("9e107d9d372bb6826bd81d3542a419d6", None, false, false),
            ("W/\"9e107d9d372bb6826bd81d3542a419d6\"", None, false, false),
            ("\"9e107d9d372bb6826bd81d3542a419d\"", None, false, false),
            ("\"9e107d9d372bb6826bd81d3542a419dz\"", None, false, false),
            ("\"9e107d9d372bb6826bd81d3542a419d6-0\"", None, false, false),
            (
                "\"9e107d9d372bb6826bd81d3542a419d6-10001\"",
                None,
                false,
                false,
            ),
            (
                "\"9e107d9d372bb6826bd81d3542a419d6-+3\"",
                None,
                false,
                false,
            ),
            ("\"9e107d9d372bb6826bd81d3542a419d6-\"", None, false, false),
            ("\"\"", None, false, false),
        ];
        for &(etag, sse, customer, ok) in table {
            let got = content_digest(etag, sse, customer);
            assert_eq!(got.is_some(), ok, "{etag} {sse:?} {customer}");
            if let Some(d) = got {
                assert_eq!(d.as_slice(), want.as_slice(), "{etag}");
            }
        }
    }
}
