//! Signed playback (`SIGNED_PLAYBACK`): with it on, `/stream` serves a video's
//! objects only to a short-lived HMAC token bound to that video.
//!
//! The token travels in the path, `/stream/t/<token>/processed/<id>/…`, not in
//! a query string: an HLS or DASH player resolves the relative URIs inside a
//! playlist or MPD against the playlist's own path, so every variant
//! playlist, segment, subtitle and thumbnail the master leads to carries the
//! token too, with no rewriting of the stored documents (a query parameter
//! would be dropped at the first relative URI).

use crate::config::ApiConfig;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use slicecast_core::VideoId;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Default token lifetime (`PLAYBACK_TOKEN_TTL_SECONDS`): long enough to
/// watch a long film from one page load.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);

/// Hex digits of the MAC kept in a token (128 bits).
const MAC_HEX: usize = 32;

/// Why `/stream` refused a request (each a 403 with a sentence for a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    /// No token in the path.
    #[error("this video plays only through a signed link: ask the API for its playback URLs")]
    Missing,
    /// The token's time is up.
    #[error("this playback link has expired: reload the page or ask the API for fresh URLs")]
    Expired,
    /// Malformed, forged, or minted for another video.
    #[error("this playback link is not valid for this video")]
    Invalid,
}

/// Mints and checks playback tokens with a secret key.
#[derive(Clone)]
pub struct PlaybackSigner {
    key: [u8; 32],
    ttl: Duration,
}

impl std::fmt::Debug for PlaybackSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlaybackSigner(ttl {:?}, ..)", self.ttl)
    }
}

/// A token and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybackToken {
    /// The path segment after `/stream/t/`.
    pub token: String,
    /// Unix seconds after which the token is refused.
    pub expires_s: u64,
}

impl PlaybackSigner {
    /// A signer with a fresh random key: tokens die with the process (one
    /// local server).
    pub fn random(ttl: Duration) -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self::with_key(key, ttl))
    }

    /// A signer with a given key.
    pub fn with_key(key: [u8; 32], ttl: Duration) -> Self {
        Self {
            key,
            ttl: ttl.max(Duration::from_secs(2)),
        }
    }

    /// A signer whose key is derived from a shared secret (`PLAYBACK_SECRET`,
    /// or the API key): every instance of the api (Lambda runs many) then
    /// accepts the others' tokens.
    pub fn from_secret(secret: &str, ttl: Duration) -> Self {
        let mut mac = mac_with(secret.as_bytes());
        mac.update(b"slicecast playback key v1");
        Self::with_key(mac.finalize().into_bytes().into(), ttl)
    }

    /// How long a token lives at most.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn mac(&self, id: &VideoId, expires_s: u64) -> String {
        let mut mac = mac_with(&self.key);
        mac.update(format!("play\n{id}\n{expires_s}").as_bytes());
        let mut hex = hex::encode(mac.finalize().into_bytes());
        hex.truncate(MAC_HEX);
        hex
    }

    /// A token for `id` at Unix time `now_s`. Expiry times are rounded up to
    /// half-TTL steps, so every caller in one step gets the same token (lists
    /// stay cacheable); a token lives between TTL/2 and TTL.
    pub fn issue(&self, id: &VideoId, now_s: u64) -> PlaybackToken {
        let half = (self.ttl.as_secs() / 2).max(1);
        let expires_s = (now_s / half + 2) * half;
        PlaybackToken {
            token: format!("{expires_s}.{}", self.mac(id, expires_s)),
            expires_s,
        }
    }

    /// The step of [`PlaybackSigner::issue`] that `now_s` falls in (two
    /// times in one step get the same tokens).
    pub fn step(&self, now_s: u64) -> u64 {
        now_s / (self.ttl.as_secs() / 2).max(1)
    }

    /// Checks `token` (the path segment, untrusted) for `id` at `now_s`.
    pub fn verify(
        &self,
        token: Option<&str>,
        id: &VideoId,
        now_s: u64,
    ) -> Result<(), PlaybackError> {
        let token = token.ok_or(PlaybackError::Missing)?;
        let (exp, mac) = token.split_once('.').ok_or(PlaybackError::Invalid)?;
        if exp.is_empty()
            || exp.len() > 12
            || !exp.bytes().all(|b| b.is_ascii_digit())
            || mac.len() != MAC_HEX
        {
            return Err(PlaybackError::Invalid);
        }
        let expires_s: u64 = exp.parse().map_err(|_| PlaybackError::Invalid)?;
        let want = self.mac(id, expires_s);
        let same = want
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if !same {
            return Err(PlaybackError::Invalid);
        }
        if now_s >= expires_s {
            return Err(PlaybackError::Expired);
        }
        Ok(())
    }
}

