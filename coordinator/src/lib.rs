//! slicecast-coordinator
