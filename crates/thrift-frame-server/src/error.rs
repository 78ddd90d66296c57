use std::io;

use thrift_frame_wire::WireError;

/// Why the server could not start or had to stop.
///
/// Problems with one connection are never errors of the server: they are
/// logged and that connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration makes no sense; the text says why.
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    /// Limits or names the wire layer rejects.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A socket or thread operation failed.
    #[error("{context}")]
    Io {
        /// What the server was doing.
        context: String,
        /// The error it got.
        #[source]
        source: io::Error,
    },
    /// The thrift crate refused something (e.g. a processor's registration).
    #[error("{context}")]
    Thrift {
        /// What the server was doing.
        context: String,
        /// The error it got.
        #[source]
        source: thrift::Error,
    },
}

impl ServerError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        ServerError::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether trying again (e.g. starting the server again) may succeed:
    /// I/O trouble may pass, a bad configuration never does.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ServerError::Io { .. })
    }
}
