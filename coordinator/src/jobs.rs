//! The jobs of a planned video (pure): the audio parts, the slice jobs, the
//! progress units, and merging the audio chunks' results.

use crate::{Failure, Settings};
use slicecast_core::VideoId;
use slicecast_core::job::{
    AudioChunk, AudioJob, AudioResult, EncodeSettings, Job, SliceJob, SourceRef, ToneMap,
    audio_chunks,
};
use slicecast_core::ladder::Rung;
use slicecast_core::plan::SlicePlan;
use slicecast_core::source_info::Probe;

/// The audio jobs: none without audio, one for the whole track, or chunks.
pub(crate) fn audio_parts(
    probe: &Probe,
    plan: &SlicePlan,
    settings: &Settings,
) -> Vec<Option<AudioChunk>> {
    let Some(a) = &probe.audio else {
        return Vec::new();
    };
    let sample_rate = slicecast_media::args::audio_sample_rate(a.sample_rate);
    let duration = probe.duration_s.max(plan.duration_s());
    match settings
        .audio_chunks_for(duration)
        .and_then(|c| audio_chunks(duration, sample_rate, settings.segment_seconds, c))
    {
        Some(chunks) => chunks.into_iter().map(Some).collect(),
        None => vec![None],
    }
}

/// One audio result from the chunks' results, checking that they chain:
/// contiguous segment numbers from 0, each starting where the previous ends.
/// Chunks without segments (the sound ended before them) add nothing; a
/// track without any sound is no audio (`None`).
pub(crate) fn merge_audio(mut parts: Vec<AudioResult>) -> Result<Option<AudioResult>, Failure> {
    parts.retain(|p| !p.segments.is_empty());
    parts.sort_by_key(|p| p.segments.first().map_or(u32::MAX, |s| s.number));
    let Some(first) = parts.first() else {
        return Ok(None);
    };
    let mut merged = AudioResult {
        segments: Vec::new(),
        encode_ms: parts.iter().map(|p| p.encode_ms).max().unwrap_or(0),
        ..first.clone()
    };
    for p in &parts {
        if (&p.codecs, p.timescale, p.sample_rate)
            != (&merged.codecs, merged.timescale, merged.sample_rate)
        {
            return Err(Failure::Output(
                "the audio chunks were encoded differently".into(),
            ));
        }
        merged.segments.extend(p.segments.iter().cloned());
    }
    for (i, w) in merged.segments.windows(2).enumerate() {
        if w[1].number != w[0].number + 1 || w[1].start != w[0].start + w[0].duration {
            return Err(Failure::Output(format!(
                "the audio chunks do not fit together at audio segment {}",
                i + 1
            )));
        }
    }
    if merged
        .segments
        .first()
        .is_some_and(|s| s.number != 0 || s.start != 0)
    {
        return Err(Failure::Output(
            "the audio does not start at segment 0".into(),
        ));
    }
    Ok(Some(merged))
}

