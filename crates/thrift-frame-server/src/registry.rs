//! The live connections: counted for the connection limit, closed by the
//! shutdown sweep, and removed by a guard however a connection ends.

use std::collections::HashMap;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use thrift_frame_wire::SharedSocket;

/// What the registry and the shutdown sweep need to know about a connection.
#[derive(Debug, Default)]
pub(crate) struct ConnectionState {
    /// True from the first byte of a request until its reply is sent.
    pub busy: AtomicBool,
    /// Bytes read from the socket so far.
    pub bytes_read: AtomicU64,
    /// Set when the request deadline, not the stall timeout, ended a read.
    pub deadline_hit: AtomicBool,
}

struct Entry {
    socket: SharedSocket,
    state: Arc<ConnectionState>,
}

/// Live connections by id.
#[derive(Default)]
pub(crate) struct Registry {
    live: Mutex<HashMap<u64, Entry>>,
    /// Notified whenever a connection leaves.
    left: Condvar,
}

/// Removes its connection from the registry when dropped: at the end of the
/// connection, when it is refused, and when a panic unwinds through it.
pub(crate) struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
        self.registry.left.notify_all();
    }
}

impl Registry {
    pub(crate) fn add(
        self: &Arc<Self>,
        id: u64,
        socket: &SharedSocket,
        state: &Arc<ConnectionState>,
    ) -> Registration {
        let entry = Entry {
            socket: socket.clone(),
            state: state.clone(),
        };
        self.lock().insert(id, entry);
        Registration {
            registry: self.clone(),
            id,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections open now.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Connections in the middle of a request now.
    pub(crate) fn busy(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.state.busy.load(Ordering::SeqCst))
            .count()
    }

    /// Closes every connection that is between calls; busy ones finish their
    /// call and then see the shutdown flag themselves.
    pub(crate) fn close_idle(&self) {
        for entry in self.lock().values() {
            if !entry.state.busy.load(Ordering::SeqCst) {
                let _ = entry.socket.stream().shutdown(Shutdown::Both);
            }
        }
    }

    /// Closes every connection; returns how many there were.
    pub(crate) fn close_all(&self) -> usize {
        let live = self.lock();
        for entry in live.values() {
            let _ = entry.socket.stream().shutdown(Shutdown::Both);
        }
        live.len()
    }

    /// Waits until no connection is left or `deadline` passes; true if none is left.
    pub(crate) fn wait_until_empty(&self, deadline: Instant) -> bool {
        let mut live = self.lock();
        while !live.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            live = self
                .left
                .wait_timeout(live, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Waits until a connection leaves or `timeout` passes.
    pub(crate) fn wait_for_departure(&self, timeout: Duration) {
        let live = self.lock();
        let _ = self.left.wait_timeout(live, timeout);
    }
}