fn mac_with(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    HmacSha256::new_from_slice(key).expect("HMAC takes any key length")
}

/// The system gave no random bytes for a playback key.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for the playback key: {0}")]
pub struct NoRandomness(getrandom::Error);

/// The signed-playback settings, shared by `slicecast serve` and the api
/// function.
#[derive(clap::Args, Debug, Clone)]
pub struct PlaybackArgs {
    /// Serve `/stream` only through short-lived tokens bound to one video
    /// (the page and authorised API callers get them).
    #[arg(long, env = "SIGNED_PLAYBACK", default_value_t = false, action = clap::ArgAction::Set)]
    pub signed_playback: bool,
    /// Longest life of a playback token, in seconds.
    #[arg(long, env = "PLAYBACK_TOKEN_TTL_SECONDS", default_value_t = DEFAULT_TOKEN_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(60..=30 * 86_400))]
    pub playback_token_ttl_seconds: u64,
    /// Secret the token key is derived from (several servers sharing tokens);
    /// default: derived from the API key, else random per process.
    #[arg(long, env = "PLAYBACK_SECRET", hide_env_values = true)]
    pub playback_secret: Option<String>,
}

impl PlaybackArgs {
    /// The signer these settings ask for (`None` with signed playback off).
    pub fn signer(&self, api_key: Option<&str>) -> Result<Option<PlaybackSigner>, NoRandomness> {
        if !self.signed_playback {
            return Ok(None);
        }
        let ttl = Duration::from_secs(self.playback_token_ttl_seconds);
        let secret = self
            .playback_secret
            .as_deref()
            .or(api_key)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        Ok(Some(match secret {
            Some(s) => PlaybackSigner::from_secret(s, ttl),
            None => PlaybackSigner::random(ttl).map_err(NoRandomness)?,
        }))
    }
}

/// Splits the raw path after `/stream/` into an optional token and the rest.
/// Tokens are an allow-list of characters; anything else is no token (and
/// the rest then fails key validation).
pub fn split_token(raw: &str) -> (Option<&str>, &str) {
    match raw.strip_prefix("t/").and_then(|r| r.split_once('/')) {
        Some((token, rest))
            if !token.is_empty()
                && token.len() <= 64
                && token.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.') =>
        {
            (Some(token), rest)
        }
        _ => (None, raw),
    }
}

/// Unix seconds now.
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Turns the API's paths into the URLs handed to one caller: with signed
/// playback on and an authorised caller, `/stream/processed/<id>/…` paths
/// gain that video's token.
#[derive(Debug, Clone, Copy)]
pub struct Urls<'a> {
    config: &'a ApiConfig,
    signer: Option<&'a PlaybackSigner>,
    now_s: u64,
}

impl<'a> Urls<'a> {
    /// URLs for a caller; `authorised` = the caller may have tokens.
    pub fn new(config: &'a ApiConfig, authorised: bool, now_s: u64) -> Self {
        Self {
            config,
            signer: config.playback.as_ref().filter(|_| authorised),
            now_s,
        }
    }

    /// The URL of an API path.
    pub fn url(&self, path: &str) -> String {
        self.config.url(&self.sign_path(path))
    }

    /// The token for `id` this caller gets, if any.
    pub fn token(&self, id: &VideoId) -> Option<PlaybackToken> {
        self.signer.map(|s| s.issue(id, self.now_s))
    }

    /// What makes two callers' URL lists differ (for caches): the token step,
    /// or 0 when no token is handed out.
    pub fn cache_salt(&self) -> u64 {
        self.signer.map_or(0, |s| s.step(self.now_s) + 1)
    }