pub(crate) fn make_jobs(
    id: &VideoId,
    source: &SourceRef,
    probe: &Probe,
    plan: &SlicePlan,
    rungs: &[Rung],
    settings: &Settings,
    display: (u32, u32),
) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(plan.slices.len() + 1);
    let video_stream = probe.video.as_ref().map_or(0, |v| v.index);
    if let Some(a) = &probe.audio {
        for chunk in audio_parts(probe, plan, settings) {
            jobs.push(Job::Audio(AudioJob {
                video_id: id.clone(),
                source: source.clone(),
                audio_stream: a.index,
                origin_s: plan.origin_pts as f64 * plan.time_base.as_f64(),
                channels: if a.channels == 1 { 1 } else { 2 },
                sample_rate: slicecast_media::args::audio_sample_rate(a.sample_rate),
                bitrate: settings.audio_bitrate,
                segment_seconds: settings.segment_seconds,
                duration_s: probe.duration_s.max(plan.duration_s()),
                attempt: 1,
                chunk,
            }));
        }
    }
    let thumb_size =
        slicecast_core::thumbs::thumb_size(display.0, display.1, settings.sprite.width);
    // From the header's duration, not the plan's: a head start plans the
    // first slice from the first seconds and must make the same job.
    let interval = settings.sprite.interval_s;
    let poster = slicecast_core::thumbs::poster_size(rungs.iter().map(|r| (r.width, r.height)))
        .filter(|_| interval > 0.0 && probe.duration_s.is_finite())
        .map(|size| {
            let count = (probe.duration_s.max(0.0) / interval)
                .ceil()
                .min(f64::from(u32::MAX));
            slicecast_core::thumbs::PosterCandidates::spread(count as u32, size)
        });
    let video_delay_ticks = probe.audio.as_ref().map_or(0, |a| {
        slicecast_core::timeline::priming_ticks(
            slicecast_media::args::audio_sample_rate(a.sample_rate),
            plan.timescale,
        )
    });
    for s in &plan.slices {
        jobs.push(Job::Slice(SliceJob {
            video_id: id.clone(),
            source: source.clone(),
            video_stream,
            time_base: plan.time_base,
            timescale: plan.timescale,
            origin_pts: plan.origin_pts,
            slice: s.clone(),
            video_delay_ticks,
            rungs: rungs.to_vec(),
            settings: EncodeSettings {
                preset: settings.preset.clone(),
                crf: settings.crf,
                threads: settings.slice_threads(plan.slices.len()),
                deinterlace: probe.video.as_ref().is_some_and(|v| v.interlaced),
                thumb_size,
                poster,
                frame_size: probe.video.as_ref().map(|v| v.upright_size()),
                tone_map: probe.video.as_ref().and_then(ToneMap::of),
            },
            attempt: 1,
        }));
    }
    time_ordered(jobs, plan)
}

/// Where a job's output starts on the timeline, seconds: a slice at its first
/// frame, an audio chunk at its first kept fragment, the whole track at 0.
fn starts_at(job: &Job, plan: &SlicePlan) -> f64 {
    match job {
        Job::Slice(j) => plan.seconds(j.slice.start_pts),
        Job::Audio(j) => j.chunk.as_ref().map_or(0.0, |c| {
            (u64::from(c.first_fragment) * c.fragment_samples()) as f64
                / f64::from(j.sample_rate.max(1))
        }),
    }
}

