//! A corpus of hostile uploads, generated: files that name other files or URLs
//! (playlists, manifests, concat lists, stream descriptions), each named like a
//! video, plus a decoy the attacker wants to read and a listener that counts
//! the requests an upload makes. Every one must end `processing_failed` with
//! a sentence, read nothing it names, and request nothing.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One hostile upload.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// The name it is uploaded under (always a video's extension).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Words the failure must contain.
    pub says: &'static str,
}

/// A TCP listener on 127.0.0.1 that counts the connections made to it
/// (it answers none: any connection at all is a failure of the policy).
pub struct Tripwire {
    /// Its port.
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    /// Starts listening on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(200)));
                let _ = conn.read(&mut buf);
            }
        });
        Ok(Self { port, hits })
    }

    /// Connections made so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The decoy: a small MPEG-TS of a solid, unusual colour (magenta) at
/// `dir/decoy.ts`, outside any store. Its bytes must appear in no output.
pub fn decoy(dir: &Path) -> PathBuf {
    let out = dir.join("decoy.ts");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=magenta:s=160x120:r=10:d=3")
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts"])
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "making the decoy failed");
    out
}

fn hls(segment: &str) -> Vec<u8> {
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:3.0,\n{segment}\n#EXT-X-ENDLIST\n"
    )
    .into_bytes()
}

/// The corpus. `decoy` is the absolute path of the file an attacker wants;
/// `port` the [`Tripwire`]'s; `sibling` the name of another upload in the
/// same folder (read by a relative name).
pub fn corpus(decoy: &Path, port: u16, sibling: &str) -> Vec<Hostile> {
    let abs = decoy.display().to_string();
    let url = format!("http://127.0.0.1:{port}/segment.ts");
    let playlist = "HLS playlist";
    let concat = "concat list";
    let mut out = vec![
        Hostile {
            name: "holiday.mp4".into(),
            bytes: hls(&abs),
            says: playlist,
        },
        Hostile {
            name: "holiday-relative.mp4".into(),
            bytes: hls(&format!("../../../../../../../../..{abs}")),
            says: playlist,
        },
        Hostile {
            name: "holiday-http.mp4".into(),
            bytes: hls(&url),
            says: playlist,
        },
        Hostile {
            name: "holiday-key.mov".into(),
            bytes: format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXT-X-KEY:METHOD=AES-128,URI=\"{url}\"\n#EXTINF:3.0,\nfile://{abs}\n#EXT-X-ENDLIST\n"
            )
            .into_bytes(),
            says: playlist,
        },
        Hostile {
            name: "manifest.mp4".into(),
            bytes: format!(
                r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT3S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
 <Period><BaseURL>file://{abs}</BaseURL><AdaptationSet mimeType="video/mp2t"><Representation id="v" bandwidth="100000"><BaseURL>{url}</BaseURL></Representation></AdaptationSet></Period>
</MPD>
"#
            )
            .into_bytes(),
            says: "DASH manifest",
        },
        Hostile {
            name: "list-absolute.mp4".into(),
            bytes: format!("ffconcat version 1.0\nfile '{abs}'\n").into_bytes(),
            says: concat,
        },
        Hostile {
            name: "list-dotdot.mkv".into(),
            bytes: format!("ffconcat version 1.0\nfile '../../../../../../../..{abs}'\n")
                .into_bytes(),
            says: concat,
        },
        Hostile {
            name: "list-sibling.mp4".into(),
            bytes: format!("ffconcat version 1.0\nfile '{sibling}'\nfile '{url}'\n").into_bytes(),
            says: concat,
        },
        Hostile {
            name: "stream.mp4".into(),
            bytes: format!(
                "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video {port} RTP/AVP 96\na=rtpmap:96 H264/90000\n"
            )
            .into_bytes(),
            says: "network stream",
        },
    ];
    // A still image named like a video: not a video, and never an image sequence.
    out.push(Hostile {
        name: "frame%03d.mp4".into(),
        bytes: jpeg(),
        says: "still image",
    });
    out
}

fn jpeg() -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64"])
        .args(["-frames:v", "1", "-f", "mjpeg", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "making a jpeg failed");
    out.stdout
}

/// Fails when any file under `dir` contains `needle` (the decoy's bytes, say).
pub fn assert_nowhere(dir: &Path, needle: &[u8]) {
    fn walk(dir: &Path, needle: &[u8]) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, needle);
            } else if let Ok(bytes) = std::fs::read(&p) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds the decoy's bytes",
                    p.display()
                );
            }
        }
    }
    walk(dir, needle);
}

/// Fails when a text people can read shows a path, URL, host or credential.
pub fn assert_public(text: &str) {
    for bad in [
        "://",
        "X-Amz-",
        "/tmp",
        "/work",
        "/root",
        "127.0.0.1",
        "localhost",
    ] {
        assert!(!text.contains(bad), "{bad:?} in public text: {text}");
    }
}
