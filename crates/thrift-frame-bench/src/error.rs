use std::path::PathBuf;

use thrift_frame_client::ClientError;

/// What can stop a benchmark measurement.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A call through the Rust client failed; the whole source chain is kept.
    #[error("{what}: {source}")]
    Client {
        what: String,
        #[source]
        source: ClientError,
    },

    /// A peer process could not be started, signalled or read.
    #[error("{what}: {source}")]
    Peer {
        what: String,
        #[source]
        source: thrift_frame_harness::HarnessError,
    },

    /// A reply was wrong or a peer's output could not be used.
    #[error("{0}")]
    Invalid(String),

    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("drawing {path}: {message}")]
    Plot { path: PathBuf, message: String },
}

impl BenchError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        BenchError::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn client(what: impl Into<String>, source: ClientError) -> Self {
        BenchError::Client {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn peer(
        what: impl Into<String>,
        source: impl Into<thrift_frame_harness::HarnessError>,
    ) -> Self {
        BenchError::Peer {
            what: what.into(),
            source: source.into(),
        }
    }
}
