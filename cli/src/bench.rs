//! `slicecast bench` (being written).

use clap::Args;
use std::path::PathBuf;

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The video file.
    pub input: PathBuf,
}

/// Runs the benchmark.
pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
