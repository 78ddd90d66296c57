//! The interop runner of thrift-frame: drives every peer's clients
//! (`ping-client`, `thrifttest-client`) against every peer's servers (interop/SPEC.md) across protocols,
//! transports, server models and cases, and reports the results.
//!
//! - [`model`]: the data: cases, cells, selections, and the matrix of what
//!   the peers can do (interop/matrix.toml).
//! - [`known`]: failures of other peers that are known and do not fail a run.
//! - [`cases`]: what each case does and checks, one file per case.
//! - [`run`]: one cell, and all cells in parallel.
//! - [`remote`]: the clients against servers already running elsewhere
//!   (containers), given as `name=host:port`.
//! - [`report`]: results.json, summary.md, index.html.
//! - [`netns`] and [`faults`]: the fault suite (`fault-suite`): peers in
//!   network namespaces of its own, faults applied in a router between them.
//!
//! Processes, ports and deadlines come from `thrift-frame-harness`, which
//! the benchmark and the CLI tests share.

pub mod cases;
mod error;
pub mod faults;
pub mod known;
pub mod model;
pub mod netns;
pub mod remote;
pub mod report;
pub mod run;

pub use error::{CaseError, Error};
