//! What a server counts while it runs, and the view of it a caller may hold.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::registry::Registry;

/// Counters a running server keeps; `serve` returns a snapshot.
#[derive(Debug, Default)]
pub(crate) struct ServerStats {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub calls: AtomicU64,
    pub bad_connections: AtomicU64,
    pub panics: AtomicU64,
    pub cut_at_shutdown: AtomicU64,
    /// Non-blocking model: bytes of requests and replies held now.
    pub buffered_bytes: AtomicU64,
    pub peak_buffered_bytes: AtomicU64,
}

/// What a server did during its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServeReport {
    /// Connections accepted and served.
    pub connections: u64,
    /// Connections accepted and closed at once: the pool's queue was full,
    /// the connection limit was reached, or descriptors ran out.
    pub refused: u64,
    /// Calls answered.
    pub calls: u64,
    /// Connections closed because of what the peer sent (or did not send).
    pub bad_connections: u64,
    /// Calls whose handler panicked (answered with an INTERNAL_ERROR
    /// exception where the stream allowed it).
    pub panics: u64,
    /// Connections still in a call when the shutdown grace period ran out.
    pub cut_at_shutdown: u64,
    /// The most bytes of requests and replies the non-blocking model held
    /// at once (its `max_buffered_bytes` bounds what it reads); 0 for the
    /// other models, whose buffers are per connection.
    pub peak_buffered_bytes: u64,
}

impl ServerStats {
    pub(crate) fn report(&self) -> ServeReport {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ServeReport {
            connections: get(&self.connections),
            refused: get(&self.refused),
            calls: get(&self.calls),
            bad_connections: get(&self.bad_connections),
            panics: get(&self.panics),
            cut_at_shutdown: get(&self.cut_at_shutdown),
            peak_buffered_bytes: get(&self.peak_buffered_bytes),
        }
    }
}

/// A live view of a server, for metrics and for tests that must wait until
/// the server is in a given state instead of sleeping.
#[derive(Clone)]
pub struct ServerMonitor {
    pub(crate) stats: Arc<ServerStats>,
    pub(crate) registry: Arc<Registry>,
}

impl ServerMonitor {
    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.registry.len()
    }

    /// Connections in the middle of a request (from its first byte until
    /// its reply is sent) now.
    pub fn busy_connections(&self) -> usize {
        self.registry.busy()
    }

    /// Bytes of requests and replies the non-blocking model holds now
    /// (0 for the other models).
    pub fn buffered_bytes(&self) -> u64 {
        self.stats.buffered_bytes.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn report(&self) -> ServeReport {
        self.stats.report()
    }
}
