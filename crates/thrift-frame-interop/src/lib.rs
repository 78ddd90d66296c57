//! The interop runner of thrift-frame: drives every peer's `ping-client`
//! against every peer's `ping-server` (interop/SPEC.md) across protocols,
//! transports, server models and cases, and reports the results.
//!
//! - [`matrix`]: what the peers can do (interop/matrix.toml) and the cells that follow.
//! - [`known`]: failures of other peers that are known and do not fail a run.
//! - [`process`]: child processes that are always killed and reaped.
//! - [`cases`]: what each case does and checks.
//! - [`run`]: one cell, and all cells in parallel.
//! - [`remote`]: the clients against servers already running elsewhere
//!   (containers), given as `name=host:port`.
//! - [`report`]: results.json, summary.md, index.html.
//! - [`netns`] and [`faults`]: the fault suite (`fault-suite`): peers in
//!   network namespaces of its own, faults applied in a router between them.

pub mod cases;
mod error;
pub mod faults;
pub mod known;
pub mod matrix;
pub mod netns;
pub mod process;
pub mod remote;
pub mod report;
pub mod run;

pub use error::{CaseError, Error};
