//! ISO-BMFF box walking: the box list of a byte range, big-endian fields, a
//! full box's version and flags, and child lookup by type path. Every read is
//! bounds-checked against the enclosing box, so hostile sizes are errors.

use super::CmafError;

/// One box: its type and the byte range of the whole box (header included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoxRef {
    pub(super) kind: [u8; 4],
    pub(super) start: usize,
    pub(super) header: usize,
    pub(super) end: usize,
}

impl BoxRef {
    pub(super) fn body(&self) -> std::ops::Range<usize> {
        self.start + self.header..self.end
    }
}

fn name(kind: [u8; 4]) -> String {
    String::from_utf8_lossy(&kind).into_owned()
}

/// Lists the boxes in `data[range]`.
pub(super) fn boxes(data: &[u8], range: std::ops::Range<usize>) -> Result<Vec<BoxRef>, CmafError> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos + 8 <= range.end {
        let size32 = u32::from_be_bytes(be4(data, pos));
        let kind = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
        let (size, header) = match size32 {
            0 => ((range.end - pos) as u64, 8),
            1 => {
                if pos + 16 > range.end {
                    return Err(CmafError::Truncated(name(kind)));
                }
                (u64::from_be_bytes(be8(data, pos + 8)), 16)
            }
            n => (u64::from(n), 8),
        };
        // A 64-bit size may be anything: checked, so it cannot wrap past the end.
        let end = (pos as u64).checked_add(size);
        let Some(end) = end.filter(|&e| size >= header as u64 && e <= range.end as u64) else {
            return Err(CmafError::Truncated(name(kind)));
        };
        out.push(BoxRef {
            kind,
            start: pos,
            header,
            end: end as usize,
        });
        pos = end as usize;
    }
    if pos != range.end {
        return Err(CmafError::Truncated("(trailing bytes)".into()));
    }
    Ok(out)
}

pub(super) fn be4(d: &[u8], at: usize) -> [u8; 4] {
    [d[at], d[at + 1], d[at + 2], d[at + 3]]
}
pub(super) fn be8(d: &[u8], at: usize) -> [u8; 8] {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    b
}
pub(super) fn read_u32(d: &[u8], at: usize, limit: usize) -> Result<u32, CmafError> {
    if at + 4 > limit {
        return Err(CmafError::Truncated("field".into()));
    }
    Ok(u32::from_be_bytes(be4(d, at)))
}

/// A full box's version and flags (its first 4 body bytes).
pub(super) fn version_flags(d: &[u8], b: &BoxRef) -> Result<(u8, u32), CmafError> {
    let body = b.body();
    let word = read_u32(d, body.start, body.end)?;
    Ok(((word >> 24) as u8, word & 0x00ff_ffff))
}

pub(super) fn child(
    data: &[u8],
    parent: &BoxRef,
    kind: &[u8; 4],
) -> Result<Option<BoxRef>, CmafError> {
    Ok(boxes(data, parent.body())?
        .into_iter()
        .find(|b| &b.kind == kind))
}

pub(super) fn path(
    data: &[u8],
    root: BoxRef,
    path: &[&[u8; 4]],
) -> Result<Option<BoxRef>, CmafError> {
    let mut cur = root;
    for kind in path {
        match child(data, &cur, kind)? {
            Some(b) => cur = b,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}
