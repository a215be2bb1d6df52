//! Publishing the stream while it encodes: HLS EVENT playlists over the
//! contiguous run of finished slices from the start and the audio that covers
//! it, rewritten as more slices land. The final assembly then writes the VOD
//! playlists over the same URLs. Full sprite sheets are published as they
//! fill ([`crate::sprites::publish_full_sheets`]); the MPD and the poster
//! come only with the final assembly (see the README's design section).

use crate::{AssembleError, audio_track, put_text, video_tracks};
use slicecast_core::hls::{self, Listing};
use slicecast_core::job::{AudioResult, SliceResult};
use slicecast_core::ladder::Rung;
use slicecast_core::plan::SlicePlan;
use slicecast_core::presentation::{AudioTrack, Presentation, SegmentInfo, Track, VideoTrack};
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;

/// What plays so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyPrefix {
    /// The tracks, cut to what is ready.
    pub presentation: Presentation,
    /// Seconds from the start that play.
    pub ready_until_s: f64,
    /// Finished slices from the start.
    pub slices: u32,
    /// Thumbnails those slices stored (numbered from 0).
    pub thumbs: u32,
    /// `EXT-X-TARGETDURATION` of the video playlists: the longest segment the
    /// plan will produce, so it does not change as the playlists grow.
    pub video_target: u64,
}

/// The longest output segment the plan makes, as an HLS target duration.
pub fn planned_target_duration(plan: &SlicePlan) -> u64 {
    let longest = plan
        .slices
        .iter()
        .flat_map(|s| {
            let ends = s.segment_starts.iter().skip(1).chain([&s.end_pts]);
            s.segment_starts
                .iter()
                .zip(ends)
                .map(|(&a, &b)| plan.ticks(b).saturating_sub(plan.ticks(a)))
        })
        .max()
        .unwrap_or(0);
    let seg = SegmentInfo {
        number: 0,
        start: 0,
        duration: longest,
        bytes: 0,
    };
    hls::target_duration(&[seg], plan.timescale)
}

/// The audio segments that chain from segment 0 at time 0 through `parts`
/// (audio chunk results, in any order).
fn audio_from_start(parts: &[AudioResult]) -> Option<AudioTrack> {
    let mut parts: Vec<&AudioResult> = parts.iter().collect();
    parts.sort_by_key(|p| p.segments.first().map_or(u32::MAX, |s| s.number));
    let first = parts.first()?;
    let mut track = audio_track(first);
    track.segments.clear();
    let (mut number, mut start) = (0u32, 0u64);
    'parts: for p in parts {
        if (&p.codecs, p.timescale) != (&track.codecs, track.timescale) {
            break;
        }
        for s in &p.segments {
            if (s.number, s.start) != (number, start) {
                break 'parts;
            }
            track.segments.push(*s);
            number += 1;
            start += s.duration;
        }
    }
    (!track.segments.is_empty()).then_some(track)
}

fn end_s(segments: &[SegmentInfo], timescale: u32) -> f64 {
    segments.last().map_or(0.0, |s| {
        (s.start + s.duration) as f64 / f64::from(timescale.max(1))
    })
}

/// What of the video plays from the results so far: the finished slices from
/// slice 0 on, and, when the source has audio, the audio from its start,
/// both cut at the shorter of the two (whole segments only). `None` while
/// nothing plays yet (no first slice, or sound promised but none ready).
pub fn ready_prefix(
    plan: &SlicePlan,
    rungs: &[Rung],
    frame_rate: f64,
    slices: &[SliceResult],
    audio_parts: &[AudioResult],
    has_audio: bool,
) -> Result<Option<ReadyPrefix>, AssembleError> {
    let mut done: Vec<&SliceResult> = slices.iter().collect();
    done.sort_by_key(|s| s.index);
    let run: Vec<SliceResult> = done
        .into_iter()
        .enumerate()
        .take_while(|(i, s)| s.index == *i as u32)
        .map(|(_, s)| s.clone())
        .collect();
    if run.is_empty() {
        return Ok(None);
    }
    let mut video = video_tracks(rungs, &run, frame_rate, plan.timescale)?;
    let video_end = video
        .first()
        .map_or(0.0, |t| end_s(&t.segments, t.timescale));
    let mut audio = None;
    let mut horizon = video_end;
    if has_audio {
        let Some(a) = audio_from_start(audio_parts) else {
            return Ok(None);
        };
        horizon = horizon.min(end_s(&a.segments, a.timescale));
        audio = Some(a);
    }
    // Video segments that end by the horizon (a hair of slack for rounding).
    let slack = 1e-6;
    for t in &mut video {
        let ts = f64::from(t.timescale.max(1));
        t.segments
            .retain(|s| (s.start + s.duration) as f64 / ts <= horizon + slack);
    }
    let Some(kept_end) = video
        .first()
        .filter(|t| !t.segments.is_empty())
        .map(|t| end_s(&t.segments, t.timescale))
    else {
        return Ok(None);
    };
    // Audio segments that start before the kept picture ends.
    if let Some(a) = &mut audio {
        let ts = f64::from(a.timescale.max(1));
        a.segments.retain(|s| (s.start as f64 / ts) < kept_end);
    }
    let ready_until_s = audio
        .as_ref()
        .map_or(kept_end, |a| kept_end.min(end_s(&a.segments, a.timescale)));
    let duration_s = video
        .iter()
        .map(VideoTrack::duration_s)
        .chain(audio.iter().map(AudioTrack::duration_s))
        .fold(0.0, f64::max);
    Ok(Some(ReadyPrefix {
        presentation: Presentation {
            duration_s,
            video,
            audio,
            subtitles: Vec::new(),
        },
        ready_until_s,
        slices: run.len() as u32,
        thumbs: plan
            .slices
            .iter()
            .take(run.len())
            .map(|s| s.thumbs.len() as u32)
            .sum(),
        video_target: planned_target_duration(plan),
    }))
}

/// Writes the growing HLS playlists of `ready` (media playlists first, then
/// the master, so the master never names a playlist that is not there yet);
/// returns the master's key.
pub async fn publish_prefix(
    store: &dyn BlobStore,
    id: &VideoId,
    ready: &ReadyPrefix,
) -> Result<String, AssembleError> {
    let p = &ready.presentation;
    for t in &p.video {
        let listing = Listing::Growing {
            target: ready.video_target,
        };
        put_text(
            store,
            &keys::hls(id, &format!("{}.m3u8", t.rung.name)),
            hls::video_playlist_as(t, listing),
        )
        .await?;
    }
    if let Some(a) = &p.audio {
        // Audio fragments are all one length but the track's last: the
        // longest so far is the longest there will be.
        let listing = Listing::Growing {
            target: hls::target_duration(&a.segments, a.timescale),
        };
        put_text(
            store,
            &keys::hls(id, "audio.m3u8"),
            hls::audio_playlist_as(a, listing),
        )
        .await?;
    }
    let master = keys::hls(id, "master.m3u8");
    put_text(store, &master, hls::master_playlist(p)).await?;
    Ok(master)
}

#[cfg(test)]
mod tests;
