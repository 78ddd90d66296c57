//! The two kinds of trouble: [`Error`] is the runner's own (a bad data file,
//! a binary that will not start, a report that cannot be written) and stops
//! the run or the cell; [`CaseError`] is why one cell did not pass.

use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

use thrift_frame_harness::HarnessError;

/// Everything that can go wrong in the runner itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    ReadFile { path: PathBuf, source: io::Error },

    #[error("cannot write {path}: {source}")]
    WriteFile { path: PathBuf, source: io::Error },

    #[error("{path} is not valid TOML for this file: {source}")]
    ParseToml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },

    #[error("{path}: {message}")]
    InvalidMatrix { path: PathBuf, message: String },

    /// `entry` names it as "client -> server case".
    #[error("{path}: known failure #{number} ({entry}): {message}")]
    InvalidKnownFailure {
        path: PathBuf,
        number: usize,
        entry: String,
        message: String,
    },

    #[error("--{flag}: unknown {what} `{name}` (known: {known})")]
    UnknownSelection {
        flag: &'static str,
        what: &'static str,
        name: String,
        known: String,
    },

    /// A `--remote` server list, or a selection remote mode cannot run.
    #[error("remote mode: {0}")]
    Remote(String),

    /// A command the runner was given (`--kill-cmd`, `--restart-cmd`) failed.
    #[error("`{command}` {outcome}: {why}")]
    CommandFailed {
        command: String,
        outcome: String,
        why: String,
    },

    /// Driving a process failed on the runner's side (spawn, signal, log).
    #[error(transparent)]
    Harness(HarnessError),

    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },

    /// templates/index.html did not render (a bug in the template).
    #[error("cannot render index.html: {0}")]
    Template(String),

    #[error("cannot encode the results as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Why a cell did not pass; each maps to one status in the report.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The peers misbehaved: status `fail` (or `known_failure`).
    #[error("{0}")]
    Failed(String),

    /// ThriftTest checks failed, in these methods only, every other method
    /// passing: status `fail`, or `known_failure` where an entry lists them.
    #[error("{message}")]
    FailedMethods {
        /// What failed, as for `Failed`.
        message: String,
        /// The methods whose checks failed.
        methods: BTreeSet<String>,
    },

    /// The case did not finish within its time: status `timeout`.
    #[error("timed out {0}")]
    TimedOut(String),

    /// A peer exited 2 (usage): status `unsupported`.
    #[error("{0}")]
    Unsupported(String),

    /// Ctrl-C or SIGTERM reached the runner: the cell is dropped from the report.
    #[error("interrupted")]
    Interrupted,

    /// The runner could not do its part (spawn, signal, log file): status `fail`,
    /// with the message saying it was the runner.
    #[error("runner: {0}")]
    Runner(#[from] Error),
}

impl From<HarnessError> for CaseError {
    /// What the peer or the clock did becomes the cell's verdict; the
    /// harness's own trouble is the runner's.
    fn from(error: HarnessError) -> Self {
        match error {
            HarnessError::TimedOut(what) => CaseError::TimedOut(what),
            HarnessError::Interrupted => CaseError::Interrupted,
            HarnessError::Unsupported(why) => CaseError::Unsupported(why),
            HarnessError::PeerFailed(why) => CaseError::Failed(why),
            other => CaseError::Runner(Error::Harness(other)),
        }
    }
}
