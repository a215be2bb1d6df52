//! slicecast-storage
