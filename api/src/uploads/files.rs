//! Blocking file helpers of [`super::LocalUploads`]: part file names, listing
//! and assembling parts, and guards that clean up after a failed request.

use super::PartInfo;
use crate::error::ApiError;
use md5::{Digest, Md5};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const COPY_BUF: usize = 1024 * 1024;

pub(super) fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> ApiError + '_ {
    move |e| ApiError::Internal(format!("{what}: {e}"))
}

/// Removes a temporary file when dropped, unless disarmed (a client that hangs
/// up mid-part leaves nothing behind).
pub(super) struct TempFile(pub(super) Option<PathBuf>);

impl TempFile {
    pub(super) fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Unmarks an upload as completing when dropped.
pub(super) struct Completing<'a>(
    pub(super) &'a std::sync::Mutex<HashSet<String>>,
    pub(super) String,
);

impl Drop for Completing<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(&self.1);
        }
    }
}

/// Parses a part file name `<nnnnn>.<md5>`.
pub(super) fn parse_part_file(name: &str) -> Option<(u32, String)> {
    let (n, md5) = name.split_once('.')?;
    let n: u32 = n.parse().ok()?;
    (n > 0 && md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (n, md5.to_owned()))
}

pub(super) fn part_file_name(n: u32, md5: &str) -> String {
    format!("{n:05}.{md5}")
}

/// The parts in `dir`, by number.
pub(super) fn list_parts_blocking(dir: &Path) -> std::io::Result<BTreeMap<u32, PartInfo>> {
    let mut out = BTreeMap::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some((number, etag)) = name.to_str().and_then(parse_part_file) else {
            continue;
        };
        let Ok(m) = entry.metadata() else { continue };
        out.insert(
            number,
            PartInfo {
                number,
                etag,
                size: m.len(),
            },
        );
    }
    Ok(out)
}

/// Concatenates `parts` into `out`, computing the MD5 on the way; fails past
/// `max` bytes.
pub(super) fn assemble_blocking(
    parts: &[PathBuf],
    out: &Path,
    max: u64,
) -> Result<([u8; 16], u64), ApiError> {
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut w = std::io::BufWriter::with_capacity(
        COPY_BUF,
        std::fs::File::create(out).map_err(io_err("creating the upload"))?,
    );
    let mut buf = vec![0u8; COPY_BUF];
    for p in parts {
        let mut f = std::fs::File::open(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ApiError::Conflict("a part was replaced while the upload was being completed; complete it again with the new ETag".into())
            } else {
                ApiError::Internal(format!("reading a part: {e}"))
            }
        })?;
        loop {
            let n = f.read(&mut buf).map_err(io_err("reading a part"))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max {
                return Err(ApiError::TooLarge(format!(
                    "the parts add up to more than this server accepts ({max} bytes)"
                )));
            }
            md5.update(&buf[..n]);
            w.write_all(&buf[..n])
                .map_err(io_err("writing the upload"))?;
        }
    }
    w.flush().map_err(io_err("writing the upload"))?;
    Ok((md5.finalize().into(), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_file_names() {
        let md5 = "0123456789abcdef0123456789abcdef";
        let name = part_file_name(7, md5);
        assert_eq!(name, format!("00007.{md5}"));
        assert_eq!(parse_part_file(&name), Some((7, md5.to_owned())));
        assert_eq!(parse_part_file("00007-abc"), None);
        assert_eq!(parse_part_file(&format!("00000.{md5}")), None);
        assert_eq!(parse_part_file("x.y"), None);
    }
}
