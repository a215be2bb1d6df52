//! slicecast-core: the pure heart of slicecast.
//!
//! Everything here is data in, data out: no processes, no I/O, no async.
//! Adapters (ffmpeg, storage, invokers) live in the other crates.

pub mod clock;
pub mod cmaf;
pub mod dash;
pub mod hls;
pub mod ids;
pub mod job;
pub mod keys;
pub mod ladder;
pub mod manifest;
pub mod plan;
pub mod presentation;
pub mod public;
pub mod source_info;
pub mod subtitles;
pub mod thumbs;
pub mod timeline;

pub use clock::now_ms;
pub use ids::VideoId;
