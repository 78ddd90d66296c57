//! What the `ping-server` and `ping-client` binaries share beyond the
//! libraries: command-line value types, payloads, and the per-call report.

pub mod args;
pub mod payload;
pub mod report;
