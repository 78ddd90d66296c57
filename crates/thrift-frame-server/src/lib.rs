//! A Thrift server for `PingService` and `Serv` that can be tested, stopped
//! and attacked.
//!
//! [`serve`] takes a listener the caller has already bound (tests bind port 0
//! and know the port before a single byte is served) and a [`ShutdownSignal`].
//! It runs one of three [`ServerModel`]s, reads every connection through the
//! wire layer's size limits and timeouts, and closes a misbehaving connection
//! with one log line that says why, without disturbing the others.

mod connection;
mod error;
mod handlers;
mod shutdown;

use std::collections::HashMap;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use log::{debug, info, warn};
use thrift_frame_wire::WireConfig;

use connection::{Connection, ConnectionState};
pub use error::ServerError;
pub use handlers::{
    PingHandler, Service, SharedProcessor, StudentHandler, PING_SERVICE_NAME, STUDENT_SERVICE_NAME,
};
pub use shutdown::ShutdownSignal;
pub use thrift_frame_wire::{Limits, Protocol, Transport};

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
    Pool { workers: usize, queue: usize },
}

impl ServerModel {
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
    pub wire: WireConfig,
    pub service: Service,
    pub model: ServerModel,
    /// How long a connection may sit between calls (None: forever).
    pub idle_timeout: Option<Duration>,
    /// How long a peer may go silent in the middle of a request.
    pub stall_timeout: Option<Duration>,
    /// How long sending a reply may block on a peer that does not read.
    pub write_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            wire: WireConfig::default(),
            service: Service::Ping,
            model: ServerModel::Threaded,
            idle_timeout: Some(Duration::from_secs(300)),
            stall_timeout: Some(Duration::from_secs(10)),
            write_timeout: Some(Duration::from_secs(10)),
        }
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), ServerError> {
        self.wire.limits.validate()?;
        if let ServerModel::Pool { workers: 0, .. } = self.model {
            return Err(ServerError::InvalidConfig(
                "a pool needs at least one worker".into(),
            ));
        }
        let zero = |t: Option<Duration>| t == Some(Duration::ZERO);
        if zero(self.idle_timeout) || zero(self.stall_timeout) || zero(self.write_timeout) {
            // The socket API reads a zero timeout as an error, not "none".
            return Err(ServerError::InvalidConfig(
                "timeouts must be positive (use None for no timeout)".into(),
            ));
        }
        Ok(())
    }
}

/// Counters a running server keeps; `serve` returns a snapshot.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub calls: AtomicU64,
    pub bad_connections: AtomicU64,
}

/// What a server did during its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeReport {
    pub connections: u64,
    pub refused: u64,
    pub calls: u64,
    pub bad_connections: u64,
}

impl ServerStats {
    fn report(&self) -> ServeReport {
        ServeReport {
            connections: self.connections.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
            bad_connections: self.bad_connections.load(Ordering::Relaxed),
        }
    }
}

/// Live connections, so the shutdown sweep can close the idle ones.
#[derive(Default)]
struct Registry {
    live: Mutex<HashMap<u64, (TcpStream, Arc<ConnectionState>)>>,
}

