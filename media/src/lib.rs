//! slicecast-media
