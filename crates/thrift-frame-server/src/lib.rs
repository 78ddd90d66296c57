#![warn(missing_docs)]
//! A Thrift server for any service, that can be tested, stopped and attacked.
//!
//! [`Server::builder`] takes the processor `thrift --gen rs` generates for a
//! service (over the user's handler), or several registered under names for
//! a multiplexed server, and a listener the caller has already bound (tests
//! bind port 0 and know the port before a single byte is served); the server
//! then serves until a [`ShutdownSignal`] is triggered. [`serve`] does the
//! same in one call. It runs one of four [`ServerModel`]s (simple, a thread
//! per connection, a thread pool, or non-blocking: event loops for every
//! connection and a few workers for the processor), reads every
//! connection through the wire layer's size limits and timeouts, and closes
//! a misbehaving connection with one log line that says why, without
//! disturbing the others.
//!
//! What bounds a connection's cost:
//! - one file descriptor per connection, and at most
//!   [`ServerConfig::max_connections`] of them (by default derived from the
//!   descriptor limit); beyond that, and when descriptors run out, a new
//!   connection is accepted and closed at once, with a rate-limited log line;
//! - the idle timeout between calls, the stall timeout within a request, the
//!   request deadline from a request's first byte, and the write timeout
//!   per reply;
//! - a handler that panics costs its call (answered with INTERNAL_ERROR),
//!   not the worker or the connection;
//! - shutdown waits at most [`ServerConfig::shutdown_grace`] for calls in
//!   flight, then cuts what is left.
//! - the non-blocking model reads a request only while the bytes it holds
//!   for all connections together are under its `max_buffered_bytes`, and
//!   reads no further request on a connection until its reply is sent.

mod call_context;
mod config;
mod connection;
mod descriptors;
mod dispatch;
mod error;
mod nonblocking;
mod processor;
mod registry;
mod server;
mod shutdown;
mod stats;

pub use call_context::CallContext;
pub use config::{
    default_max_connections, ServerConfig, ServerModel, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use error::ServerError;
pub use processor::{multiplexed, NamedProcessor, SharedProcessor};
pub use server::{serve, Server, ServerBuilder};
pub use shutdown::ShutdownSignal;
pub use stats::{ServeReport, ServerMonitor};
pub use thrift_frame_wire::{
    HeaderExchange, Limits, Protocol, Transport, DEADLINE_HEADER, REQUEST_ID_HEADER,
};
