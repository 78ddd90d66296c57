//! The one harness for peer processes that the interop runner, the fault
//! suite, the benchmark and the CLI tests share (interop/SPEC.md is the
//! contract the peers obey):
//!
//! - [`Process`]: a child in its own process group, killed and reaped on
//!   drop and when the parent dies;
//! - [`ServerProcess`]: ready once it printed `LISTENING <port>` and accepts
//!   a TCP connection, never after a sleep;
//! - [`ClientProcess`]: a `ping-client --json`, its call records read as
//!   they come ([`CallRecord`]); [`LineClient`] for one that prints text;
//! - [`Deadline`]: every wait is bounded, and an interrupt flag
//!   ([`interrupt_flag`]) cuts it short;
//! - [`PortReservation`] and [`restartable_port`]: ports that do not race;
//! - [`run_shell`] and [`run_capture`]: short commands run to their end.
//!
//! ```
//! use std::sync::{atomic::AtomicBool, Arc};
//! use std::time::Duration;
//! use thrift_frame_harness::{CommandLine, Deadline, HarnessError, ServerProcess};
//!
//! let log = std::env::temp_dir().join(format!("harness-doc-{}.log", std::process::id()));
//! // A "server" that exits 2 is a peer saying it cannot serve the request.
//! let usage = CommandLine::new("sh", ["-c", "echo 'no such model' >&2; exit 2"]);
//! let deadline = Deadline::after(Duration::from_secs(10), Arc::new(AtomicBool::new(false)));
//! match ServerProcess::start("server", &usage, &log, &deadline) {
//!     Err(HarnessError::Unsupported(why)) => assert!(why.contains("no such model")),
//!     other => panic!("expected Unsupported, got {:?}", other.err()),
//! }
//! ```
#![warn(missing_docs)]

mod client;
mod command;
mod deadline;
mod error;
mod lines;
mod network;
mod process;
mod server;
mod shell;

pub use client::{Call, CallRecord, ClientProcess, ClientRun, LineClient, LineRun};
pub use command::{CommandLine, Signal};
pub use deadline::{interrupt_flag, Deadline, POLL};
pub use error::HarnessError;
pub use lines::{Line, LineStream};
pub use network::{accepts_tcp, restartable_port, wait_for_tcp, PortReservation, HOST};
pub use process::{describe_exit, last_line, shorten, Process};
pub use server::ServerProcess;
pub use shell::{run_capture, run_shell};
