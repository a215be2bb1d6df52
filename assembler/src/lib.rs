//! slicecast-assembler
