//! Just enough ISO-BMFF to turn ffmpeg's fragmented MP4 into CMAF segments on a
//! global timeline: split a file into its init segment (`ftyp`+`moov`) and its
//! fragments (`moof`+`mdat`), read each fragment's timing, and rewrite a
//! fragment's sequence number, decode time (`tfdt`) and composition offsets in place.

/// A malformed or unexpected MP4 structure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmafError {
    /// A box runs past the end of its parent.
    #[error("truncated box `{0}`")]
    Truncated(String),
    /// A required box is missing.
    #[error("missing box `{0}`")]
    Missing(&'static str),
    /// A value does not fit where it must be written.
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
}

mod boxes;
use boxes::{BoxRef, be4, be8, boxes, child, path, read_u32, version_flags};

/// A fragmented MP4 split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// `ftyp` + `moov`.
    pub init: Vec<u8>,
    /// Each fragment: optional `styp`, `moof`, `mdat` (and any boxes up to the next `moof`).
    pub fragments: Vec<&'a [u8]>,
}

/// Splits a fragmented MP4 file (as ffmpeg writes it with `empty_moov`) into
/// its init segment and fragments. Trailing `mfra` is dropped.
pub fn split(data: &[u8]) -> Result<Split<'_>, CmafError> {
    let top = boxes(data, 0..data.len())?;
    let mut init = Vec::new();
    let mut fragments = Vec::new();
    let mut frag_start: Option<usize> = None;
    let mut last_end = 0usize;
    for b in &top {
        match &b.kind {
            b"ftyp" | b"moov" => init.extend_from_slice(&data[b.start..b.end]),
            b"moof" | b"styp" => {
                if let Some(s) = frag_start.take() {
                    fragments.push(&data[s..last_end]);
                }
                frag_start = Some(b.start);
            }
            b"mfra" => {
                if let Some(s) = frag_start.take() {
                    fragments.push(&data[s..last_end]);
                }
            }
            _ => {}
        }
        if b.kind != *b"mfra" {
            last_end = b.end;
        }
    }
    if let Some(s) = frag_start {
        fragments.push(&data[s..last_end]);
    }
    if init.is_empty() {
        return Err(CmafError::Missing("moov"));
    }
    Ok(Split { init, fragments })
}

/// What the init segment says about its (single) track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitInfo {
    /// Media timescale (`mdhd`).
    pub timescale: u32,
    /// Default sample duration from `trex`.
    pub default_sample_duration: u32,
    /// RFC 6381 codec string (`avc1.PPCCLL`, `av01.P.LLT.DD` or `mp4a.40.N`), when recognised.
    pub codecs: Option<String>,
    /// True when the track has an edit list.
    pub has_edit_list: bool,
}

