//! slicecast's performance tooling, apart from the product crates so that the
//! transcoder's build and review do not carry it; the `slicecast` binary still
//! offers it as subcommands:
//!
//! - [`bench`]: slicecast against a single-process ladder encode and the
//!   earlier service's pipeline, on the same machine in the same run;
//! - [`lambda_model`]: time-to-playable and cost of a long upload on AWS Lambda,
//!   modelled from figures measured here;
//! - [`load`]: upload many videos to a running `slicecast serve` and measure
//!   throughput and API latency.

pub mod bench;
pub mod lambda_model;
pub mod load;
