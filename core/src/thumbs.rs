//! Thumbnail sprites: the grid layout of sprite sheets and the WebVTT track
//! that points a player's seek bar at each tile (`sprite_<i>.jpg#xywh=x,y,w,h`).

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How thumbnails are laid out.
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
    /// Seconds between thumbnails.
    pub interval_s: f64,
}

/// One sprite sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    /// Sheet number (`sprite_<index>.jpg`).
    pub index: u32,
    /// Global number of its first thumbnail.
    pub first_thumb: u32,
    /// Thumbnails on it.
    pub thumbs: u32,
}

/// Thumbnail size for a displayed size: `scale_w` wide, height keeping the aspect, both even.
pub fn thumb_size(display_w: u32, display_h: u32, scale_w: u32) -> (u32, u32) {
    let even = |x: f64| (((x / 2.0).round() as u32) * 2).max(2);
    let w = even(f64::from(scale_w.max(2)));
    let h = even(f64::from(w) * f64::from(display_h.max(1)) / f64::from(display_w.max(1)));
    (w, h)
}

/// The sheets needed for `count` thumbnails (the last one may be partial).
pub fn sheets(layout: &SpriteLayout, count: u32) -> Vec<Sheet> {
    let per = (layout.columns * layout.rows).max(1);
    (0..count.div_ceil(per))
        .map(|i| Sheet {
            index: i,
            first_thumb: i * per,
            thumbs: per.min(count - i * per),
        })
        .collect()
}

fn vtt_time(s: f64) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The WebVTT thumbnails track for `count` thumbnails over `duration_s` seconds.
pub fn thumbnails_vtt(layout: &SpriteLayout, count: u32, duration_s: f64) -> String {
    let per = (layout.columns * layout.rows).max(1);
    let cols = layout.columns.max(1);
    let mut out = String::from("WEBVTT\n");
    for k in 0..count {
        let start = f64::from(k) * layout.interval_s;
        let end = (start + layout.interval_s).min(duration_s.max(start));
        if end <= start {
            break;
        }
        let (sheet, pos) = (k / per, k % per);
        let (x, y) = (
            (pos % cols) * layout.thumb_width,
            (pos / cols) * layout.thumb_height,
        );
        let _ = write!(
            out,
            "\n{} --> {}\nsprite_{sheet}.jpg#xywh={x},{y},{},{}\n",
            vtt_time(start),
            vtt_time(end),
            layout.thumb_width,
            layout.thumb_height
        );
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
        assert_eq!(thumb_size(1920, 1080, 180), (180, 102));
        assert_eq!(thumb_size(1080, 1920, 180), (180, 320));
        assert_eq!(thumb_size(720, 405, 161), (162, 92));
        assert_eq!(thumb_size(1, 1, 0), (2, 2));
    }

    #[test]
    fn sheet_grid() {
        assert_eq!(
            sheets(&layout(), 5),
            vec![
                Sheet {
                    index: 0,
                    first_thumb: 0,
                    thumbs: 4
                },
                Sheet {
                    index: 1,
                    first_thumb: 4,
                    thumbs: 1
                }
            ]
        );
        assert!(sheets(&layout(), 0).is_empty());
    }

    #[test]
    fn vtt_cues_tile_and_clip_to_duration() {
        let vtt = thumbnails_vtt(&layout(), 5, 9.5);
        insta::assert_snapshot!(vtt);
        assert!(vtt.contains("00:00:08.000 --> 00:00:09.500\nsprite_1.jpg#xywh=0,0,160,90"));
        assert!(vtt.contains("sprite_0.jpg#xywh=160,90,160,90"));
        assert_eq!(vtt_time(3725.5), "01:02:05.500");
    }
}