/// The jobs in the order of the timeline (audio first where they start
/// together), so the pool, which takes jobs in order, finishes the start of
/// the video first.
fn time_ordered(mut jobs: Vec<Job>, plan: &SlicePlan) -> Vec<Job> {
    jobs.sort_by(|a, b| {
        starts_at(a, plan)
            .total_cmp(&starts_at(b, plan))
            .then_with(|| matches!(a, Job::Slice(_)).cmp(&matches!(b, Job::Slice(_))))
    });
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::plan::{PlanParams, plan_slices};
    use slicecast_core::presentation::SegmentInfo;
    use slicecast_core::source_info::{AudioStream, FrameIndex, Rational};

    #[test]
    fn jobs_follow_the_timeline_with_audio_chunks_between_the_slices() {
        // 120 s at 10 fps, a keyframe a second: 20 s slices, 30 s audio chunks.
        let index = FrameIndex {
            time_base: Rational::new(1, 10),
            pts: (0..1200).collect(),
            key: (0..1200).map(|i| i % 10 == 0).collect(),
            bytes: vec![],
        };
        let params = PlanParams {
            slice_seconds: 20.0,
            segment_seconds: 4.0,
            thumb_interval_seconds: 1.0,
            first_slice_seconds: None,
        };
        let plan = plan_slices(&index, &params).expect("plan");
        let probe = Probe {
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            duration_s: 120.0,
            start_time_s: 0.0,
            bit_rate: None,
            video: None,
            audio: Some(AudioStream {
                index: 1,
                codec: "aac".into(),
                sample_rate: 48_000,
                channels: 2,
                duration_s: Some(120.0),
                start_time_s: Some(0.0),
            }),
        };
        let source = SourceRef {
            location: "/in.mp4".into(),
            format_name: probe.format_name.clone(),
            start_time_s: 0.0,
        };
        let id = VideoId::parse("0123456789abcdef0123456789abcdef").expect("id");
        let order = |settings: &Settings| -> Vec<String> {
            make_jobs(&id, &source, &probe, &plan, &[], settings, (1280, 720))
                .iter()
                .map(|j| match j {
                    Job::Slice(j) => format!("s{}", j.slice.index),
                    Job::Audio(j) => {
                        format!("a{}", j.chunk.as_ref().map_or(0, |c| c.first_fragment))
                    }
                })
                .collect()
        };
        let whole = Settings {
            publish_while_encoding: false,
            ..Settings::default()
        };
        assert_eq!(order(&whole), ["a0", "s0", "s1", "s2", "s3", "s4", "s5"]);
        let chunked = Settings {
            audio_chunk_seconds: Some(30.0),
            ..Settings::default()
        };
        let got = order(&chunked);
        assert_eq!(&got[..2], ["a0", "s0"], "{got:?}");
        assert!(
            got.iter().filter(|j| j.starts_with('a')).count() > 1,
            "{got:?}"
        );
        assert!(got[2..].starts_with(&["s1".to_owned()]), "{got:?}");
        // Every job starts no earlier than the one before it.
        let jobs = make_jobs(&id, &source, &probe, &plan, &[], &chunked, (1280, 720));
        assert!(
            jobs.windows(2)
                .all(|w| starts_at(&w[0], &plan) <= starts_at(&w[1], &plan))
        );
    }

    /// Audio segments `numbers`, 100 ticks each, starting at `number * 100`.
    fn part(numbers: std::ops::Range<u32>) -> AudioResult {
        AudioResult {
            codecs: "mp4a.40.2".into(),
            sample_rate: 48_000,
            channels: 2,
            bitrate: 128_000,
            timescale: 48_000,
            segments: numbers
                .map(|number| SegmentInfo {
                    number,
                    start: u64::from(number) * 100,
                    duration: 100,
                    bytes: 1,
                })
                .collect(),
            encode_ms: 1,
            job_digest: String::new(),
        }
    }

    #[test]
    fn audio_chunks_merge_only_when_they_chain() {
        assert!(matches!(merge_audio(Vec::new()), Ok(None)));
        // Out of order, they are put in order and chain.
        let merged = merge_audio(vec![part(3..5), part(0..3)])
            .expect("chains")
            .expect("audio");
        let numbers: Vec<u32> = merged.segments.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4]);
        // A chunk after the sound ended adds nothing; no sound at all is no audio.
        let merged = merge_audio(vec![part(3..4), part(4..4), part(0..3)])
            .expect("chains")
            .expect("audio");
        assert_eq!(merged.segments.len(), 4);
        assert!(matches!(
            merge_audio(vec![part(0..0), part(0..0)]),
            Ok(None)
        ));

        let mut other = part(3..5);
        other.sample_rate = 44_100;
        let reason = |parts| merge_audio(parts).map_err(|e| e.to_string()).err();
        assert_eq!(
            reason(vec![part(0..3), other]).as_deref(),
            Some("the audio chunks were encoded differently")
        );
        assert_eq!(
            reason(vec![part(0..3), part(4..6)]).as_deref(),
            Some("the audio chunks do not fit together at audio segment 3")
        );
        let mut shifted = part(3..5);
        shifted.segments[0].start += 1;
        assert!(merge_audio(vec![part(0..3), shifted]).is_err());
        assert_eq!(
            reason(vec![part(1..3)]).as_deref(),
            Some("the audio does not start at segment 0")
        );
    }
}
