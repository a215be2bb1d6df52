//! Self-signed part URLs: like S3 presigned URLs, each carries its own
//! short-lived HMAC-SHA256 signature, so a part PUT needs no other credential.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a part URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `expires` or `signature` is missing from the URL.
    #[error("the part URL is not signed (expires and signature are required)")]
    Missing,
    /// The signature does not match.
    #[error("the part URL's signature is invalid")]
    Invalid,
    /// The URL's time is up.
    #[error("the part URL has expired; ask GET /multipart_upload/<uploadId> for fresh URLs")]
    Expired,
}

/// Signs and checks part URLs with a secret key.
#[derive(Clone)]
pub struct PartSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for PartSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartSigner(..)")
    }
}

impl PartSigner {
    /// A signer with a fresh random key (URLs die with the server).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self { key })
    }

    /// A signer with a given key (tests; several servers sharing URLs).
    pub fn with_key(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, upload_id: &str, part: u32, expires: u64) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{upload_id}\n{part}\n{expires}").as_bytes());
        mac
    }

    /// The hex signature of one part URL.
    pub fn sign(&self, upload_id: &str, part: u32, expires: u64) -> String {
        hex::encode(self.mac(upload_id, part, expires).finalize().into_bytes())
    }

    /// Checks a signature (in constant time) and its expiry at `now` (Unix s).
    pub fn verify(
        &self,
        upload_id: &str,
        part: u32,
        expires: Option<&str>,
        signature: Option<&str>,
        now: u64,
    ) -> Result<(), SignatureError> {
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(SignatureError::Missing);
        };
        let expires: u64 = expires.parse().map_err(|_| SignatureError::Invalid)?;
        let sig = hex::decode(signature).map_err(|_| SignatureError::Invalid)?;
        self.mac(upload_id, part, expires)
            .verify_slice(&sig)
            .map_err(|_| SignatureError::Invalid)?;
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = PartSigner::with_key([7; 32]);
        let id = "0123456789abcdef0123456789abcdef";
        let sig = s.sign(id, 3, 1000);
        assert_eq!(sig.len(), 64);
        assert_eq!(s.verify(id, 3, Some("1000"), Some(&sig), 999), Ok(()));
        assert_eq!(s.verify(id, 3, Some("1000"), Some(&sig), 1000), Ok(()));
        assert_eq!(
            s.verify(id, 3, Some("1000"), Some(&sig), 1001),
            Err(SignatureError::Expired)
        );
        // Any change to what is signed breaks it.
        assert_eq!(
            s.verify(id, 4, Some("1000"), Some(&sig), 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(id, 3, Some("2000"), Some(&sig), 0),
            Err(SignatureError::Invalid)
        );
        let other = "f123456789abcdef0123456789abcdef";
        assert_eq!(
            s.verify(other, 3, Some("1000"), Some(&sig), 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            PartSigner::with_key([8; 32]).verify(id, 3, Some("1000"), Some(&sig), 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(id, 3, Some("x"), Some(&sig), 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(id, 3, Some("1000"), Some("zz"), 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(id, 3, None, Some(&sig), 0),
            Err(SignatureError::Missing)
        );
        assert_ne!(
            PartSigner::random().expect("rng").sign(id, 3, 1000),
            PartSigner::random().expect("rng").sign(id, 3, 1000)
        );
    }
}
