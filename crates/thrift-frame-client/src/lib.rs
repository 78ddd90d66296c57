#![warn(missing_docs)]
//! A Thrift client that survives its server going away.
//!
//! [`ReconnectingClient`] owns the whole client stack (TCP socket, transports,
//! protocols, generated client) and builds it in one place. When a call fails
//! with a transport error, the stack is dropped as a whole: a used transport
//! is never re-opened. The next call, or the retry of an idempotent one,
//! builds a fresh stack, waiting between connection attempts according to
//! [`Backoff`].
//!
//! It works for any service: [`ReconnectingClient::new`] takes the generated
//! client's `new` function, and [`ReconnectingClient::call`] runs any method
//! of it, told whether that method is idempotent (or as a [`RetryPolicy`]
//! declares). [`SharedClient`] is the same for many threads at once.
//!
//! What is retried:
//! - connecting, with backoff, until the budget (attempts or deadline) runs out;
//! - idempotent calls, on a fresh connection after a transport error, up to
//!   `ClientConfig::max_call_attempts` attempts.
//!
//! What is never retried:
//! - a call that is not idempotent: once its connection broke, the server may
//!   or may not have executed it; the call fails with
//!   [`ClientError::OutcomeUnknown`], and the connection is aborted (RST) so
//!   the request cannot reach the server later;
//! - an exception from the server, or a reply that cannot be decoded.

mod backoff;
mod config;
mod connect;
mod error;
mod reconnecting;
mod retry;
mod shared;
mod stats;

pub use backoff::Backoff;
pub use config::ClientConfig;
pub use error::ClientError;
pub use reconnecting::ReconnectingClient;
pub use retry::{Idempotency, RetryPolicy};
pub use shared::SharedClient;
pub use stats::ClientStats;
pub use thrift_frame_wire::{
    HeaderTransform, InputProtocol, Limits, OutputProtocol, Protocol, Transport, WireConfig,
    DEADLINE_HEADER, REQUEST_ID_HEADER,
};
