//! File names: plain, visible names only (an allow-list of what a name may be).

use crate::error::ApiError;

/// Longest accepted file name, in bytes (a file-system name limit).
pub const MAX_NAME_BYTES: usize = 255;

/// Checks an original file name. It becomes one path component of the
/// upload's key and is shown in the page, so it must be a plain, visible name:
///
/// - not empty or blank, at most [`MAX_NAME_BYTES`] bytes;
/// - no `/` or backslash, not `.` or `..`, not starting with `.` (no hidden
///   files) and not starting or ending with whitespace, not ending with `.`;
/// - no invisible or layout-changing characters: control characters
///   (Unicode category Cc), format characters (Cf: bidirectional overrides
///   such as U+202E, zero-width spaces and joiners, the BOM, tag characters),
///   line and paragraph separators, private-use code points, noncharacters
///   and the blank Hangul fillers.
///
/// Spaces inside, letters of any script, emoji, `+`, `%`, `#` and quotes are fine.
pub fn file_name(name: &str) -> Result<String, ApiError> {
    let bad = |why: String| Err(ApiError::Invalid(format!("fileName {why}")));
    if name.trim().is_empty() {
        return bad("must not be empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return bad(format!("is longer than {MAX_NAME_BYTES} bytes"));
    }
    if name == "." || name == ".." {
        return bad("must be a file name, not `.` or `..`".into());
    }
    if name.contains(['/', '\\']) {
        return bad("must be a bare file name, without slashes or backslashes".into());
    }
    if let Some((i, c)) = name.char_indices().find(|&(_, c)| is_hidden_char(c)) {
        return bad(format!(
            "contains an invisible control or formatting character (U+{:04X}, character {}), which can disguise a name; rename the file without it",
            u32::from(c),
            name[..i].chars().count() + 1
        ));
    }
    if name.starts_with('.') {
        return bad("must not start with `.`".into());
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return bad("must not start or end with a space".into());
    }
    if name.ends_with('.') {
        return bad("must not end with `.`".into());
    }
    Ok(name.to_owned())
}

/// Unicode general category Cf (format characters), as of Unicode 16:
/// inclusive ranges.
pub const FORMAT_CHARS: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// True for a character of Unicode category Cf.
pub fn is_format_char(c: char) -> bool {
    let c = u32::from(c);
    FORMAT_CHARS.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Characters a file name may not hold: controls (Cc), format characters
/// (Cf), line/paragraph separators (Zl, Zp), private use (Co), noncharacters
/// and the blank Hangul fillers (letters that render as nothing).
fn is_hidden_char(c: char) -> bool {
    let u = u32::from(c);
    c.is_control()
        || is_format_char(c)
        || matches!(u, 0x2028 | 0x2029)
        || matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
        || matches!(u, 0x115F | 0x1160 | 0x3164 | 0xFFA0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        for ok in [
            "a.mp4",
            "my clip (1).mp4",
            "ünïcødé 🎬.mov",
            "a+b%20c.mp4",
            "it's \"quoted\".mkv",
            "#hash?query&x=1.mp4",
            "日本語の動画.mp4",
            "שלום.mp4",
            "❤\u{FE0F} clip.mp4",
            "no extension",
            &"x".repeat(255),
        ] {
            assert_eq!(file_name(ok).expect(ok), ok);
        }
        for bad in [
            "",
            "   ",
            ".",
            "..",
            "...hidden",
            ".bashrc",
            "a/b.mp4",
            "..\\x",
            "a\\b.mp4",
            "a\0b",
            "line\nbreak",
            "tab\there.mp4",
            "del\u{7F}.mp4",
            "c1\u{85}.mp4",
            "evil\u{202E}4pm.exe",
            "zero\u{200B}width.mp4",
            "join\u{200D}er.mp4",
            "\u{FEFF}bom.mp4",
            "soft\u{AD}hyphen.mp4",
            "tag\u{E0041}.mp4",
            "isolate\u{2066}.mp4",
            "line\u{2028}sep.mp4",
            "private\u{E000}.mp4",
            "nonchar\u{FFFF}.mp4",
            "filler\u{3164}.mp4",
            " leading.mp4",
            "trailing.mp4 ",
            "trailing dot.",
            &"x".repeat(256),
            &"é".repeat(128),
        ] {
            let e = file_name(bad).expect_err(bad);
            assert!(matches!(e, ApiError::Invalid(_)), "{bad:?}");
        }
        let e = file_name("a\u{202E}b.mp4").expect_err("rlo");
        assert!(e.to_string().contains("U+202E"), "{e}");
    }

    #[test]
    fn format_chars_table() {
        for (c, cf) in [
            ('\u{AD}', true),
            ('\u{600}', true),
            ('\u{605}', true),
            ('\u{606}', false),
            ('\u{61C}', true),
            ('\u{6DD}', true),
            ('\u{70F}', true),
            ('\u{890}', true),
            ('\u{8E2}', true),
            ('\u{180E}', true),
            ('\u{200A}', false),
            ('\u{200B}', true),
            ('\u{200F}', true),
            ('\u{2010}', false),
            ('\u{202A}', true),
            ('\u{202E}', true),
            ('\u{202F}', false),
            ('\u{2060}', true),
            ('\u{2064}', true),
            ('\u{2065}', false),
            ('\u{2066}', true),
            ('\u{206F}', true),
            ('\u{FEFF}', true),
            ('\u{FFF9}', true),
            ('\u{FFFB}', true),
            ('\u{FFFC}', false),
            ('\u{110BD}', true),
            ('\u{110CD}', true),
            ('\u{13430}', true),
            ('\u{1343F}', true),
            ('\u{1BCA0}', true),
            ('\u{1BCA3}', true),
            ('\u{1D173}', true),
            ('\u{1D17A}', true),
            ('\u{E0001}', true),
            ('\u{E0020}', true),
            ('\u{E007F}', true),
            ('\u{E0080}', false),
            ('a', false),
            ('é', false),
            ('🎬', false),
            ('\u{FE0F}', false),
        ] {
            assert_eq!(is_format_char(c), cf, "U+{:04X}", u32::from(c));
        }
        // Sorted, disjoint ranges.
        for w in FORMAT_CHARS.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }
}
