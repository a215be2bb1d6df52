//! Publishing while encoding, through the real pipeline: with slices finishing
//! out of order, every playlist published before the end lists only a run of
//! segments from the start, parses, and reads in ffprobe; the manifest says
//! when the video became playable; hls.js and Shaka Player play the published
//! start from a snapshot taken while it encoded; the final output is exact as
//! always.

use async_trait::async_trait;
use slicecast_assembler::{AssembleInput, Assembled, SpriteSettings};
use slicecast_coordinator::{
    Event, InvokeError, Invoker, LocalInvoker, ProgressFn, Settings, process_upload,
};
use slicecast_core::job::{Job, JobResult};
use slicecast_core::keys;
use slicecast_core::manifest::{Manifest, Status};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use slicecast_tests::{check_output, clip, count_packets};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Copies the directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// Plays the snapshot in `dir` (published while encoding) in hls.js and Shaka
/// Player from the start to `until` seconds.
fn play_growing(dir: &Path, until: f64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("players/play.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg("--dir")
        .arg(dir)
        .args(["--growing", "--until", &format!("{until:.2}")])
        .output()
        .expect("run node tests/players/play.mjs (install with scripts/install-deps.sh --test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "players on the growing playlists:\n{stdout}"
    );
    for case in ["hls.js+hls", "shaka+hls"] {
        assert!(
            stdout.contains(&format!("\"case\":\"{case}\",")),
            "{case} ran"
        );
    }
}

/// Runs jobs on `inner`, naming each job it is given, and holding the result
/// of slice `hold` (when set) back 4 s so later slices finish first.
struct Local {
    inner: LocalInvoker,
    hold: Option<u32>,
    calls: Mutex<Vec<String>>,
}

impl Local {
    fn new(inner: LocalInvoker, hold: Option<u32>) -> Self {
        Self {
            inner,
            hold,
            calls: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl Invoker for Local {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        self.invoke_reporting(job, &|_| {}).await
    }

    async fn invoke_reporting(
        &self,
        job: Job,
        progress: &ProgressFn,
    ) -> Result<JobResult, InvokeError> {
        let (name, slow) = match &job {
            Job::Slice(s) => (
                format!("slice {}", s.slice.index),
                self.hold == Some(s.slice.index),
            ),
            Job::Audio(a) => (
                format!("audio {}", a.chunk.map_or(0, |c| c.first_fragment)),
                false,
            ),
        };
        self.calls.lock().expect("lock").push(name);
        let result = self.inner.invoke_reporting(job, progress).await;
        if slow {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        result
    }

    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError> {
        self.inner.assemble(input).await
    }

    fn elastic(&self) -> bool {
        false
    }
}

/// What was published at one moment: the first rung's playlist and the manifest.
struct Seen {
    playlist: Option<String>,
    manifest: Manifest,
    /// Written for running slices' progress, with no job finished since.
    live: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_grow_from_the_start_while_slices_finish_out_of_order() {
    let src = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().to_owned();
    let store = Arc::new(FsStore::new(&root).expect("store"));
    let upload = keys::upload("sintel.mp4");
    store.put_file(&upload, &src).await.expect("upload");
    let invoker = Arc::new(Local::new(
        LocalInvoker::new(store.clone(), 3, WorkerOptions::default()),
        Some(1),
    ));
    let settings = Settings {
        workers: 3,
        slice_seconds: Some(8.0),
        preset: "ultrafast".into(),
        audio_chunk_seconds: Some(16.0),
        // Sheets of 4 thumbnails (one a second), so some fill while it encodes.
        sprite: SpriteSettings {
            columns: 4,
            rows: 1,
            ..SpriteSettings::default()
        },
        ..Settings::default()
    };
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let id_cell: Arc<Mutex<Option<PathBuf>>> = Arc::default();
    let (seen2, id2, root2) = (seen.clone(), id_cell.clone(), root.clone());
    let events = Arc::new(move |e: Event| match e {
        Event::Hashed(id) => *id2.lock().expect("lock") = Some(root2.join(keys::video_prefix(&id))),
        Event::JobDone { .. } | Event::Progress { .. } => {
            let live = matches!(e, Event::Progress { .. });
            let Some(video) = id2.lock().expect("lock").clone() else {
                return;
            };
            let read = |p: &Path| std::fs::read_to_string(p).ok();
            let manifest =
                read(&video.join("manifest.json")).and_then(|t| serde_json::from_str(&t).ok());
            if let Some(manifest) = manifest {
                let manifest: Manifest = manifest;
                let snapshot = video.with_file_name("growing-snapshot");
                if manifest.playable && manifest.status == Status::Processing && !snapshot.exists()
                {
                    for sub in ["hls", "video", "audio", "thumbnail"] {
                        if video.join(sub).exists() {
                            copy_tree(&video.join(sub), &snapshot.join(sub)).expect("snapshot");
                        }
                    }
                    let sheets = manifest.assets.sprites.len();
                    std::fs::write(snapshot.join("sheets"), sheets.to_string()).expect("snapshot");
                    std::fs::write(
                        snapshot.join("ready_until_s"),
                        format!("{}", manifest.ready_until_s.unwrap_or(0.0)),
                    )
                    .expect("snapshot");
                }
                let playlist = read(&video.join("hls/720p.m3u8"));
                seen2.lock().expect("lock").push(Seen {
                    playlist,
                    manifest,
                    live,
                });
            }
        }
        _ => {}
    });
    let outcome = process_upload(store, invoker, &upload, &settings, events)
        .await
        .expect("transcode");
    let m = outcome.manifest();
    assert_eq!(m.status, Status::ProcessingComplete);
    let video = root.join(keys::video_prefix(&m.video_id));
    let seen = seen.lock().expect("lock");
    let first = seen
        .iter()
        .position(|s| s.manifest.playable)
        .expect("playable before the end");
    let mut listed_before = 0;
    let mut checked_with_ffprobe = 0;
    let mut behind = false;
    for s in &seen[first..] {
        let text = s
            .playlist
            .as_deref()
            .expect("a playable video has its playlist");
        let m3u8_rs::Playlist::MediaPlaylist(p) =
            m3u8_rs::parse_playlist_res(text.as_bytes()).expect("parses")
        else {
            panic!("not a media playlist: {text}");
        };
        // A run from the start that only grows, and never past what is done.
        for (i, seg) in p.segments.iter().enumerate() {
            assert_eq!(seg.uri, format!("../video/720p/seg_{i}.m4s"), "{text}");
        }
        assert!(p.segments.len() >= listed_before, "{text}");
        listed_before = p.segments.len();
        let listed_s: f64 = p.segments.iter().map(|s| f64::from(s.duration)).sum();
        let ready = s.manifest.ready_until_s.expect("ready_until_s");
        assert!(
            listed_s <= ready + 0.1,
            "{listed_s} s listed, {ready} s ready"
        );
        assert!(s.manifest.assets.hls_master.is_some());
        if s.manifest.status == Status::Processing {
            assert_eq!(p.playlist_type, Some(m3u8_rs::MediaPlaylistType::Event));
            assert!(!p.end_list);
            let run = s
                .manifest
                .slice_starts_s
                .iter()
                .filter(|&&t| t < listed_s - 0.01)
                .count();
            behind |= s.manifest.progress.slices_done as usize > run;
            if checked_with_ffprobe < 2 {
                // The growing playlist reads: one packet a frame of what it
                // lists. ffprobe would wait for a live playlist to grow, so it
                // reads a copy closed with ENDLIST.
                let copy = video.join("hls/early.m3u8");
                std::fs::write(&copy, format!("{text}#EXT-X-ENDLIST\n")).expect("copy");
                let packets = count_packets(&copy).expect("ffprobe reads it");
                assert!(
                    (packets as f64 - listed_s * 24.0).abs() <= 2.0,
                    "{packets} for {listed_s} s"
                );
                checked_with_ffprobe += 1;
            }
        }
    }
    assert!(checked_with_ffprobe > 0, "nothing published while encoding");
    check_live_progress(&seen);
    assert!(
        behind,
        "slice 1 held back: some playlist lagged the finished slices"
    );
    let after = m.playable_after_ms.expect("playable_after_ms");
    assert!(
        after < m.timings.total_ms,
        "{after} ms vs {} ms",
        m.timings.total_ms
    );
    let _ = std::fs::remove_file(video.join("hls/early.m3u8"));
    check_output(&video, &src).expect("the final output is exact");
    let fin = std::fs::read_to_string(video.join("hls/720p.m3u8")).expect("final");
    assert!(fin.contains("#EXT-X-PLAYLIST-TYPE:VOD") && fin.ends_with("#EXT-X-ENDLIST\n"));

    let snapshot = video.with_file_name("growing-snapshot");
    let ready: f64 = std::fs::read_to_string(snapshot.join("ready_until_s"))
        .expect("a snapshot taken while encoding")
        .parse()
        .expect("seconds");
    assert!(ready > 2.0, "{ready} s ready");
    // Full sprite sheets went out with the first publish, each the very sheet
    // the final assembly wrote (sheets are served as immutable).
    let sheets: usize = std::fs::read_to_string(snapshot.join("sheets"))
        .expect("sheets")
        .parse()
        .expect("count");
    assert!(sheets >= 1, "no sprite sheet published while encoding");
    for i in 0..sheets {
        let name = format!("thumbnail/sprite_{i}.jpg");
        let early = std::fs::read(snapshot.join(&name)).expect("early sheet");
        let last = std::fs::read(video.join(&name)).expect("final sheet");
        assert!(early == last, "{name} changed after it was published");
    }
    let vtt = std::fs::read_to_string(snapshot.join("thumbnail/thumbnails.vtt")).expect("track");
    assert_eq!(vtt.matches("#xywh=").count(), sheets * 4, "{vtt}");
    play_growing(&snapshot, ready - 1.0);
}

/// The progress the manifest showed while encoding: a fraction that never
/// goes back and moves between slice completions (running slices report
/// their frames), elapsed time that grows, and an estimate of the time left.
fn check_live_progress(seen: &[Seen]) {
    let encoding: Vec<_> = seen
        .iter()
        .map(|s| s.manifest.progress)
        .filter(|p| p.slices_total > 0)
        .collect();
    for w in encoding.windows(2) {
        assert!(w[1].fraction >= w[0].fraction, "went back: {w:?}");
        assert!(w[1].elapsed_ms >= w[0].elapsed_ms, "{w:?}");
    }
    let moved = seen
        .windows(2)
        .any(|w| w[1].live && w[1].manifest.progress.fraction > w[0].manifest.progress.fraction);
    assert!(
        moved,
        "the fraction only moved when jobs finished: {encoding:?}"
    );
    assert!(
        encoding.iter().any(|p| p.eta_ms.is_some()),
        "no estimate of the time left: {encoding:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_upload_with_a_known_id_runs_each_job_once_and_stays_exact() {
    // As `serve` hands it over (the id hashed while receiving): the head
    // start and the whole examination run side by side. Whichever wins, no
    // job runs twice (an early attempt is adopted, not repeated) and the
    // output is exact.
    let dir = tempfile::tempdir().expect("tmp");
    let src =
        slicecast_tests::local::test_pattern(dir.path(), "long.mp4", "320x180", 150, None, true);
    let root = dir.path().join("store");
    let store = Arc::new(FsStore::new(&root).expect("store"));
    let upload = keys::upload("long.mp4");
    store.put_file(&upload, &src).await.expect("upload");
    let (id, size) = slicecast_coordinator::hash_object(store.as_ref(), &upload)
        .await
        .expect("hash");
    let invoker = Arc::new(Local::new(
        LocalInvoker::new(store.clone(), 2, WorkerOptions::default()),
        None,
    ));
    let settings = Settings {
        workers: 2,
        preset: "ultrafast".into(),
        ..Settings::default()
    };
    let outcome = slicecast_coordinator::process_hashed_upload(
        store,
        invoker.clone(),
        &upload,
        Some((id, size)),
        &settings,
        Arc::new(|_| {}),
    )
    .await
    .expect("transcode");
    let m = outcome.manifest();
    let mut calls = invoker.calls.lock().expect("lock").clone();
    let all = calls.len();
    calls.sort();
    calls.dedup();
    assert_eq!(calls.len(), all, "a job ran twice: {calls:?}");
    assert!(m.playable_after_ms.is_some(), "published while encoding");
    check_output(&root.join(keys::video_prefix(&m.video_id)), &src).expect("exact");
}
