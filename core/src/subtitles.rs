//! Subtitles, pure: timed words from a speech engine → readable cues (at most
//! two lines of 42 characters, at most 7 s each), WebVTT and SRT text, and
//! the word error rate used to judge an engine against a transcript.

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

/// A WebVTT document of `cues`.
pub fn webvtt(cues: &[Cue]) -> String {
    let mut s = String::from("WEBVTT\n");
    for c in cues {
        let _ = write!(
            s,
            "\n{} --> {}\n{}\n",
            timestamp(c.start_s, '.'),
            timestamp(c.end_s, '.'),
            c.lines.join("\n")
        );
    }
    s
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

/// Lower-case words without punctuation (apostrophes kept), for scoring.
pub fn normalize(text: &str) -> Vec<String> {
    text.split_whitespace()
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
mod tests {
    use super::*;

    fn words(spec: &[(&str, f64, f64)]) -> Vec<Word> {
        spec.iter()
            .map(|(t, a, b)| Word {
                text: (*t).to_owned(),
                start_s: *a,
                end_s: *b,
            })
            .collect()
    }

    #[test]
    fn cue_breaks() {
        let limits = CueLimits::default();
        // (words, expected cue texts)
        let table: Vec<(Vec<Word>, Vec<&str>)> = vec![
            (vec![], vec![]),
            (
                words(&[
                    ("Hello", 0.0, 0.4),
                    ("world.", 0.5, 0.9),
                    ("Next", 1.0, 1.3),
                ]),
                vec!["Hello world.", "Next"],
            ),
            (words(&[("a", 0.0, 0.1), ("b", 2.0, 2.1)]), vec!["a", "b"]),
            (
                (0..30)
                    .map(|i| Word {
                        text: "word".into(),
                        start_s: f64::from(i) * 0.3,
                        end_s: f64::from(i) * 0.3 + 0.25,
                    })
                    .collect(),
                vec![
                    "word word word word word word word word\nword word word word word word word word",
                    "word word word word word word word word\nword word word word word word",
                ],
            ),
            (
                (0..12)
                    .map(|i| Word {
                        text: "slow".into(),
                        start_s: f64::from(i) * 0.9,
                        end_s: f64::from(i) * 0.9 + 0.8,
                    })
                    .collect(),
                vec![
                    "slow slow slow slow slow slow slow",
                    "slow slow slow slow slow",
                ],
            ),
            (words(&[(" ", 0.0, 1.0), ("ok", 1.0, 1.2)]), vec!["ok"]),
        ];
        for (input, want) in table {
            let got: Vec<String> = cues(&input, &limits)
                .iter()
                .map(|c| c.lines.join("\n"))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn cues_respect_limits() {
        let limits = CueLimits::default();
        let ws: Vec<Word> = (0..200)
            .map(|i| Word {
                text: ["a", "bb", "longerword", "x.", "mid"][i % 5].to_owned(),
                start_s: i as f64 * 0.37,
                end_s: i as f64 * 0.37 + 0.3,
            })
            .collect();
        let cs = cues(&ws, &limits);
        let mut last_end = 0.0;
        for c in &cs {
            assert!(c.lines.len() <= 2, "{c:?}");
            assert!(c.lines.iter().all(|l| l.chars().count() <= 42), "{c:?}");
            assert!(c.end_s - c.start_s <= 7.0 + 1e-9, "{c:?}");
            assert!(c.start_s >= last_end, "overlap at {c:?}");
            last_end = c.end_s;
        }
        let n: usize = cs
            .iter()
            .map(|c| c.lines.iter().map(|l| l.split(' ').count()).sum::<usize>())
            .sum();
        assert_eq!(n, ws.len(), "every word once");
    }

    #[test]
    fn documents() {
        let cs = vec![
            Cue {
                start_s: 1.5,
                end_s: 3.25,
                lines: vec!["And so, my fellow Americans,".into()],
            },
            Cue {
                start_s: 3661.0,
                end_s: 3662.25,
                lines: vec!["ask not".into(), "what".into()],
            },
        ];
        assert_eq!(
            webvtt(&cs),
            "WEBVTT\n\n00:00:01.500 --> 00:00:03.250\nAnd so, my fellow Americans,\n\n01:01:01.000 --> 01:01:02.250\nask not\nwhat\n"
        );
        assert_eq!(
            srt(&cs),
            "1\n00:00:01,500 --> 00:00:03,250\nAnd so, my fellow Americans,\n\n2\n01:01:01,000 --> 01:01:02,250\nask not\nwhat\n\n"
        );
        assert_eq!(webvtt(&[]), "WEBVTT\n");
    }

    #[test]
    fn wer() {
        let table = [
            (
                "ask not what your country",
                "Ask not, what your country!",
                0.0,
            ),
            ("ask not what your country", "ask what your country", 0.2),
            (
                "ask not what your country",
                "ask not what our country can",
                0.4,
            ),
            ("one two", "", 1.0),
            ("", "", 0.0),
            ("", "noise", 1.0),
            ("it's fine", "its fine", 0.5),
        ];
        for (r, h, want) in table {
            let got = word_error_rate(r, h);
            assert!((got - want).abs() < 1e-9, "{r:?} vs {h:?}: {got}");
        }
    }
}
