//! Thumbnail sprites: the grid layout of sprite sheets and the WebVTT track
//! that points a player's seek bar at each tile (`sprite_<i>.jpg#xywh=x,y,w,h`).
//!
//! `thumbnails.vtt` sits beside the sheets in `thumbnail/`, so its cue payloads
//! name the sheets by file name alone.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How thumbnails are laid out on sprite sheets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpriteLayout {
    /// Thumbnails per row.
    pub columns: u32,
    /// Rows per sheet.
    pub rows: u32,
    /// Thumbnail width in pixels.
    pub thumb_width: u32,
    /// Thumbnail height in pixels.
    pub thumb_height: u32,
    /// Seconds between thumbnails: thumbnail `k` shows time `k * interval_s`.
    pub interval_s: f64,
}

impl SpriteLayout {
    /// Thumbnails per full sheet (`columns * rows`, at least 1).
    pub fn per_sheet(&self) -> u32 {
        self.columns.max(1).saturating_mul(self.rows.max(1))
    }

    /// Sheet of thumbnail `k` and the pixel position of its top-left corner there.
    pub fn tile(&self, k: u32) -> (u32, u32, u32) {
        let per = self.per_sheet();
        let cols = self.columns.max(1);
        let pos = k % per;
        (
            k / per,
            (pos % cols) * self.thumb_width,
            (pos / cols) * self.thumb_height,
        )
    }
}

/// One sprite sheet (`sprite_<index>.jpg`): a run of consecutive thumbnails,
/// filled row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    /// Sheet number (`sprite_<index>.jpg`), from 0.
    pub index: u32,
    /// Global number of its first thumbnail.
    pub first_thumb: u32,
    /// Thumbnails on it (`columns * rows`, fewer on the last sheet).
    pub thumbs: u32,
}

/// Rounds to the nearest even number, never below 2.
fn even(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

/// Thumbnail size for a source *displayed* at `display_w` × `display_h`:
/// `scale_w` wide and as tall as the aspect ratio says, both rounded to even
/// numbers (what the JPEG encoder's chroma subsampling wants) and at least 2.
pub fn thumb_size(display_w: u32, display_h: u32, scale_w: u32) -> (u32, u32) {
    let w = even(f64::from(scale_w));
    let h = even(f64::from(w) * f64::from(display_h.max(1)) / f64::from(display_w.max(1)));
    (w, h)
}

/// At most this many thumbnails are weighed for the poster, spread evenly.
pub const POSTER_CANDIDATES: u32 = 48;

/// The thumbnails the poster may be made from, and its size. Each slice also
/// writes a full-size frame beside each candidate thumbnail it makes, so the
/// assembler makes the poster by choosing one, not by decoding the source
/// again after the encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosterCandidates {
    /// Only thumbnails before this one are weighed.
    pub below: u32,
    /// Every this-many-th thumbnail from 0 is weighed (at least 1).
    pub every: u32,
    /// The poster's width and height in pixels.
    pub size: (u32, u32),
}

impl PosterCandidates {
    /// Up to [`POSTER_CANDIDATES`] of `count` thumbnails, spread over the
    /// first half of the video (end credits and spoilers are not weighed).
    pub fn spread(count: u32, size: (u32, u32)) -> Self {
        let below = count.div_ceil(2);
        Self {
            below,
            every: below.div_ceil(POSTER_CANDIDATES).max(1),
            size,
        }
    }

    /// Whether thumbnail `k` is a candidate.
    pub fn includes(&self, k: u32) -> bool {
        k < self.below && k.is_multiple_of(self.every.max(1))
    }
}

/// The poster's size among the rungs' sizes (tallest first): the first whose
/// shorter side is at most 720 pixels, else the last; `None` without rungs.
pub fn poster_size(rungs: impl IntoIterator<Item = (u32, u32)>) -> Option<(u32, u32)> {
    let mut last = None;
    for (w, h) in rungs {
        if w.min(h) <= 720 {
            return Some((w, h));
        }
        last = Some((w, h));
    }
    last
}

/// The sheets needed for `count` thumbnails: full sheets of `columns * rows`,
/// the last one holding the remainder.
pub fn sheets(layout: &SpriteLayout, count: u32) -> Vec<Sheet> {
    let per = layout.per_sheet();
    (0..count.div_ceil(per))
        .map(|i| Sheet {
            index: i,
            first_thumb: i * per,
            thumbs: per.min(count - i * per),
        })
        .collect()
}

