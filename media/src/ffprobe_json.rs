//! The JSON of `ffprobe -show_format -show_streams -of json`, as typed
//! structs: only the fields slicecast reads, each optional, numbers accepted
//! as JSON numbers or as the strings ffprobe writes most of them as. What is
//! missing stays `None`; [`crate::probe::parse_probe`] decides what a missing
//! field means.

use serde::Deserialize;
use slicecast_core::source_info::Rational;

/// The whole document.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Output {
    #[serde(default)]
    pub streams: Vec<Stream>,
    pub format: Option<Format>,
}

/// `format`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Format {
    pub format_name: Option<String>,
    #[serde(default)]
    pub duration: Num,
    #[serde(default)]
    pub start_time: Num,
    #[serde(default)]
    pub bit_rate: Num,
}

/// One entry of `streams`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Stream {
    #[serde(default)]
    pub index: Num,
    pub codec_type: Option<String>,
    pub codec_name: Option<String>,
    #[serde(default)]
    pub width: Num,
    #[serde(default)]
    pub height: Num,
    pub sample_aspect_ratio: Option<String>,
    pub r_frame_rate: Option<String>,
    pub avg_frame_rate: Option<String>,
    pub time_base: Option<String>,
    pub pix_fmt: Option<String>,
    pub field_order: Option<String>,
    pub color_transfer: Option<String>,
    pub color_range: Option<String>,
    #[serde(default)]
    pub sample_rate: Num,
    #[serde(default)]
    pub channels: Num,
    #[serde(default)]
    pub duration: Num,
    #[serde(default)]
    pub start_time: Num,
    #[serde(default)]
    pub nb_frames: Num,
    #[serde(default)]
    pub disposition: Disposition,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub side_data_list: Vec<SideData>,
}

/// `disposition`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Disposition {
    #[serde(default)]
    pub attached_pic: Num,
}

/// `tags` (only the legacy rotation tag).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Tags {
    #[serde(default)]
    pub rotate: Num,
}

/// One entry of `side_data_list` (the display matrix carries `rotation`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SideData {
    #[serde(default)]
    pub rotation: Num,
}

/// A number written as a JSON number or a string (`"48000"`, `"2.5"`);
/// anything else (`"N/A"`, an object) is absent.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Self(
            match v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .filter(|f| f.is_finite()),
        ))
    }
}

impl Num {
    /// The value as a non-negative integer that fits a `u32`.
    pub fn u32(self) -> Option<u32> {
        self.0
            .filter(|f| *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u32)
    }
}

impl Stream {
    /// `video`, `audio`, … (absent: unknown).
    pub fn is(&self, kind: &str) -> bool {
        self.codec_type.as_deref() == Some(kind)
    }

    /// A cover picture stored as a video stream.
    pub fn is_attached_picture(&self) -> bool {
        self.disposition.attached_pic.0 == Some(1.0)
    }

    /// A still picture stored as a video track (a cover or a logo in a
    /// picture codec, or a track of one frame), though not flagged as one.
    pub fn looks_still(&self) -> bool {
        const PICTURE_CODECS: &[&str] = &["png", "mjpeg", "bmp", "webp", "tiff", "gif"];
        PICTURE_CODECS.contains(&self.codec_name.as_deref().unwrap_or(""))
            || self.nb_frames.0 == Some(1.0)
    }

    /// Clockwise display rotation in degrees (0, 90, 180, 270), from the
    /// display matrix or the legacy `rotate` tag.
    pub fn rotation(&self) -> u32 {
        let deg = self
            .side_data_list
            .iter()
            .find_map(|s| s.rotation.0)
            .or(self.tags.rotate.0)
            .unwrap_or(0.0);
        let quarter = ((deg / 90.0).round() as i64).rem_euclid(4);
        (quarter * 90) as u32
    }

    /// `r_frame_rate`, `avg_frame_rate` or `time_base` parsed.
    pub fn rational(field: &Option<String>) -> Option<Rational> {
        Rational::parse(field.as_deref()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_numbers_or_strings() {
        let s: Stream = serde_json::from_str(
            r#"{"index":1,"width":"640","sample_rate":"48000","duration":"N/A","channels":{},"side_data_list":[{"rotation":-90}],"extra":[1,2]}"#,
        )
        .expect("parse");
        assert_eq!(s.index.u32(), Some(1));
        assert_eq!(s.width.u32(), Some(640));
        assert_eq!(s.sample_rate.u32(), Some(48_000));
        assert_eq!((s.duration.0, s.channels.0), (None, None));
        assert_eq!(s.rotation(), 270);
        assert_eq!(Num(Some(-1.0)).u32(), None);
        assert_eq!(Num(Some(1e12)).u32(), None);
    }
}
