//! Frame indexes from ffprobe's text: packet lists (no decoding) and decoded
//! frame lists. Pure: text in, index out.

use slicecast_core::source_info::{FrameIndex, Rational, VideoStream};

/// Parses `ffprobe -show_entries packet=pts,dts,size,flags -of csv=p=0`
/// (ffprobe prints them in that order; `pts,flags` and `pts,dts,flags` are
/// read too) into a frame index, with each frame's size when every line has one. Packets flagged for discard are skipped. Returns the index and
/// how many packets it could not place: those without a pts (a dts says
/// when a frame is decoded, not when it is shown: MPEG-PS, raw MPEG video and
/// AVI leave pts out), and those whose pts repeats another's (one field of a
/// field-coded picture): only decoding tells where those frames are.
pub fn parse_packets(csv: &str, time_base: Rational) -> (FrameIndex, usize) {
    let mut packets = Vec::new();
    let mut missing = 0;
    let mut sized = true;
    for line in csv.lines() {
        let f = packet_fields(line);
        if f.len() < 2 || f[0].is_empty() {
            continue;
        }
        let (ts, flags) = (f[0].parse::<i64>().ok(), f[f.len() - 1]);
        if flags.contains('D') {
            continue;
        }
        let key = flags.starts_with('K') || flags == "1";
        // pts,dts,size,flags: the size is there when four columns are.
        let size = if f.len() >= 4 {
            f[2].parse().ok()
        } else {
            None
        };
        sized &= size.is_some();
        match ts {
            Some(t) => packets.push((t, key, size.unwrap_or(0))),
            None => missing += 1,
        }
    }
    let listed = packets.len();
    let leading = drop_leading_pictures(&mut packets);
    let mut index = FrameIndex::from_sized_packets(time_base, packets);
    if !sized {
        index.bytes.clear();
    }
    let repeated = listed - leading - index.len();
    (index, missing + repeated)
}

/// Drops the pictures no decoder shows: those before the first keyframe in
/// decode order (a capture that starts mid-GOP has no picture they build
/// on), and those after it that are shown before it (an open GOP's leading
/// pictures, which refer to the GOP before). Without any keyframe, none.
/// Returns how many it dropped. `packets` are (pts, key, size) in decode order.
fn drop_leading_pictures(packets: &mut Vec<(i64, bool, u32)>) -> usize {
    let Some(first_key) = packets.iter().position(|p| p.1) else {
        return 0;
    };
    let before = packets.len();
    let shown_from = packets[first_key].0;
    packets.drain(..first_key);
    packets.retain(|p| p.0 >= shown_from);
    before - packets.len()
}

/// The fields of one line of ffprobe's packet csv, flags last. A packet
/// with side data (every MPEG-TS packet has some) ends its line with an
/// empty field for it, which is dropped: it is not the flags.
fn packet_fields(line: &str) -> Vec<&str> {
    let mut f: Vec<&str> = line.trim().split(',').collect();
    while f.len() > 1 && f.last().is_some_and(|x| x.trim().is_empty()) {
        f.pop();
    }
    f
}

/// How many times the decode timestamps in `ffprobe -show_entries
/// packet=pts,dts,size,flags -of csv=p=0` restart (see
/// [`discontinuities`](slicecast_core::timeline::discontinuities)); packets
/// flagged for discard or without a dts are skipped.
pub fn packet_discontinuities(csv: &str, time_base: Rational) -> u32 {
    let dts: Vec<i64> = csv
        .lines()
        .filter_map(|line| {
            let f = packet_fields(line);
            if f.len() < 3 || f[f.len() - 1].contains('D') {
                return None;
            }
            f[1].parse().ok()
        })
        .collect();
    slicecast_core::timeline::discontinuities(&dts, time_base)
}

/// The index ffmpeg's decoder implies for a raw elementary stream that has
/// no timestamps: frame `n` (in decode order; such streams' keyframes are
/// where display order meets it) at `n` frame durations of the nominal
/// rate (25 fps when the stream names none), as `ffmpeg` numbers them when
/// it decodes the stream. Packets flagged for discard are skipped.
pub fn synthesized_index(csv: &str, stream: &VideoStream) -> FrameIndex {
    let tb = stream.time_base;
    let rate = stream
        .frame_rate
        .filter(|r| r.num > 0 && r.den > 0)
        .unwrap_or(Rational::new(25, 1));
    // Ticks per frame = (1 / rate) / tb, rounded; at least one.
    let per_frame = if tb.num > 0 && tb.den > 0 {
        let num = i128::from(rate.den) * i128::from(tb.den);
        let den = i128::from(rate.num) * i128::from(tb.num);
        i64::try_from((num + den / 2) / den).unwrap_or(1).max(1)
    } else {
        1
    };
    let packets = csv
        .lines()
        .filter_map(|line| {
            let f = packet_fields(line);
            let flags = f.last().filter(|_| f.len() >= 2)?;
            (!flags.contains('D')).then(|| flags.starts_with('K'))
        })
        .enumerate()
        .map(|(n, key)| ((n as i64).saturating_mul(per_frame), key))
        .collect();
    FrameIndex::from_packets(tb, packets)
}

/// Parses `ffprobe -show_entries frame=key_frame,best_effort_timestamp -of
/// compact=p=0` (decoded frames: `key_frame=1|best_effort_timestamp=48600`,
/// fields by name, since ffprobe prints them in its own order) into a frame
/// index; lines without both fields (side data) are skipped.
pub fn parse_frames(text: &str, time_base: Rational) -> FrameIndex {
    let frames: Vec<(Option<i64>, bool)> = text
        .lines()
        .filter_map(|line| {
            let field = |name: &str| {
                line.split('|')
                    .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
            };
            let ts = field("best_effort_timestamp")?;
            Some((ts.parse::<i64>().ok(), field("key_frame")? == "1"))
        })
        .collect();
    // A frame the decoder gives no timestamp (the last ones, flushed at the
    // end of a stream without pts) comes one typical frame after the one
    // before, as ffmpeg itself places it when it decodes.
    let known = FrameIndex::from_packets(
        time_base,
        frames.iter().filter_map(|&(t, k)| Some((t?, k))).collect(),
    );
    let step = known.frame_duration();
    let mut last = None;
    let placed = frames
        .into_iter()
        .filter_map(|(t, key)| {
            let t = t.or_else(|| last.map(|l: i64| l.saturating_add(step)))?;
            last = Some(t);
            Some((t, key))
        })
        .collect();
    FrameIndex::from_packets(time_base, placed)
}