/// Seconds to whole milliseconds, rounded to nearest, never negative.
fn millis(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

/// A WebVTT timestamp, `HH:MM:SS.mmm` (hours grow past two digits if need be).
fn vtt_time(s: f64) -> String {
    let ms = millis(s);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The WebVTT thumbnails track (`thumbnail/thumbnails.vtt`) for `count`
/// thumbnails of a `duration_s`-second video.
///
/// Cue `k` runs from `k * interval_s` to `(k + 1) * interval_s`, the last one
/// clipped to the duration, and its payload is the tile,
/// `sprite_<sheet>.jpg#xywh=<x>,<y>,<w>,<h>`. Thumbnails that would start at
/// or after the end of the video get no cue.
pub fn thumbnails_vtt(layout: &SpriteLayout, count: u32, duration_s: f64) -> String {
    let mut out = String::from("WEBVTT\n");
    for k in 0..count {
        let start = f64::from(k) * layout.interval_s;
        let end = (f64::from(k) + 1.0) * layout.interval_s;
        let end = end.min(duration_s);
        // Compared in whole milliseconds, as written: no empty or inverted cues.
        if millis(end) <= millis(start) {
            break;
        }
        let (sheet, x, y) = layout.tile(k);
        writeln!(
            out,
            "\n{} --> {}\nsprite_{sheet}.jpg#xywh={x},{y},{},{}",
            vtt_time(start),
            vtt_time(end),
            layout.thumb_width,
            layout.thumb_height
        )
        .expect("writing into a String cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> SpriteLayout {
        SpriteLayout {
            columns: 2,
            rows: 2,
            thumb_width: 160,
            thumb_height: 90,
            interval_s: 2.0,
        }
    }

    #[test]
    fn sizes() {
        // (display w, h, scale_w, want)
        let cases: &[(u32, u32, u32, (u32, u32))] = &[
            (1920, 1080, 160, (160, 90)),
            (1920, 1080, 180, (180, 102)), // 101.25 → 102
            (1280, 720, 240, (240, 136)),  // 135 → 136
            (1080, 1920, 180, (180, 320)), // portrait
            (720, 1280, 160, (160, 284)),  // portrait, 284.4 → 284
            (720, 405, 161, (162, 92)),    // odd width and height
            (1024, 768, 160, (160, 120)),  // 4:3
            (5000, 10, 160, (160, 2)),     // never below 2
            (1, 1, 0, (2, 2)),
            (0, 0, 160, (160, 160)), // unknown size: square
        ];
        for &(w, h, s, want) in cases {
            let got = thumb_size(w, h, s);
            assert_eq!(got, want, "{w}x{h} at {s}");
            assert_eq!((got.0 % 2, got.1 % 2), (0, 0));
        }
    }

    #[test]
    fn sheet_grid() {
        let sheet = |index, first_thumb, thumbs| Sheet {
            index,
            first_thumb,
            thumbs,
        };
        let cases: &[(u32, &[Sheet])] = &[
            (0, &[]),
            (1, &[sheet(0, 0, 1)]),
            (4, &[sheet(0, 0, 4)]),
            (5, &[sheet(0, 0, 4), sheet(1, 4, 1)]),
            (8, &[sheet(0, 0, 4), sheet(1, 4, 4)]),
            (11, &[sheet(0, 0, 4), sheet(1, 4, 4), sheet(2, 8, 3)]),
        ];
        for (count, want) in cases {
            assert_eq!(sheets(&layout(), *count), *want, "{count}");
        }
        let wide = SpriteLayout {
            columns: 5,
            rows: 1,
            ..layout()
        };
        assert_eq!(sheets(&wide, 7), [sheet(0, 0, 5), sheet(1, 5, 2)]);
    }

    #[test]
    fn tiles_fill_rows_then_sheets() {
        let wide = SpriteLayout {
            columns: 3,
            rows: 2,
            ..layout()
        };
        let got: Vec<_> = (0..8).map(|k| wide.tile(k)).collect();
        assert_eq!(
            got,
            [
                (0, 0, 0),
                (0, 160, 0),
                (0, 320, 0),
                (0, 0, 90),
                (0, 160, 90),
                (0, 320, 90),
                (1, 0, 0),
                (1, 160, 0),
            ]
        );
    }

    #[test]
    fn vtt_cues_tile_and_clip_to_duration() {
        // 5 thumbnails on a 2×2 grid: the second sheet is partial; the last cue ends at 9.5 s.
        let vtt = thumbnails_vtt(&layout(), 5, 9.5);
        insta::assert_snapshot!(vtt);
    }

    #[test]
    fn vtt_edge_cases() {
        // (count, duration, cue lines "start --> end payload")
        type Case = (u32, f64, &'static [&'static str]);
        let cases: &[Case] = &[
            (0, 10.0, &[]),
            (
                1,
                0.7,
                &["00:00:00.000 --> 00:00:00.700 sprite_0.jpg#xywh=0,0,160,90"],
            ),
            // duration a multiple of the interval: last cue not clipped
            (
                2,
                4.0,
                &[
                    "00:00:00.000 --> 00:00:02.000 sprite_0.jpg#xywh=0,0,160,90",
                    "00:00:02.000 --> 00:00:04.000 sprite_0.jpg#xywh=160,0,160,90",
                ],
            ),
            // more thumbnails than the duration holds: no empty cue
            (
                3,
                4.0,
                &[
                    "00:00:00.000 --> 00:00:02.000 sprite_0.jpg#xywh=0,0,160,90",
                    "00:00:02.000 --> 00:00:04.000 sprite_0.jpg#xywh=160,0,160,90",
                ],
            ),
            // a 9-thumbnail video: third sheet holds one
            (
                9,
                17.0,
                &[
                    "00:00:00.000 --> 00:00:02.000 sprite_0.jpg#xywh=0,0,160,90",
                    "00:00:02.000 --> 00:00:04.000 sprite_0.jpg#xywh=160,0,160,90",
                    "00:00:04.000 --> 00:00:06.000 sprite_0.jpg#xywh=0,90,160,90",
                    "00:00:06.000 --> 00:00:08.000 sprite_0.jpg#xywh=160,90,160,90",
                    "00:00:08.000 --> 00:00:10.000 sprite_1.jpg#xywh=0,0,160,90",
                    "00:00:10.000 --> 00:00:12.000 sprite_1.jpg#xywh=160,0,160,90",
                    "00:00:12.000 --> 00:00:14.000 sprite_1.jpg#xywh=0,90,160,90",
                    "00:00:14.000 --> 00:00:16.000 sprite_1.jpg#xywh=160,90,160,90",
                    "00:00:16.000 --> 00:00:17.000 sprite_2.jpg#xywh=0,0,160,90",
                ],
            ),
        ];
        for (count, duration, want) in cases {
            let vtt = thumbnails_vtt(&layout(), *count, *duration);
            let mut blocks = vtt.split("\n\n");
            assert_eq!(
                blocks.next(),
                Some(if want.is_empty() {
                    "WEBVTT\n"
                } else {
                    "WEBVTT"
                })
            );
            let got: Vec<String> = blocks.map(|b| b.trim_end().replace('\n', " ")).collect();
            assert_eq!(got, *want, "{count} over {duration} s");
        }
    }

    #[test]
    fn vtt_timestamps() {
        let cases: &[(f64, &str)] = &[
            (0.0, "00:00:00.000"),
            (1.0006, "00:00:01.001"),
            (59.9999, "00:01:00.000"),
            (3725.5, "01:02:05.500"),
            (360_000.0, "100:00:00.000"),
            (-1.0, "00:00:00.000"),
        ];
        for &(s, want) in cases {
            assert_eq!(vtt_time(s), want, "{s}");
        }
    }

    #[test]
    fn poster_candidates_spread_over_the_first_half() {
        for (count, below, every, picked) in [
            (0, 0, 1, vec![]),
            (1, 1, 1, vec![0]),
            (7, 4, 1, vec![0, 1, 2, 3]),
            // Two hours at one a second: 48 over the first hour.
            (7200, 3600, 75, (0..48).map(|i| i * 75).collect()),
        ] {
            let c = PosterCandidates::spread(count, (1280, 720));
            assert_eq!((c.below, c.every), (below, every), "{count}");
            let got: Vec<u32> = (0..count).filter(|&k| c.includes(k)).collect();
            assert_eq!(got, picked, "{count}");
            assert!(got.len() as u32 <= POSTER_CANDIDATES);
        }
    }

    #[test]
    fn poster_size_is_the_first_rung_of_720_or_less() {
        let ladder = [(1920, 1080), (1280, 720), (854, 480)];
        assert_eq!(poster_size(ladder), Some((1280, 720)));
        assert_eq!(poster_size([(720, 1280), (480, 854)]), Some((720, 1280)));
        assert_eq!(
            poster_size([(3840, 2160), (1920, 1080)]),
            Some((1920, 1080))
        );
        assert_eq!(poster_size([]), None);
    }

    #[test]
    fn structs_round_trip_through_serde() {
        let l = layout();
        let json = serde_json::to_string(&l).expect("serialize");
        assert_eq!(
            serde_json::from_str::<SpriteLayout>(&json).expect("deserialize"),
            l
        );
        let s = sheets(&l, 5);
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(
            serde_json::from_str::<Vec<Sheet>>(&json).expect("deserialize"),
            s
        );
    }
}
