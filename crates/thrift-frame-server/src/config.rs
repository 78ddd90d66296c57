//! What a server is told before it starts: model, wire, limits and timeouts.

use std::time::Duration;

use thrift_frame_wire::{Protocol, Transport, WireConfig};

use crate::descriptors;
use crate::ServerError;

/// How connections are mapped to threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerModel {
    /// One connection at a time, on the accepting thread. Others wait in the
    /// kernel's backlog until the current one ends.
    Simple,
    /// A new thread for every connection.
    Threaded,
    /// `workers` threads serve connections; a connection holds its worker for
    /// its whole life. When all are busy, up to `queue` new connections wait
    /// (logged); beyond that a connection is refused: closed at once, logged.
    Pool {
        /// Worker threads.
        workers: usize,
        /// Connections that may wait for a worker.
        queue: usize,
    },
    /// Event loops over non-blocking sockets, as Thrift's
    /// TNonblockingServer: `io_threads` threads read requests and write
    /// replies for every connection, without a thread per connection; a
    /// complete request goes to one of `workers` threads that run the
    /// processor (0: the I/O thread runs it itself, the fastest for cheap
    /// handlers, but one slow call then delays every connection of that
    /// thread). Framed transport, and buffered with binary or compact
    /// (message ends are found by walking the message, see
    /// `thrift_frame_wire::MessageBoundary`).
    ///
    /// A connection has one request in flight: it is not read from again
    /// until its reply has been written, so a peer that sends without
    /// reading replies holds at most one request, one reply and one read
    /// of read-ahead. Across all connections, requests being received
    /// or processed and replies being sent may hold `max_buffered_bytes`;
    /// beyond that, connections wait before reading more.
    Nonblocking {
        /// Event-loop threads; the first also accepts connections.
        io_threads: usize,
        /// Threads that run the processor; 0 runs it on the I/O thread.
        workers: usize,
        /// Bytes of requests and replies held at once, all connections together.
        max_buffered_bytes: usize,
    },
}

impl ServerModel {
    /// I/O threads of the non-blocking model when none are given.
    pub const DEFAULT_IO_THREADS: usize = 1;
    /// Workers of the non-blocking model when none are given.
    pub const DEFAULT_NONBLOCKING_WORKERS: usize = 4;
    /// The non-blocking model's bound on buffered bytes when none is given.
    pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;

