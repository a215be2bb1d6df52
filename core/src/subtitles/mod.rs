//! Subtitles, pure: timed words from a speech engine → readable cues (at most
//! two lines of 42 characters, at most 7 s each), WebVTT and SRT text, and
//! the word error rate used to judge an engine against a transcript; WebVTT
//! read back (Amazon Transcribe writes its own) and cut into HLS segments.

use std::fmt::Write;

/// A recognised word with its time span in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The word as recognised (punctuation attached, as engines return it).
    pub text: String,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// One subtitle cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// One or two lines.
    pub lines: Vec<String>,
}

/// Cue layout limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueLimits {
    /// Characters per line.
    pub line_chars: usize,
    /// Lines per cue.
    pub lines: usize,
    /// Longest cue, seconds.
    pub max_seconds: f64,
    /// A silence at least this long between words ends a cue.
    pub pause_seconds: f64,
}

impl Default for CueLimits {
    fn default() -> Self {
        Self {
            line_chars: 42,
            lines: 2,
            max_seconds: 7.0,
            pause_seconds: 1.0,
        }
    }
}

fn ends_sentence(word: &str) -> bool {
    word.ends_with(['.', '?', '!'])
}

/// Words into lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(words: &[&str], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for w in words {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + w.chars().count() <= width => {
                line.push(' ');
                line.push_str(w);
            }
            _ => lines.push((*w).to_owned()),
        }
    }
    lines
}

/// Groups timed words into cues: a cue ends at a sentence end, at a pause,
/// when the next word would need a third line, or when it would last longer
/// than `max_seconds`. Empty words are skipped; times are made monotonic.
pub fn cues(words: &[Word], limits: &CueLimits) -> Vec<Cue> {
    let mut out: Vec<Cue> = Vec::new();
    let mut current: Vec<&Word> = Vec::new();
    let flush = |current: &mut Vec<&Word>, out: &mut Vec<Cue>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let texts: Vec<&str> = current.iter().map(|w| w.text.as_str()).collect();
            let start_s = first.start_s.max(out.last().map_or(0.0, |c: &Cue| c.end_s));
            out.push(Cue {
                start_s,
                end_s: last.end_s.max(start_s),
                lines: wrap(&texts, limits.line_chars),
            });
        }
        current.clear();
    };
    for w in words.iter().filter(|w| !w.text.trim().is_empty()) {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let mut texts: Vec<&str> = current.iter().map(|w| w.text.as_str()).collect();
            texts.push(w.text.trim());
            let too_long = wrap(&texts, limits.line_chars).len() > limits.lines;
            let too_slow = w.end_s - first.start_s > limits.max_seconds;
            let pause = w.start_s - last.end_s >= limits.pause_seconds;
            if too_long || too_slow || pause || ends_sentence(&last.text) {
                flush(&mut current, &mut out);
            }
        }
        current.push(w);
    }
    flush(&mut current, &mut out);
    out
}

