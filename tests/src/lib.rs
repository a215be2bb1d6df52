//! End-to-end test helpers for slicecast.
