//! slicecast-segment-worker
