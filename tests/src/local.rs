//! Running the whole pipeline in this process, on shared or generated media.

use slicecast_coordinator::{CoordinatorError, LocalInvoker, Outcome, Settings, process_upload};
use slicecast_core::keys;
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Uploads `src` into an [`FsStore`] at `out` and processes it there with a
/// local worker pool.
pub async fn transcode(
    src: &Path,
    out: &Path,
    settings: &Settings,
) -> Result<Outcome, CoordinatorError> {
    let store = Arc::new(FsStore::new(out).expect("store"));
    let name = src
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    store
        .put_file(&keys::upload(&name), src)
        .await
        .expect("upload");
    let invoker = Arc::new(LocalInvoker::new(
        store.clone(),
        settings.workers,
        WorkerOptions::default(),
    ));
    process_upload(
        store,
        invoker,
        &keys::upload(&name),
        settings,
        Arc::new(|_| {}),
    )
    .await
}

/// Makes `dir/name` with ffmpeg (lavfi sources) for cases the shared media lacks.
pub fn generate(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg");
    assert!(ok.success(), "generating {name}");
    out
}

/// The variance of the luma of `image`'s first frame (0 for a flat
/// picture), read at 160 px wide.
pub fn luma_variance(image: &Path) -> anyhow::Result<f64> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(image)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=160:-2",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success() && !out.stdout.is_empty(),
        "decoding {}: {}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let n = out.stdout.len() as f64;
    let mean = out.stdout.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    Ok(out
        .stdout
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
}

/// An H.264 test pattern (`testsrc2`) of `size` (`WxH`) at 25 fps lasting
/// `seconds`, through `filter` when given, with an AAC tone when `tone`.
pub fn test_pattern(
    dir: &Path,
    name: &str,
    size: &str,
    seconds: u32,
    filter: Option<&str>,
    tone: bool,
) -> PathBuf {
    let video = format!("testsrc2=size={size}:rate=25:duration={seconds}");
    let audio = format!("sine=frequency=330:duration={seconds}");
    let mut args = vec!["-f", "lavfi", "-i", &video];
    if tone {
        args.extend(["-f", "lavfi", "-i", &audio, "-c:a", "aac", "-shortest"]);
    }
    if let Some(f) = filter {
        args.extend(["-vf", f]);
    }
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ]);
    generate(dir, name, &args)
}