    fn sign_path(&self, path: &str) -> String {
        let Some(rest) = path.strip_prefix("/stream/processed/") else {
            return path.to_owned();
        };
        let id = rest.split('/').next().and_then(|i| VideoId::parse(i).ok());
        match id.and_then(|id| self.token(&id)) {
            Some(t) => format!("/stream/t/{}/processed/{rest}", t.token),
            None => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: char) -> VideoId {
        VideoId::parse(&c.to_string().repeat(32)).expect("id")
    }

    #[test]
    fn tokens_bind_the_video_and_expire() {
        let s = PlaybackSigner::with_key([7; 32], Duration::from_secs(3600));
        let t = s.issue(&id('a'), 10_000);
        assert!(t.expires_s > 10_000 + 1800 && t.expires_s <= 10_000 + 3600);
        assert_eq!(s.issue(&id('a'), 10_001), t, "same step, same token");
        assert_eq!(s.verify(Some(&t.token), &id('a'), 10_000), Ok(()));
        assert_eq!(
            s.verify(Some(&t.token), &id('b'), 10_000),
            Err(PlaybackError::Invalid)
        );
        assert_eq!(
            s.verify(Some(&t.token), &id('a'), t.expires_s),
            Err(PlaybackError::Expired)
        );
        assert_eq!(s.verify(None, &id('a'), 0), Err(PlaybackError::Missing));
        let other = PlaybackSigner::with_key([8; 32], Duration::from_secs(3600));
        assert_eq!(
            other.verify(Some(&t.token), &id('a'), 10_000),
            Err(PlaybackError::Invalid)
        );
        // A later expiry with the old MAC is a forgery.
        let (_, mac) = t.token.split_once('.').expect("dot");
        let forged = format!("{}.{mac}", t.expires_s + 10_000);
        assert_eq!(
            s.verify(Some(&forged), &id('a'), 10_000),
            Err(PlaybackError::Invalid)
        );
        for bad in ["", ".", "1.", "x.abc", "99999999999999.00", "12.zz"] {
            assert_eq!(
                s.verify(Some(bad), &id('a'), 0),
                Err(PlaybackError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_shared_secret_gives_one_key() {
        let ttl = Duration::from_secs(60);
        let (a, b) = (
            PlaybackSigner::from_secret("k", ttl),
            PlaybackSigner::from_secret("k", ttl),
        );
        let t = a.issue(&id('c'), 5);
        assert_eq!(b.verify(Some(&t.token), &id('c'), 5), Ok(()));
        let c = PlaybackSigner::from_secret("other", ttl);
        assert!(c.verify(Some(&t.token), &id('c'), 5).is_err());
    }

    #[test]
    fn tokens_split_off_the_path() {
        let p = "processed/aa/hls/master.m3u8";
        assert_eq!(split_token(p), (None, p));
        assert_eq!(split_token(&format!("t/12.ab/{p}")), (Some("12.ab"), p));
        for odd in [
            "t/",
            "t//processed/x",
            "t/%2e%2e/processed/x",
            "t/a_b/processed/x",
        ] {
            assert_eq!(split_token(odd), (None, odd), "{odd}");
        }
    }

    #[test]
    fn urls_gain_tokens_only_for_authorised_callers() {
        let mut c = ApiConfig::default();
        let path = format!("/stream/processed/{}/hls/master.m3u8", id('d'));
        assert_eq!(Urls::new(&c, true, 100).url(&path), path);
        c.playback = Some(PlaybackSigner::with_key([1; 32], Duration::from_secs(600)));
        let signed = Urls::new(&c, true, 100).url(&path);
        assert!(signed.starts_with("/stream/t/"), "{signed}");
        assert!(signed.ends_with(&path["/stream/".len()..]), "{signed}");
        assert_eq!(Urls::new(&c, false, 100).url(&path), path);
        assert_eq!(Urls::new(&c, true, 100).url("/status/x"), "/status/x");
        assert_ne!(
            Urls::new(&c, true, 100).cache_salt(),
            Urls::new(&c, false, 100).cache_salt()
        );
    }
}
