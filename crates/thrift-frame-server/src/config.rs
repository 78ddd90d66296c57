//! What a server is told before it starts: model, wire, limits and timeouts.

use std::time::Duration;

use thrift_frame_wire::WireConfig;

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
}

impl ServerModel {
    /// The model's name as the command-line flag spells it.
    pub fn name(&self) -> &'static str {
        match self {
            ServerModel::Simple => "simple",
            ServerModel::Threaded => "threaded",
            ServerModel::Pool { .. } => "pool",
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
        if let ServerModel::Pool { workers: 0, .. } = self.model {
            return Err(ServerError::InvalidConfig(
                "a pool needs at least one worker".into(),
            ));
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

    /// The connection limit in force: the configured one or the default.
    pub fn connection_limit(&self) -> usize {
        self.max_connections.unwrap_or_else(default_max_connections)
    }
}