    /// The non-blocking model with its defaults.
    pub fn nonblocking() -> ServerModel {
        ServerModel::Nonblocking {
            io_threads: Self::DEFAULT_IO_THREADS,
            workers: Self::DEFAULT_NONBLOCKING_WORKERS,
            max_buffered_bytes: Self::DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

impl ServerModel {
    /// The model's name as the command-line flag spells it.
    pub fn name(&self) -> &'static str {
        match self {
            ServerModel::Simple => "simple",
            ServerModel::Threaded => "threaded",
            ServerModel::Pool { .. } => "pool",
            ServerModel::Nonblocking { .. } => "nonblocking",
        }
    }
}

/// Everything `serve` needs besides the listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Protocol, transport and size limits.
    pub wire: WireConfig,
    /// How connections map to threads.
    pub model: ServerModel,
    /// How long a connection may sit between calls (None: forever).
    pub idle_timeout: Option<Duration>,
    /// How long a peer may go silent in the middle of a request.
    pub stall_timeout: Option<Duration>,
    /// How long a whole request may take to arrive, from its first byte: a
    /// peer that trickles bytes never trips the stall timeout, this bounds it.
    pub request_timeout: Option<Duration>,
    /// How long sending one reply may take; a peer that does not read, or
    /// reads a trickle, is cut off after at most twice this.
    pub write_timeout: Option<Duration>,
    /// Connections open at once; one more is accepted and closed at once,
    /// with a log line. None: derived from the descriptor limit (see
    /// [`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// After shutdown is triggered, how long calls in flight may take to
    /// finish before their connections are cut.
    pub shutdown_grace: Duration,
    /// Log every message each way in TDebugProtocol's text, at trace level
    /// for target `thrift_frame::wire` (`thrift_frame_debug`), long strings
    /// cut; costs nothing unless that level is enabled.
    pub trace_wire: bool,
}

/// The request deadline when none is configured otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The shutdown grace period when none is configured otherwise.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            wire: WireConfig::default(),
            model: ServerModel::Threaded,
            idle_timeout: Some(Duration::from_secs(300)),
            stall_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            write_timeout: Some(Duration::from_secs(10)),
            max_connections: None,
            trace_wire: false,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Descriptors kept back from connections for the listener, logs, the
/// EMFILE reserve and whatever the embedding program opens.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The connection limit used when `max_connections` is None: the process's
/// soft descriptor limit less a reserve of 64 (a quarter of the limit when it
/// is below 256), since each connection costs the server one descriptor.
pub fn default_max_connections() -> usize {
    let limit = descriptors::soft_limit().unwrap_or(1024);
    let reserve = RESERVED_DESCRIPTORS.min(limit / 4);
    usize::try_from(limit.saturating_sub(reserve).max(1)).unwrap_or(usize::MAX)
}

impl ServerConfig {
    /// Checks the configuration for values the server cannot work with.
    pub fn validate(&self) -> Result<(), ServerError> {
        self.wire.limits.validate()?;
        self.wire
            .check(false)
            .map_err(|e| ServerError::InvalidConfig(e.to_string()))?;
        if let ServerModel::Pool { workers: 0, .. } = self.model {
            return Err(ServerError::InvalidConfig(
                "a pool needs at least one worker".into(),
            ));
        }
        if let ServerModel::Nonblocking {
            io_threads,
            max_buffered_bytes,
            ..
        } = self.model
        {
            self.validate_nonblocking(io_threads, max_buffered_bytes)?;
        }
        if self.max_connections == Some(0) {
            return Err(ServerError::InvalidConfig(
                "max connections must be at least 1".into(),
            ));
        }
        let zero = |t: Option<Duration>| t == Some(Duration::ZERO);
        if zero(self.idle_timeout)
            || zero(self.stall_timeout)
            || zero(self.write_timeout)
            || zero(self.request_timeout)
        {
            // The socket API reads a zero timeout as an error, not "none".
            return Err(ServerError::InvalidConfig(
                "timeouts must be positive (use None for no timeout)".into(),
            ));
        }
        Ok(())
    }

    fn validate_nonblocking(
        &self,
        io_threads: usize,
        max_buffered_bytes: usize,
    ) -> Result<(), ServerError> {
        let invalid = |why: String| Err(ServerError::InvalidConfig(why));
        if io_threads == 0 {
            return invalid("the non-blocking model needs at least one I/O thread".into());
        }
        let (protocol, transport) = (self.wire.protocol, self.wire.transport);
        match transport {
            Transport::Framed | Transport::Header => {}
            Transport::Buffered if protocol != Protocol::Json => {}
            Transport::Buffered => {
                return invalid(
                    "the non-blocking model serves json over framed transport only \
                     (it finds the ends of unframed binary and compact messages, not of json)"
                        .into(),
                )
            }
            other => {
                return invalid(format!(
                "the non-blocking model serves framed, header and buffered transport, not {other}"
            ))
            }
        }
        if max_buffered_bytes < self.wire.limits.max_message_size {
            return invalid(format!(
                "max buffered bytes {max_buffered_bytes} is less than the max message size {}: \
                 a request of that size could never be read",
                self.wire.limits.max_message_size
            ));
        }
        Ok(())
    }

    /// The connection limit in force: the configured one or the default.
    pub fn connection_limit(&self) -> usize {
        self.max_connections.unwrap_or_else(default_max_connections)
    }
}
