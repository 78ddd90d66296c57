//! `make bench`: how fast thrift-frame is, measured against every peer and
//! against the physical floor (raw TCP on loopback), in one run.
//!
//! - [`baseline`]: the raw TCP exchange.
//! - [`measure`]: latency and throughput through the Rust client library.
//! - [`peers`]: peer servers and clients as processes (via interop/matrix.toml).
//! - [`pinning`]: clients on one CPU, servers on another, for the latency cells.
//! - [`reconnect`]: time from a restarted server to the first good call.
//! - [`report`] and [`plot`]: bench.json, bench.md, SVG plots, target verdicts.
//!
//! Nothing here asserts on time; the figures are reported as ratios.

pub mod baseline;
mod error;
pub mod measure;
pub mod peers;
pub mod pinning;
pub mod plot;
pub mod reconnect;
pub mod report;
pub mod stats;

pub use error::BenchError;
