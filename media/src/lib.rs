//! slicecast-media: everything that runs ffmpeg or ffprobe.
//!
//! [`process`] runs a child with a timeout, `kill_on_drop` and a bounded stderr
//! tail; [`probe`] parses ffprobe's output (pure functions, tested on real
//! JSON) and runs it; [`args`] builds argument lists (pure, unit-tested);
//! [`input`] is the one policy for opening an upload (allowed protocols and
//! demuxers), used by every command that reads one; [`colour`] maps HDR
//! pictures to SDR.

pub mod args;
pub mod colour;
mod ffprobe_json;
pub mod input;
pub mod limits;
pub mod normalize;
pub mod probe;
pub mod process;
pub mod truncation;

pub use process::{ProcessError, run};

/// Name of the ffmpeg binary (overridable with `SLICECAST_FFMPEG`).
pub fn ffmpeg_bin() -> String {
    std::env::var("SLICECAST_FFMPEG").unwrap_or_else(|_| "ffmpeg".into())
}

/// Name of the ffprobe binary (overridable with `SLICECAST_FFPROBE`).
pub fn ffprobe_bin() -> String {
    std::env::var("SLICECAST_FFPROBE").unwrap_or_else(|_| "ffprobe".into())
}
