//! Checks that every HLS media playlist's listed durations match the
//! timestamps of the segments it lists, read from the segments themselves
//! (`tfdt` and the sample durations), independently of the assembler.

use anyhow::{Context, ensure};
use slicecast_core::cmaf;
use std::path::Path;

/// One HLS media playlist: its init segment and `(EXTINF, URI)` per segment.
fn parse(playlist: &str) -> anyhow::Result<(String, Vec<(f64, String)>)> {
    let mut init = None;
    let mut segments = Vec::new();
    let mut pending = None;
    for line in playlist.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXT-X-MAP:URI=\"") {
            init = Some(rest.trim_end_matches('"').to_owned());
        } else if let Some(rest) = line.strip_prefix("#EXTINF:") {
            let d = rest.trim_end_matches(',').split(',').next().unwrap_or("");
            pending = Some(d.parse::<f64>().with_context(|| format!("EXTINF {rest}"))?);
        } else if !line.is_empty() && !line.starts_with('#') {
            let d = pending.take().context("a segment without EXTINF")?;
            segments.push((d, line.to_owned()));
        }
    }
    Ok((init.context("no EXT-X-MAP")?, segments))
}

/// For every media playlist under `video_dir/hls/` (video rungs and audio):
/// segment `i` starts where the listed durations before it add up to, and
/// lasts what its `EXTINF` says, both within `tolerance_s`; so the playlist's
/// total is the media's, and the timeline has no hole or overlap. Returns
/// how many playlists were checked.
pub fn check_playlist_timing(video_dir: &Path, tolerance_s: f64) -> anyhow::Result<usize> {
    let hls = video_dir.join("hls");
    let mut checked = 0;
    for entry in std::fs::read_dir(&hls)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.ends_with(".m3u8") || name == "master.m3u8" {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        if text.contains("#EXT-X-MAP") {
            check_one(&hls, &name, &text, tolerance_s)?;
            checked += 1;
        }
    }
    Ok(checked)
}

fn check_one(hls: &Path, name: &str, text: &str, tolerance_s: f64) -> anyhow::Result<()> {
    let (init_uri, segments) = parse(text)?;
    let init = std::fs::read(hls.join(&init_uri))?;
    let info = cmaf::init_info(&init).with_context(|| format!("{name}: init"))?;
    let scale = f64::from(info.timescale);
    let mut listed = 0.0;
    let mut first_start = None;
    for (i, (extinf, uri)) in segments.iter().enumerate() {
        let data = std::fs::read(hls.join(uri))?;
        let frag = cmaf::fragment_info(&data, info.default_sample_duration)
            .with_context(|| format!("{name}: segment {i}"))?;
        let start = frag.base_decode_time as f64 / scale;
        let origin = *first_start.get_or_insert(start);
        let duration = frag.duration as f64 / scale;
        ensure!(
            (start - origin - listed).abs() <= tolerance_s,
            "{name}: segment {i} starts at {:.4} s in its media, the playlist puts it at {listed:.4} s",
            start - origin
        );
        ensure!(
            (duration - extinf).abs() <= tolerance_s,
            "{name}: segment {i} lasts {duration:.4} s in its media, the playlist says {extinf:.4} s"
        );
        listed += extinf;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_media_playlist() {
        let pl = "#EXTM3U\n#EXT-X-MAP:URI=\"../video/a/init.mp4\"\n#EXTINF:4.000000,\n../video/a/seg_0.m4s\n#EXTINF:1.5,\nseg_1.m4s\n#EXT-X-ENDLIST\n";
        let (init, segs) = parse(pl).expect("parse");
        assert_eq!(init, "../video/a/init.mp4");
        assert_eq!(
            segs,
            vec![
                (4.0, "../video/a/seg_0.m4s".to_owned()),
                (1.5, "seg_1.m4s".to_owned())
            ]
        );
        assert!(parse("#EXTINF:4,\nseg.m4s\n").is_err());
    }
}
