use std::io;

use thrift_frame_wire::WireError;

/// Why the server could not start or had to stop.
///
/// Problems with one connection are never errors of the server: they are
/// logged and that connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{context}")]
    Thrift {
        context: String,
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
