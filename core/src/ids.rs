//! Video ids: the lowercase hex MD5 of the uploaded bytes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A video's id: 32 lowercase hex digits (the MD5 of its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VideoId(String);

/// The string given is not 32 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("not a video id (32 hex digits expected): {0:?}")]
pub struct InvalidVideoId(pub String);

impl VideoId {
    /// Parses an id, accepting upper- or lowercase hex and normalising to lowercase.
    pub fn parse(s: &str) -> Result<Self, InvalidVideoId> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(InvalidVideoId(s.to_owned()))
        }
    }

    /// Builds an id from a 16-byte digest.
    pub fn from_digest(digest: &[u8; 16]) -> Self {
        let mut s = String::with_capacity(32);
        for b in digest {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// The id as lowercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for VideoId {
    type Error = InvalidVideoId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<VideoId> for String {
    fn from(v: VideoId) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let id = VideoId::parse("D41D8CD98F00B204E9800998ECF8427E").expect("valid");
        assert_eq!(id.as_str(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(VideoId::parse("xyz").is_err());
        assert!(VideoId::parse("../../etc/passwd0000000000000000").is_err());
        assert_eq!(VideoId::from_digest(&[0xab; 16]).as_str(), "ab".repeat(16));
    }
}
