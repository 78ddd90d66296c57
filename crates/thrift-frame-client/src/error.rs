use std::time::Duration;

use thrift_frame_wire::describe;

/// What went wrong with a call, and whether trying it again could help.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The client's configuration makes no sense; nothing was sent.
    #[error("invalid client configuration: {0}")]
    InvalidConfig(String),

    /// Every connection of a [`SharedClient`](crate::SharedClient) stayed
    /// busy for as long as a call may take; nothing was sent.
    #[error(
        "all {connections} connections to {endpoint} stayed busy for {} ms",
        waited.as_millis()
    )]
    Busy {
        /// The server, as `host:port`.
        endpoint: String,
        /// The pool's size.
        connections: usize,
        /// How long the call waited for a connection.
        waited: Duration,
    },

    /// No connection could be opened within the backoff budget.
    #[error(
        "could not connect to {endpoint} after {attempts} attempts in {} ms: {}",
        elapsed.as_millis(), describe(source)
    )]
    ConnectFailed {
        /// The server, as `host:port`.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent trying.
        elapsed: Duration,
        /// The error that ended the last attempt or the call.
        #[source]
        source: thrift::Error,
    },

    /// The connection broke during an idempotent call and every retry on a
    /// fresh connection broke too.
    #[error(
        "{call} to {endpoint} failed after {attempts} attempts: {}",
        describe(source)
    )]
    ConnectionLost {
        /// The method called.
        call: &'static str,
        /// The server, as `host:port`.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The error that ended the last attempt or the call.
        #[source]
        source: thrift::Error,
    },

    /// The connection broke during a call that is not idempotent: the server
    /// may or may not have executed it, so it is not retried. The client has
    /// already thrown the broken connection away; the next call reconnects.
    #[error(
        "{call} to {endpoint}: outcome unknown, the connection broke mid-call and {call} \
         is never retried automatically: {}",
        describe(source)
    )]
    OutcomeUnknown {
        /// The method called.
        call: &'static str,
        /// The server, as `host:port`.
        endpoint: String,
        /// The error that ended the last attempt or the call.
        #[source]
        source: thrift::Error,
    },

    /// The server answered with an exception: a `TApplicationException`
    /// (unknown method, a handler's failure) as `thrift::Error::Application`,
    /// or one the IDL declares as `thrift::Error::User` (see
    /// [`ClientError::exception`]). The connection stays usable.
    #[error(
        "{call} to {endpoint}: the server answered with an error: {}",
        describe(source)
    )]
    Application {
        /// The method called.
        call: &'static str,
        /// The server, as `host:port`.
        endpoint: String,
        /// The error that ended the last attempt or the call.
        #[source]
        source: thrift::Error,
    },

    /// The reply could not be decoded: the peer speaks another protocol or
    /// transport, or sent more than our limits allow.
    #[error("{call} to {endpoint}: unreadable reply: {}", describe(source))]
    Protocol {
        /// The method called.
        call: &'static str,
        /// The server, as `host:port`.
        endpoint: String,
        /// The error that ended the last attempt or the call.
        #[source]
        source: thrift::Error,
    },
}

impl ClientError {
    /// Whether the same call may succeed if the caller tries it again later.
    ///
    /// Connection trouble may pass; a server's error, an unreadable reply or a
    /// bad configuration will not. `OutcomeUnknown` is not retryable: the
    /// caller must find out whether the first attempt took effect.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::ConnectFailed { .. }
                | ClientError::ConnectionLost { .. }
                | ClientError::Busy { .. }
        )
    }

    /// The exception of type `E` the IDL declares for the call, if that is
    /// what the server answered with.
    pub fn exception<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            ClientError::Application {
                source: thrift::Error::User(e),
                ..
            } => e.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// The underlying Thrift error, if any.
    pub fn thrift_error(&self) -> Option<&thrift::Error> {
        match self {
            ClientError::InvalidConfig(_) | ClientError::Busy { .. } => None,
            ClientError::ConnectFailed { source, .. }
            | ClientError::ConnectionLost { source, .. }
            | ClientError::OutcomeUnknown { source, .. }
            | ClientError::Application { source, .. }
            | ClientError::Protocol { source, .. } => Some(source),
        }
    }
}