/// Reads the init segment.
pub fn init_info(init: &[u8]) -> Result<InitInfo, CmafError> {
    let top = boxes(init, 0..init.len())?;
    let moov = *top
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or(CmafError::Missing("moov"))?;
    let trak = child(init, &moov, b"trak")?.ok_or(CmafError::Missing("trak"))?;
    let mdhd = path(init, trak, &[b"mdia", b"mdhd"])?.ok_or(CmafError::Missing("mdhd"))?;
    let body = mdhd.body();
    let (version, _) = version_flags(init, &mdhd)?;
    let ts_at = body.start + if version == 1 { 4 + 16 } else { 4 + 8 };
    let timescale = read_u32(init, ts_at, body.end)?;
    let default_sample_duration = match path(init, moov, &[b"mvex", b"trex"])? {
        Some(trex) => read_u32(init, trex.body().start + 12, trex.end)?,
        None => 0,
    };
    let has_edit_list = child(init, &trak, b"edts")?.is_some();
    let stsd = path(init, trak, &[b"mdia", b"minf", b"stbl", b"stsd"])?
        .ok_or(CmafError::Missing("stsd"))?;
    let codecs = codec_string(&init[stsd.start..stsd.end]);
    Ok(InitInfo {
        timescale,
        default_sample_duration,
        codecs,
        has_edit_list,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// RFC 6381 codec string of the first sample entry in an `stsd` box.
fn codec_string(stsd: &[u8]) -> Option<String> {
    if let Some(at) = find(stsd, b"av1C") {
        // AV1-ISOBMFF §2.3: marker/version, then seq_profile (3 bits) and
        // seq_level_idx_0 (5), then seq_tier_0, high_bitdepth, twelve_bit.
        // The box's own bytes only: an empty av1C (a muxer that wrote the
        // header before the encoder's configuration) names no codec.
        let size = u32::from_be_bytes(stsd.get(at.checked_sub(4)?..at)?.try_into().ok()?) as usize;
        let c = stsd.get(at + 4..(at - 4 + size).min(stsd.len()))?;
        if c.len() < 3 || c[0] != 0x81 {
            return None;
        }
        let (profile, level) = (c[1] >> 5, c[1] & 0x1f);
        let tier = if c[2] & 0x80 != 0 { 'H' } else { 'M' };
        let depth = match (c[2] & 0x40 != 0, c[2] & 0x20 != 0) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        };
        return Some(format!("av01.{profile}.{level:02}{tier}.{depth:02}"));
    }
    if let Some(at) = find(stsd, b"avcC") {
        let c = stsd.get(at + 5..at + 8)?;
        let entry = if find(stsd, b"avc3").is_some() {
            "avc3"
        } else {
            "avc1"
        };
        return Some(format!("{entry}.{:02x}{:02x}{:02x}", c[0], c[1], c[2]));
    }
    if find(stsd, b"mp4a").is_some() {
        // The AudioSpecificConfig follows the DecoderSpecificInfo tag (0x05);
        // its first 5 bits are the audio object type.
        let esds = find(stsd, b"esds")?;
        let rest = &stsd[esds..];
        let dsi = rest.iter().position(|&b| b == 0x05)?;
        let mut i = dsi + 1;
        while rest.get(i).is_some_and(|b| b & 0x80 != 0) {
            i += 1;
        }
        let aot = rest.get(i + 1)? >> 3;
        return Some(format!("mp4a.40.{aot}"));
    }
    None
}

/// Timing of one fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentInfo {
    /// `mfhd` sequence number.
    pub sequence: u32,
    /// `tfdt` base media decode time.
    pub base_decode_time: u64,
    /// Samples in the fragment.
    pub samples: u32,
    /// Sum of the samples' durations.
    pub duration: u64,
    /// Composition offset of the first sample (0 when absent).
    pub first_composition_offset: i64,
}

struct Traf {
    tfhd: BoxRef,
    tfdt: Option<BoxRef>,
    truns: Vec<BoxRef>,
}

fn traf_of(data: &[u8]) -> Result<(BoxRef, Traf), CmafError> {
    let top = boxes(data, 0..data.len())?;
    let moof = *top
        .iter()
        .find(|b| &b.kind == b"moof")
        .ok_or(CmafError::Missing("moof"))?;
    let mfhd = child(data, &moof, b"mfhd")?.ok_or(CmafError::Missing("mfhd"))?;
    let traf = child(data, &moof, b"traf")?.ok_or(CmafError::Missing("traf"))?;
    let kids = boxes(data, traf.body())?;
    let tfhd = *kids
        .iter()
        .find(|b| &b.kind == b"tfhd")
        .ok_or(CmafError::Missing("tfhd"))?;
    let tfdt = kids.iter().find(|b| &b.kind == b"tfdt").copied();
    let truns = kids
        .iter()
        .filter(|b| &b.kind == b"trun")
        .copied()
        .collect();
    Ok((mfhd, Traf { tfhd, tfdt, truns }))
}

/// Per-sample fields of a `trun`: (offset of the first sample record, record size,
/// offset of the duration field in a record if present, offset of the cto field if present).
struct TrunLayout {
    version: u8,
    count: u32,
    first: usize,
    record: usize,
    duration_at: Option<usize>,
    cto_at: Option<usize>,
}

fn trun_layout(data: &[u8], trun: &BoxRef) -> Result<TrunLayout, CmafError> {
    let b = trun.body();
    let (version, flags) = version_flags(data, trun)?;
    let count = read_u32(data, b.start + 4, b.end)?;
    let mut first = b.start + 8;
    if flags & 0x1 != 0 {
        first += 4;
    }
    if flags & 0x4 != 0 {
        first += 4;
    }
    let mut record = 0;
    let mut duration_at = None;
    let mut cto_at = None;
    if flags & 0x100 != 0 {
        duration_at = Some(record);
        record += 4;
    }
    if flags & 0x200 != 0 {
        record += 4;
    }
    if flags & 0x400 != 0 {
        record += 4;
    }
    if flags & 0x800 != 0 {
        cto_at = Some(record);
        record += 4;
    }
    let records_end = (count as usize)
        .checked_mul(record)
        .and_then(|n| n.checked_add(first));
    if records_end.is_none_or(|e| e > b.end) {
        return Err(CmafError::Truncated("trun".into()));
    }
    Ok(TrunLayout {
        version,
        count,
        first,
        record,
        duration_at,
        cto_at,
    })
}

fn tfhd_default_duration(data: &[u8], tfhd: &BoxRef) -> Result<Option<u32>, CmafError> {
    let b = tfhd.body();
    let (_, flags) = version_flags(data, tfhd)?;
    let mut at = b.start + 8;
    if flags & 0x1 != 0 {
        at += 8;
    }
    if flags & 0x2 != 0 {
        at += 4;
    }
    if flags & 0x8 != 0 {
        return Ok(Some(read_u32(data, at, b.end)?));
    }
    Ok(None)
}

/// Reads a fragment's timing. `trex_duration` is the init segment's default sample duration.
pub fn fragment_info(data: &[u8], trex_duration: u32) -> Result<FragmentInfo, CmafError> {
    let (mfhd, traf) = traf_of(data)?;
    let sequence = read_u32(data, mfhd.body().start + 4, mfhd.end)?;
    let base_decode_time = match traf.tfdt {
        Some(t) => {
            let b = t.body();
            if version_flags(data, &t)?.0 == 1 {
                if b.start + 12 > b.end {
                    return Err(CmafError::Truncated("tfdt".into()));
                }
                u64::from_be_bytes(be8(data, b.start + 4))
            } else {
                u64::from(read_u32(data, b.start + 4, b.end)?)
            }
        }
        None => 0,
    };
    let default = tfhd_default_duration(data, &traf.tfhd)?.unwrap_or(trex_duration);
    let mut samples = 0u32;
    let mut duration = 0u64;
    let mut first_cto = None;
    for trun in &traf.truns {
        let l = trun_layout(data, trun)?;
        // Without per-sample fields a record is 0 bytes, so `count` is not
        // bounded by the data: multiply, do not loop.
        let trun_duration = match l.duration_at {
            Some(o) => (0..l.count as usize)
                .map(|i| u64::from(u32::from_be_bytes(be4(data, l.first + i * l.record + o))))
                .fold(0u64, u64::saturating_add),
            None => u64::from(default) * u64::from(l.count),
        };
        if first_cto.is_none() && l.count > 0 {
            first_cto = Some(match l.cto_at {
                Some(o) => {
                    let raw = u32::from_be_bytes(be4(data, l.first + o));
                    if l.version == 0 {
                        i64::from(raw)
                    } else {
                        i64::from(raw as i32)
                    }
                }
                None => 0,
            });
        }
        samples = samples
            .checked_add(l.count)
            .ok_or(CmafError::OutOfRange("sample count"))?;
        duration = duration
            .checked_add(trun_duration)
            .ok_or(CmafError::OutOfRange("fragment duration"))?;
    }
    Ok(FragmentInfo {
        sequence,
        base_decode_time,
        samples,
        duration,
        first_composition_offset: first_cto.unwrap_or(0),
    })
}

/// Rewrites a fragment in place: sequence number, base decode time, and every
/// composition offset lowered by `cto_shift` (switching `trun` to version 1,
/// whose offsets are signed, when there are offsets).
pub fn rewrite_fragment(
    data: &mut [u8],
    sequence: u32,
    base_decode_time: u64,
    cto_shift: i64,
) -> Result<(), CmafError> {
    let (mfhd, traf) = traf_of(data)?;
    let at = mfhd.body().start + 4;
    read_u32(data, at, mfhd.end)?;
    data[at..at + 4].copy_from_slice(&sequence.to_be_bytes());
    let tfdt = traf.tfdt.ok_or(CmafError::Missing("tfdt"))?;
    let b = tfdt.body();
    if version_flags(data, &tfdt)?.0 == 1 {
        if b.start + 12 > b.end {
            return Err(CmafError::Truncated("tfdt".into()));
        }
        data[b.start + 4..b.start + 12].copy_from_slice(&base_decode_time.to_be_bytes());
    } else {
        read_u32(data, b.start + 4, b.end)?;
        let v = u32::try_from(base_decode_time).map_err(|_| CmafError::OutOfRange("tfdt v0"))?;
        data[b.start + 4..b.start + 8].copy_from_slice(&v.to_be_bytes());
    }
    if cto_shift != 0 {
        for trun in &traf.truns {
            let l = trun_layout(data, trun)?;
            let Some(o) = l.cto_at else { continue };
            for i in 0..l.count as usize {
                let at = l.first + i * l.record + o;
                let raw = u32::from_be_bytes(be4(data, at));
                let old = if l.version == 0 {
                    i64::from(raw)
                } else {
                    i64::from(raw as i32)
                };
                let new = old
                    .checked_sub(cto_shift)
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or(CmafError::OutOfRange("composition offset"))?;
                data[at..at + 4].copy_from_slice(&new.to_be_bytes());
            }
            data[trun.body().start] = 1;
        }
    }
    Ok(())
}

/// A copy of a fragment whose last sample lasts `delta` ticks longer (or
/// shorter): how a slice's last frame is made to last until the next slice
/// starts, so the timeline has no hole where the source's frames do not sit
/// on a regular grid. When the `trun` has no per-sample durations (every
/// sample lasts the default), it gains them, and the sample data offsets
/// move by the bytes added. Errors if the last sample would not last at
/// least one tick.
pub fn extend_last_sample(
    data: &[u8],
    trex_duration: u32,
    delta: i64,
) -> Result<Vec<u8>, CmafError> {
    let top = boxes(data, 0..data.len())?;
    let moof = *top
        .iter()
        .find(|b| &b.kind == b"moof")
        .ok_or(CmafError::Missing("moof"))?;
    let traf = child(data, &moof, b"traf")?.ok_or(CmafError::Missing("traf"))?;
    let (_, t) = traf_of(data)?;
    let trun = *t
        .truns
        .iter()
        .rev()
        .find(|r| trun_layout(data, r).is_ok_and(|l| l.count > 0))
        .ok_or(CmafError::Missing("trun"))?;
    let l = trun_layout(data, &trun)?;
    let new_duration = |old: u32| {
        i64::from(old)
            .checked_add(delta)
            .filter(|&d| d >= 1)
            .and_then(|d| u32::try_from(d).ok())
            .ok_or(CmafError::OutOfRange("last sample duration"))
    };
    let last = l.first + (l.count as usize - 1) * l.record;
    if let Some(o) = l.duration_at {
        let mut out = data.to_vec();
        let old = u32::from_be_bytes(be4(data, last + o));
        out[last + o..last + o + 4].copy_from_slice(&new_duration(old)?.to_be_bytes());
        return Ok(out);
    }
    let (_, tfhd_flags) = version_flags(data, &t.tfhd)?;
    if tfhd_flags & 0x1 != 0 {
        // Offsets from an explicit base would not move with the data.
        return Err(CmafError::OutOfRange("explicit base data offset"));
    }
    if moof.header != 8 || traf.header != 8 || trun.header != 8 {
        return Err(CmafError::OutOfRange("64-bit box size"));
    }
    let default = tfhd_default_duration(data, &t.tfhd)?.unwrap_or(trex_duration);
    let added = 4 * l.count as usize;
    let grow = |b: &BoxRef, out: &mut Vec<u8>| -> Result<(), CmafError> {
        let size = u32::try_from(b.end - b.start + added)
            .map_err(|_| CmafError::OutOfRange("box size"))?;
        out[b.start..b.start + 4].copy_from_slice(&size.to_be_bytes());
        Ok(())
    };
    // The trun with a duration before every sample record.
    let body = trun.body();
    let mut new_trun = data[trun.start..l.first].to_vec();
    // The flags are the 3 bytes after the version; 0x100: durations present.
    new_trun[10] |= 0x01;
    for i in 0..l.count as usize {
        let d = if i + 1 == l.count as usize {
            new_duration(default)?
        } else {
            default
        };
        new_trun.extend_from_slice(&d.to_be_bytes());
        let rec = l.first + i * l.record;
        new_trun.extend_from_slice(&data[rec..rec + l.record]);
    }
    new_trun.extend_from_slice(&data[l.first + l.count as usize * l.record..body.end]);
    let mut out = data[..trun.start].to_vec();
    out.extend_from_slice(&new_trun);
    out.extend_from_slice(&data[trun.end..]);
    grow(&moof, &mut out)?;
    grow(&traf, &mut out)?;
    grow(&trun, &mut out)?;
    // Every trun's data offset (from the moof's start) moves past the bytes added.
    for r in &t.truns {
        let (_, flags) = version_flags(data, r)?;
        if flags & 0x1 == 0 {
            continue;
        }
        let at = r.body().start + 8;
        let at = if r.start > trun.start { at + added } else { at };
        let old = u32::from_be_bytes(be4(&out, at)) as i32;
        let new = i32::try_from(added)
            .ok()
            .and_then(|a| old.checked_add(a))
            .ok_or(CmafError::OutOfRange("data offset"))?;
        out[at..at + 4].copy_from_slice(&new.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
