//! The poster: one full-size frame, chosen by content. The slices already
//! stored a thumbnail a second; the poster is made at the time of the most
//! detailed of them in the first half of the video, so a fade from black, a
//! blank title card or a dark opening is not what people see before they
//! press play.

use crate::{AssembleError, AssembleInput, ffmpeg, ffmpeg_prelude, os};
use slicecast_core::keys;
use slicecast_core::presentation::Presentation;
use slicecast_storage::BlobStore;
use tracing::info;

/// At most this many thumbnails are weighed (spread evenly).
const CANDIDATES: usize = 48;

/// The thumbnail to make the poster from, given each thumbnail's JPEG size
/// in bytes (`sizes[k]` for thumbnail `k`; 0 when missing): among up to
/// [`CANDIDATES`] spread over the first half of the video, the largest —
/// JPEG spends its bytes on detail and contrast, so a blank, dark or fading
/// frame is a small file. The earliest wins a tie.
pub fn pick(sizes: &[u64]) -> Option<usize> {
    let half = sizes.len().div_ceil(2);
    let step = half.div_ceil(CANDIDATES).max(1);
    (0..half)
        .step_by(step)
        .filter(|&k| sizes[k] > 0)
        .max_by_key(|&k| (sizes[k], std::cmp::Reverse(k)))
}

/// The seconds from the start of the thumbnail [`pick`] chooses, from the
/// thumbnails listed in the store; `None` when there are none.
async fn chosen_time(store: &dyn BlobStore, input: &AssembleInput, interval_s: f64) -> Option<f64> {
    let count = input.plan.thumb_count as usize;
    if count == 0 {
        return None;
    }
    let first = keys::work_thumb(&input.video_id, 0);
    let prefix = &first[..=first.rfind('/')?];
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
    let k = pick(&sizes)?;
    info!(thumbnail = k, bytes = sizes[k], "poster frame chosen");
    Some(k as f64 * interval_s)
}

/// Makes `thumbnail/poster.jpg` at the chosen time (10 % in, at most 10 s,
/// without thumbnails), at the first rung of 720p or less; returns its key.
pub(crate) async fn poster(
    store: &dyn BlobStore,
    input: &AssembleInput,
    p: &Presentation,
) -> Result<String, AssembleError> {
    let rung = p
        .video
        .iter()
        .find(|t| t.rung.width.min(t.rung.height) <= 720)
        .or(p.video.last())
        .map(|t| (t.rung.width, t.rung.height))
        .unwrap_or((640, 360));
    // `-ss` counts from the container's start.
    let at = match chosen_time(store, input, input.sprite.interval_s).await {
        Some(t) => t,
        None => (p.duration_s * 0.1).min(10.0),
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
        os(format!("scale={}:{},setsar=1", rung.0, rung.1)),
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
    let key = keys::thumbnail(&input.video_id, "poster.jpg");
    store.put_file(&key, &out).await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::pick;

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
            assert_eq!(pick(&sizes), want, "{sizes:?}");
        }
    }

    #[test]
    fn long_videos_weigh_a_bounded_spread() {
        // Two hours of thumbnails: 48 candidates over the first hour, the
        // detailed one among them found.
        let mut sizes = vec![1000; 7200];
        sizes[75 * 20] = 9000;
        sizes[3700] = 99_000;
        assert_eq!(pick(&sizes), Some(1500));
    }
}
