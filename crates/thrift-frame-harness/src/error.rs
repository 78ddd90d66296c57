//! What can go wrong while driving peer processes.

use std::io;
use std::path::PathBuf;

/// Why a harness operation failed. The first four variants are the
/// harness's own trouble (a program that will not start, a log that cannot
/// be written); the others say what the peer or the clock did, so a caller
/// can map them onto its own verdicts (`fail`, `timeout`, `unsupported`).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The error of the spawn.
        source: io::Error,
    },

    /// A signal could not be sent.
    #[error("cannot send {signal} to {label} (pid {pid}): {source}")]
    Signal {
        /// Its name, such as `SIGKILL`.
        signal: &'static str,
        /// The process, as its owner named it.
        label: String,
        /// Its pid.
        pid: u32,
        /// The error of kill(2).
        source: io::Error,
    },

    /// A file (a log, a copy of stdout) could not be written.
    #[error("cannot write {path}: {source}")]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },

    /// Another I/O operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },

    /// The deadline passed while waiting for what the message names.
    #[error("timed out {0}")]
    TimedOut(String),

    /// The interrupt flag was set (Ctrl-C or SIGTERM reached the caller).
    #[error("interrupted")]
    Interrupted,

    /// A peer exited 2 (usage: it cannot serve what it was asked to).
    #[error("{0}")]
    Unsupported(String),

    /// A peer broke its contract: it ended before `LISTENING`, printed a
    /// line that is not a call record, ...
    #[error("{0}")]
    PeerFailed(String),
}