impl Registry {
    fn add(&self, id: u64, stream: &TcpStream, state: &Arc<ConnectionState>) {
        if let Ok(clone) = stream.try_clone() {
            self.lock().insert(id, (clone, state.clone()));
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (TcpStream, Arc<ConnectionState>)>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes every connection that is between calls; busy ones finish their
    /// call and then see the shutdown flag themselves.
    fn close_idle(&self) {
        for (stream, state) in self.lock().values() {
            if !state.busy.load(Ordering::SeqCst) {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// Everything a connection thread shares with the server.
struct Shared {
    processor: SharedProcessor,
    config: ServerConfig,
    shutdown: ShutdownSignal,
    stats: ServerStats,
    registry: Registry,
}

impl Shared {
    fn run(&self, conn: Connection) {
        let id = conn.id;
        conn.run(&self.processor, &self.config, &self.shutdown, &self.stats);
        self.registry.remove(id);
    }
}

/// Serves `config.service` on `listener` until `shutdown` is triggered, then
/// stops accepting, closes idle connections, lets in-flight calls finish and
/// returns what the server did.
pub fn serve(
    listener: TcpListener,
    shutdown: ShutdownSignal,
    config: ServerConfig,
) -> Result<ServeReport, ServerError> {
    config.validate()?;
    let local = listener
        .local_addr()
        .map_err(|e| ServerError::io("reading the listener's address", e))?;
    let shared = Arc::new(Shared {
        processor: config.service.processor()?,
        config,
        shutdown,
        stats: ServerStats::default(),
        registry: Registry::default(),
    });
    info!(
        "serving {:?} on {local}: {} protocol, {} transport, {} model",
        shared.config.service,
        shared.config.wire.protocol,
        shared.config.wire.transport,
        shared.config.model.name()
    );

    // The watcher turns the shutdown signal into action: it closes idle
    // connections and wakes the accept loop.
    let watcher = {
        let shared = shared.clone();
        let listener = listener
            .try_clone()
            .map_err(|e| ServerError::io("cloning the listener", e))?;
        thread::Builder::new()
            .name("shutdown-watcher".into())
            .spawn(move || {
                shared.shutdown.wait();
                shared.registry.close_idle();
                wake_accept(&listener);
            })
            .map_err(|e| ServerError::io("starting the shutdown watcher", e))?
    };

    let mut dispatcher = Dispatcher::new(&shared)?;
    let result = accept_loop(&listener, &shared, &mut dispatcher);
    // Stopping for any reason stops everything: release the watcher too.
    shared.shutdown.trigger();
    let _ = watcher.join();
    drop(listener);
    dispatcher.finish();
    let report = shared.stats.report();
    info!(
        "server on {local} stopped: {} connections, {} calls, {} refused, {} closed for bad input",
        report.connections, report.calls, report.refused, report.bad_connections
    );
    result.map(|()| report)
}

/// Makes a blocked `accept` return. On Linux, shutting down a listening
/// socket does exactly that; a connection to ourselves is the fallback.
fn wake_accept(listener: &TcpListener) {
    if shutdown_listener(listener) {
        return;
    }
    if let Ok(mut addr) = listener.local_addr() {
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    }
}

/// std offers no `shutdown` on a listener; a `TcpStream` made from a
/// duplicate of its descriptor reaches the same socket.
fn shutdown_listener(listener: &TcpListener) -> bool {
    use std::os::fd::AsFd;
    match listener.as_fd().try_clone_to_owned() {
        Ok(owned) => TcpStream::from(owned)
            .shutdown(std::net::Shutdown::Read)
            .is_ok(),
        Err(_) => false,
    }
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    dispatcher: &mut Dispatcher,
) -> Result<(), ServerError> {
    let mut next_id = 0u64;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if shared.shutdown.is_triggered() {
                    return Ok(());
                }
                next_id += 1;
                shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                debug!("conn#{next_id} {peer}: accepted");
                let state = Arc::new(ConnectionState::default());
                shared.registry.add(next_id, &stream, &state);
                dispatcher.dispatch(Connection {
                    id: next_id,
                    peer,
                    stream,
                    state,
                });
            }
            Err(_) if shared.shutdown.is_triggered() => return Ok(()),
            Err(e) if is_transient(&e) => {
                warn!("accept failed, continuing: {e}");
                // Out of descriptors or memory: give connections time to close
                // instead of spinning on the same error.
                thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(ServerError::io("accepting connections", e)),
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
    ) || matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}

/// Hands accepted connections to the threads of the chosen model.
enum Dispatcher {
    Simple(Arc<Shared>),
    Threaded {
        shared: Arc<Shared>,
        threads: Vec<JoinHandle<()>>,
    },
    Pool {
        shared: Arc<Shared>,
        sender: Option<mpsc::SyncSender<Connection>>,
        workers: Vec<JoinHandle<()>>,
        busy: Arc<AtomicUsize>,
        queued: Arc<AtomicUsize>,
        size: usize,
        queue: usize,
    },
}

impl Dispatcher {
    fn new(shared: &Arc<Shared>) -> Result<Self, ServerError> {
        Ok(match shared.config.model {
            ServerModel::Simple => Dispatcher::Simple(shared.clone()),
            ServerModel::Threaded => Dispatcher::Threaded {
                shared: shared.clone(),
                threads: Vec::new(),
            },
            ServerModel::Pool { workers, queue } => {
                // A rendezvous channel (queue 0) hands over only to an idle worker.
                let (sender, receiver) = mpsc::sync_channel::<Connection>(queue);
                let receiver = Arc::new(Mutex::new(receiver));
                let busy = Arc::new(AtomicUsize::new(0));
                let queued = Arc::new(AtomicUsize::new(0));
                let mut handles = Vec::with_capacity(workers);
                for n in 0..workers {
                    let (shared, receiver, busy, queued) = (
                        shared.clone(),
                        receiver.clone(),
                        busy.clone(),
                        queued.clone(),
                    );
                    let handle = thread::Builder::new()
                        .name(format!("pool-worker-{n}"))
                        .spawn(move || loop {
                            let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                            let Ok(conn) = next else { return };
                            queued.fetch_sub(1, Ordering::SeqCst);
                            busy.fetch_add(1, Ordering::SeqCst);
                            shared.run(conn);
                            busy.fetch_sub(1, Ordering::SeqCst);
                        })
                        .map_err(|e| ServerError::io("starting pool workers", e))?;
                    handles.push(handle);
                }
                Dispatcher::Pool {
                    shared: shared.clone(),
                    sender: Some(sender),
                    workers: handles,
                    busy,
                    queued,
                    size: workers,
                    queue,
                }
            }
        })
    }

    fn dispatch(&mut self, conn: Connection) {
        match self {
            Dispatcher::Simple(shared) => shared.run(conn),
            Dispatcher::Threaded { shared, threads } => {
                threads.retain(|t| !t.is_finished());
                let (id, peer) = (conn.id, conn.peer);
                let worker = shared.clone();
                let spawned = thread::Builder::new()
                    .name(format!("conn-{id}"))
                    .spawn(move || worker.run(conn));
                match spawned {
                    Ok(t) => threads.push(t),
                    Err(e) => {
                        shared.registry.remove(id);
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        warn!("conn#{id} {peer}: refused: cannot start a thread: {e}");
                    }
                }
            }
            Dispatcher::Pool {
                shared,
                sender,
                busy,
                queued,
                size,
                queue,
                ..
            } => {
                let Some(sender) = sender else { return };
                let (id, peer) = (conn.id, conn.peer);
                queued.fetch_add(1, Ordering::SeqCst);
                match sender.try_send(conn) {
                    Ok(()) => {
                        if busy.load(Ordering::SeqCst) >= *size {
                            info!(
                                "conn#{id} {peer}: all {size} workers busy; queued ({} waiting, queue limit {queue})",
                                queued.load(Ordering::SeqCst)
                            );
                        }
                    }
                    Err(TrySendError::Full(conn)) | Err(TrySendError::Disconnected(conn)) => {
                        queued.fetch_sub(1, Ordering::SeqCst);
                        shared.registry.remove(id);
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        warn!(
                            "conn#{id} {peer}: refused: all {size} workers busy and {queue} \
                             connections queued (raise --workers or --queue)"
                        );
                        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        }
    }

    /// Waits for every connection to end.
    fn finish(self) {
        match self {
            Dispatcher::Simple(_) => {}
            Dispatcher::Threaded { threads, .. } => {
                for t in threads {
                    let _ = t.join();
                }
            }
            Dispatcher::Pool {
                mut sender,
                workers,
                ..
            } => {
                // Closing the channel lets workers drain the queue and exit.
                sender.take();
                for w in workers {
                    let _ = w.join();
                }
            }
        }
    }
}