fn timestamp(s: f64, decimal: char) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{decimal}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Cue text as WebVTT payload: `&`, `<` and `>` escaped (a transcript is
/// not markup), and no blank line, which would end the cue.
fn vtt_payload(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| {
            l.trim()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_vtt_cues(s: &mut String, cues: &[&Cue]) {
    for c in cues {
        let _ = write!(
            s,
            "\n{} --> {}\n{}\n",
            timestamp(c.start_s, '.'),
            timestamp(c.end_s, '.'),
            vtt_payload(&c.lines)
        );
    }
}

/// A WebVTT document of `cues`.
pub fn webvtt(cues: &[Cue]) -> String {
    let mut s = String::from("WEBVTT\n");
    write_vtt_cues(&mut s, &cues.iter().collect::<Vec<_>>());
    s
}

/// The header line that ties WebVTT time to media time in HLS segments.
///
/// Our CMAF tracks start at media time 0 (`tfdt` 0 on a timeline that begins
/// at the first frame), so cue time is media time: `MPEGTS:0` (RFC 8216 §3.5:
/// MPEGTS is the media time, in 90 kHz units, of LOCAL). Every segment carries
/// the same pair, so a player computes the same offset for each and a cue
/// repeated in two segments comes out with identical times, which is how
/// players recognise the repeat (with a pair per segment, naming its start,
/// hls.js once showed a crossing cue twice in the page test).
pub const TIMESTAMP_MAP: &str = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000";

/// Cuts `cues` into one WebVTT document per segment of `bounds` (start, end
/// in seconds, the video's segment grid): segment `n` holds every cue that
/// overlaps it, with its full times (a cue crossing a boundary appears in
/// both segments, and players drop the repeat), and the [`TIMESTAMP_MAP`].
pub fn segment_webvtt(cues: &[Cue], bounds: &[(f64, f64)]) -> Vec<String> {
    bounds
        .iter()
        .map(|&(start, end)| {
            let mut s = format!("WEBVTT\n{TIMESTAMP_MAP}\n");
            let inside: Vec<&Cue> = cues
                .iter()
                .filter(|c| c.start_s < end && (c.end_s > start || c.start_s >= start))
                .collect();
            write_vtt_cues(&mut s, &inside);
            s
        })
        .collect()
}

/// WebVTT that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid WebVTT file: {0}")]
pub struct VttError(pub String);

fn parse_timestamp(t: &str) -> Option<f64> {
    let (hms, ms) = t.trim().split_once('.')?;
    if ms.len() != 3 || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    let nums: Option<Vec<u64>> = parts
        .iter()
        .map(|p| {
            (p.len() >= 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    let nums = nums?;
    let (h, m, sec) = match nums.as_slice() {
        [m, s] => (0, *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    let ms: u64 = ms.parse().ok()?;
    // Hours have any number of digits: checked, so a huge one is refused, not wrapped.
    let secs = h.checked_mul(3600)?.checked_add(m * 60 + sec)?;
    Some(secs as f64 + ms as f64 / 1000.0)
}

fn unescape(line: &str) -> String {
    line.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Reads the cues of a WebVTT document (header, optional cue identifiers,
/// settings after the times, `NOTE`/`STYLE`/`REGION` blocks skipped; entities
/// unescaped). Cues come back in start order.
pub fn parse_webvtt(text: &str) -> Result<Vec<Cue>, VttError> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut blocks = text.split("\n\n").map(|b| b.trim_matches('\n'));
    let header = blocks.next().unwrap_or_default();
    if !(header == "WEBVTT"
        || header.starts_with("WEBVTT ")
        || header.starts_with("WEBVTT\t")
        || header.starts_with("WEBVTT\n"))
    {
        return Err(VttError("it does not start with WEBVTT".into()));
    }
    let mut out = Vec::new();
    for block in blocks.filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let mut first = lines.next().unwrap_or_default();
        if first.starts_with("NOTE") || first == "STYLE" || first == "REGION" {
            continue;
        }
        if !first.contains("-->") {
            first = lines.next().unwrap_or_default();
        }
        let Some((a, rest)) = first.split_once("-->") else {
            return Err(VttError(format!("a cue has no timing line: {block:?}")));
        };
        let b = rest.split_whitespace().next().unwrap_or_default();
        let (Some(start_s), Some(end_s)) = (parse_timestamp(a), parse_timestamp(b)) else {
            return Err(VttError(format!("bad cue timing {first:?}")));
        };
        if end_s < start_s {
            return Err(VttError(format!("a cue ends before it starts: {first:?}")));
        }
        out.push(Cue {
            start_s,
            end_s,
            lines: lines.map(unescape).collect(),
        });
    }
    out.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
    Ok(out)
}

/// `tag` when it is a plausible BCP 47 language tag (`en`, `en-US`,
/// `zh-Hans-CN`: letters, digits and hyphens, starting with 2–3 letters), so
/// it is safe in file names and playlists; else `und`.
pub fn language_tag(tag: &str) -> String {
    let mut parts = tag.trim().split(['-', '_']);
    let primary = parts.next().unwrap_or_default();
    let ok_primary =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest: Vec<&str> = parts.collect();
    let ok_rest = rest
        .iter()
        .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok_primary && ok_rest {
        std::iter::once(primary.to_ascii_lowercase())
            .chain(rest.iter().map(|p| (*p).to_owned()))
            .collect::<Vec<_>>()
            .join("-")
    } else {
        "und".into()
    }
}

/// The English name of a language tag's primary language, for track menus
/// (`en-US` → `English`); the tag itself when it is not a common one.
pub fn language_name(tag: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("ar", "Arabic"),
        ("de", "German"),
        ("en", "English"),
        ("es", "Spanish"),
        ("fr", "French"),
        ("hi", "Hindi"),
        ("it", "Italian"),
        ("ja", "Japanese"),
        ("ko", "Korean"),
        ("nl", "Dutch"),
        ("pl", "Polish"),
        ("pt", "Portuguese"),
        ("ru", "Russian"),
        ("sv", "Swedish"),
        ("tr", "Turkish"),
        ("uk", "Ukrainian"),
        ("zh", "Chinese"),
    ];
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    NAMES
        .iter()
        .find(|(code, _)| *code == primary)
        .map_or_else(|| tag.to_owned(), |(_, name)| (*name).to_owned())
}

/// An SRT document of `cues`.
pub fn srt(cues: &[Cue]) -> String {
    let mut s = String::new();
    for (i, c) in cues.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(c.start_s, ','),
            timestamp(c.end_s, ','),
            c.lines.join("\n")
        );
    }
    s
}

/// Lower-case words without punctuation (apostrophes kept, hyphens split), for scoring.
pub fn normalize(text: &str) -> Vec<String> {
    // A hyphen joins words in writing ("ill-disposed") but is a word break when scoring.
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word error rate of `hypothesis` against `reference`: (substitutions +
/// deletions + insertions) / reference words, on [`normalize`]d text.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut row = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            row[j + 1] = sub.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests;
