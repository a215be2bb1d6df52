//! The poster: one full-size frame, chosen by content. The slices stored a
//! thumbnail a second and, for the candidates spread over the first half of
//! the video, the full-size frame too; the poster is the frame of the most
//! detailed candidate, so a fade from black, a blank title card or a dark
//! opening is not what people see before they press play. Choosing a stored
//! frame keeps a decode of the source off the end of every video.

use crate::{AssembleError, AssembleInput, ffmpeg, ffmpeg_prelude, os};
use slicecast_core::keys;
use slicecast_core::presentation::Presentation;
use slicecast_core::thumbs::{PosterCandidates, poster_size};
use slicecast_storage::BlobStore;
use std::collections::BTreeSet;
use tracing::info;

/// The thumbnail to make the poster from, given each thumbnail's JPEG size
/// in bytes (`sizes[k]` for thumbnail `k`; 0 when missing): the largest of
/// the candidates — JPEG spends its bytes on detail and contrast, so a
/// blank, dark or fading frame is a small file. The earliest wins a tie.
pub fn pick(sizes: &[u64], candidate: impl Fn(usize) -> bool) -> Option<usize> {
    (0..sizes.len())
        .filter(|&k| sizes[k] > 0 && candidate(k))
        .max_by_key(|&k| (sizes[k], std::cmp::Reverse(k)))
}

/// Sizes of the objects under `prefix` named `<number>.jpg` with a number
/// below `count`, by number (0 when missing).
async fn jpeg_sizes(store: &dyn BlobStore, prefix: &str, count: usize) -> Option<Vec<u64>> {
    let mut sizes = vec![0; count];
    for o in store.list(prefix).await.ok()? {
        let n = o
            .key
            .strip_prefix(prefix)
            .and_then(|name| name.strip_suffix(".jpg"))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(n) = n.filter(|&n| n < count) {
            sizes[n] = o.size;
        }
    }
    Some(sizes)
}

fn prefix_of(key: &str) -> Option<&str> {
    Some(&key[..=key.rfind('/')?])
}

/// The chosen thumbnail and whether the slices stored its full-size frame:
/// the most detailed among the frames they stored, or (results of slices
/// that stored none) among the [`PosterCandidates`] spread; `None` without
/// thumbnails.
async fn chosen(store: &dyn BlobStore, input: &AssembleInput) -> Option<(usize, bool)> {
    let count = input.plan.thumb_count as usize;
    if count == 0 {
        return None;
    }
    let thumb_prefix = keys::work_thumb(&input.video_id, 0);
    let sizes = jpeg_sizes(store, prefix_of(&thumb_prefix)?, count).await?;
    let poster_prefix = keys::work_poster(&input.video_id, 0);
    let stored: BTreeSet<usize> = jpeg_sizes(store, prefix_of(&poster_prefix)?, count)
        .await
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter(|&(_, bytes)| bytes > 0)
        .map(|(k, _)| k)
        .collect();
    let k = if stored.is_empty() {
        let spread = PosterCandidates::spread(count as u32, (0, 0));
        pick(&sizes, |k| spread.includes(k as u32))?
    } else {
        pick(&sizes, |k| stored.contains(&k))?
    };
    info!(
        thumbnail = k,
        bytes = sizes[k],
        stored = stored.contains(&k),
        "poster frame chosen"
    );
    Some((k, stored.contains(&k)))
}

/// Makes `thumbnail/poster.jpg` from the most detailed candidate thumbnail's
/// full-size frame, which the slice stored; without it, decodes the source at
/// that thumbnail's time (10 % in, at most 10 s, without thumbnails), at the
/// first rung of 720p or less. Returns its key.
pub(crate) async fn poster(
    store: &dyn BlobStore,
    input: &AssembleInput,
    p: &Presentation,
) -> Result<String, AssembleError> {
    let key = keys::thumbnail(&input.video_id, "poster.jpg");
    let chosen = chosen(store, input).await;
    if let Some((k, true)) = chosen {
        let frame = store
            .get(&keys::work_poster(&input.video_id, k as u32))
            .await?;
        store.put(&key, frame).await?;
        return Ok(key);
    }
    let rung =
        poster_size(p.video.iter().map(|t| (t.rung.width, t.rung.height))).unwrap_or((640, 360));
    // `-ss` counts from the container's start.
    let at = match chosen {
        Some((k, _)) => k as f64 * input.sprite.interval_s,
        None => (p.duration_s * 0.1).min(10.0),
    };
    let tone = match input.tone_map {
        Some(t) if slicecast_media::colour::can_tone_map().await => {
            slicecast_media::colour::tone_map_filter(&t)
        }
        _ => String::new(),
    };
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("poster.jpg");
    let mut args = ffmpeg_prelude(&["-ss"]);
    args.push(os(format!("{at:.3}")));
    args.extend(slicecast_media::input::input_args(
        &input.source.location,
        Some(&input.source.format_name),
    ));
    args.extend([
        os("-map"),
        os("0:V:0"),
        os("-frames:v"),
        os("1"),
        os("-vf"),
        os(format!("{tone}scale={}:{},setsar=1", rung.0, rung.1)),
        os("-q:v"),
        os("3"),
    ]);
    args.push(out.clone().into_os_string());
    let res = ffmpeg(&args, "the poster").await;
    if res.is_err() || !out.exists() {
        // Seeking can overshoot a short or odd source; the first frame always exists.
        let pos = args.iter().position(|a| a == "-ss").unwrap_or(0);
        args.drain(pos..pos + 2);
        ffmpeg(&args, "the poster").await?;
    }
    store.put_file(&key, &out).await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::pick;
    use slicecast_core::thumbs::PosterCandidates;

    fn spread(sizes: &[u64]) -> Option<usize> {
        let c = PosterCandidates::spread(sizes.len() as u32, (0, 0));
        pick(sizes, |k| c.includes(k as u32))
    }

    #[test]
    fn the_most_detailed_thumbnail_of_the_first_half() {
        for (sizes, want) in [
            // A fade-in: the first frames are small files.
            (vec![300, 900, 4000, 5200, 5100, 5000, 9000, 9000], Some(3)),
            // Ties go to the earliest.
            (vec![10, 50, 50, 1], Some(1)),
            // Missing thumbnails are not candidates.
            (vec![0, 0, 0, 0], None),
            // The second half is not weighed (end credits, spoilers).
            (vec![0, 7], None),
            (vec![8], Some(0)),
            (vec![], None),
        ] {
            assert_eq!(spread(&sizes), want, "{sizes:?}");
        }
    }

    #[test]
    fn long_videos_weigh_a_bounded_spread() {
        // Two hours of thumbnails: 48 candidates over the first hour, the
        // detailed one among them found.
        let mut sizes = vec![1000; 7200];
        sizes[75 * 20] = 9000;
        sizes[3700] = 99_000;
        assert_eq!(spread(&sizes), Some(1500));
    }

    #[test]
    fn only_the_stored_frames_are_weighed_when_there_are_some() {
        let sizes = [300, 900, 4000, 5200, 5100];
        assert_eq!(pick(&sizes, |k| k == 1 || k == 4), Some(4));
        assert_eq!(pick(&sizes, |_| false), None);
    }
}
