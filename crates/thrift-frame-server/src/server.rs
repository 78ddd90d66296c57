//! The accept loop, the connection limit, and the shutdown sequence.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use thrift::server::TProcessor;
use thrift_frame_wire::SharedSocket;

use crate::connection::Connection;
use crate::descriptors::{self, SpareDescriptor};
use crate::dispatch::Dispatcher;
use crate::nonblocking;
use crate::processor::{multiplexed, NamedProcessor, SharedProcessor};
use crate::registry::{ConnectionState, Registry};
use crate::stats::{ServeReport, ServerMonitor, ServerStats};
use crate::{ServerConfig, ServerError, ServerModel, ShutdownSignal};

/// Everything a connection thread shares with the server.
pub(crate) struct Shared {
    pub processor: SharedProcessor,
    pub config: ServerConfig,
    pub shutdown: ShutdownSignal,
    pub stats: Arc<ServerStats>,
    pub registry: Arc<Registry>,
}

impl Shared {
    pub(crate) fn run(&self, conn: Connection) {
        conn.run(&self.processor, &self.config, &self.shutdown, &self.stats);
    }
}

/// A server bound to its listener, ready to [`serve`](Server::serve).
///
/// ```
/// use std::net::TcpListener;
/// use std::sync::Arc;
/// use thrift_frame_server::{Server, ServerConfig, ShutdownSignal};
/// # // Stands in for a processor `thrift --gen rs` generates.
/// # struct KvSyncProcessor;
/// # impl thrift::server::TProcessor for KvSyncProcessor {
/// #     fn process(&self, _: &mut dyn thrift::protocol::TInputProtocol,
/// #                _: &mut dyn thrift::protocol::TOutputProtocol) -> thrift::Result<()> { Ok(()) }
/// # }
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let server = Server::with_processor(listener, ServerConfig::default(), Arc::new(KvSyncProcessor))?;
/// let monitor = server.monitor();
/// let shutdown = ShutdownSignal::new();
/// shutdown.trigger(); // a real program triggers it from a signal handler
/// let report = server.serve(shutdown)?;
/// assert_eq!(report.connections, 0);
/// assert_eq!(monitor.open_connections(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server {
    listener: TcpListener,
    processor: SharedProcessor,
    config: ServerConfig,
    stats: Arc<ServerStats>,
    registry: Arc<Registry>,
}

impl Server {
    /// A builder: config, then one processor or several registered under names.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// A server running `processor` (see also [`Server::builder`]).
    pub fn with_processor(
        listener: TcpListener,
        config: ServerConfig,
        processor: SharedProcessor,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        Ok(Server {
            listener,
            processor,
            config,
            stats: Arc::default(),
            registry: Arc::default(),
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener
            .local_addr()
            .map_err(|e| ServerError::io("reading the listener's address", e))
    }

    /// A live view of this server, valid before, during and after `serve`.
    pub fn monitor(&self) -> ServerMonitor {
        ServerMonitor {
            stats: self.stats.clone(),
            registry: self.registry.clone(),
        }
    }

    /// [`serve`](Self::serve) on a thread of its own; join it for the report.
    pub fn spawn(
        self,
        shutdown: ShutdownSignal,
    ) -> Result<thread::JoinHandle<Result<ServeReport, ServerError>>, ServerError> {
        thread::Builder::new()
            .name("thrift-frame-server".into())
            .spawn(move || self.serve(shutdown))
            .map_err(|e| ServerError::io("starting the server thread", e))
    }

    /// Serves until `shutdown` is triggered, then stops accepting, closes
    /// idle connections, gives calls in flight `config.shutdown_grace` to
    /// finish, cuts the connections still open after it, and returns what
    /// the server did.
    pub fn serve(self, shutdown: ShutdownSignal) -> Result<ServeReport, ServerError> {
        let local = self.local_addr()?;
        let limit = self.config.connection_limit();
        let Server {
            listener,
            processor,
            config,
            stats,
            registry,
        } = self;
        let shared = Arc::new(Shared {
            processor,
            config,
            shutdown,
            stats,
            registry,
        });
        info!(
            "serving on {local}: {} protocol, {} transport, {} model, at most {limit} connections",
            shared.config.wire.protocol,
            shared.config.wire.transport,
            shared.config.model.name()
        );

        let watcher = {
            let shared = shared.clone();
            let listener = listener
                .try_clone()
                .map_err(|e| ServerError::io("cloning the listener", e))?;
            thread::Builder::new()
                .name("shutdown-watcher".into())
                .spawn(move || watch_for_shutdown(&shared, &listener))
                .map_err(|e| ServerError::io("starting the shutdown watcher", e))?
        };

        let (result, dispatcher) = match shared.config.model {
            ServerModel::Nonblocking {
                io_threads,
                workers,
                max_buffered_bytes,
            } => {
                let threads = nonblocking::Threads {
                    io: io_threads,
                    workers,
                    max_buffered_bytes,
                };
                (nonblocking::serve(&listener, &shared, limit, threads), None)
            }
            _ => {
                let mut dispatcher = Dispatcher::new(&shared)?;
                let result = accept_loop(&listener, &shared, &mut dispatcher, limit);
                (result, Some(dispatcher))
            }
        };
        // Stopping for any reason stops everything: release the watcher too.
        shared.shutdown.trigger();
        let _ = watcher.join();
        drop(listener);
        // Cut connections end within moments; a handler that never returns
        // is left behind rather than holding the process.
        let all_ended = shared
            .registry
            .wait_until_empty(Instant::now() + CUT_CONNECTIONS_GRACE);
        if !all_ended {
            warn!(
                "{} connection(s) still running a handler after being cut; not waiting for them",
                shared.registry.len()
            );
        }
        if let Some(dispatcher) = dispatcher {
            dispatcher.finish(all_ended);
        }
        let report = shared.stats.report();
        info!(
            "server on {local} stopped: {} connections, {} calls, {} refused, {} closed for bad input",
            report.connections, report.calls, report.refused, report.bad_connections
        );
        result.map(|()| report)
    }
}

/// Builds a [`Server`] for any processor, or several under names.
///
/// ```
/// use std::net::TcpListener;
/// use std::time::Duration;
/// use thrift_frame_server::{Server, ServerConfig, ShutdownSignal};
/// # // Stand in for the processors `thrift --gen rs` generates: a user
/// # // writes `KvSyncProcessor::new(MyHandler)`.
/// # struct KvSyncProcessor;
/// # impl thrift::server::TProcessor for KvSyncProcessor {
/// #     fn process(&self, _: &mut dyn thrift::protocol::TInputProtocol,
/// #                _: &mut dyn thrift::protocol::TOutputProtocol) -> thrift::Result<()> { Ok(()) }
/// # }
/// # struct AdminSyncProcessor;
/// # impl thrift::server::TProcessor for AdminSyncProcessor {
/// #     fn process(&self, _: &mut dyn thrift::protocol::TInputProtocol,
/// #                _: &mut dyn thrift::protocol::TOutputProtocol) -> thrift::Result<()> { Ok(()) }
/// # }
///
/// let server = Server::builder()
///     .config(ServerConfig {
///         request_timeout: Some(Duration::from_secs(5)),
///         ..ServerConfig::default()
///     })
///     .processor(KvSyncProcessor)
///     .build(TcpListener::bind("127.0.0.1:0")?)?;
/// let shutdown = ShutdownSignal::new();
/// shutdown.trigger(); // a real program triggers it from a signal handler
/// server.serve(shutdown)?;
///
/// // Two services on one port, as "Kv:get", "Admin:stats", ...
/// let multiplexed = Server::builder()
///     .register("Kv", KvSyncProcessor)
///     .register("Admin", AdminSyncProcessor)
///     .build(TcpListener::bind("127.0.0.1:0")?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct ServerBuilder {
    config: ServerConfig,
    single: Option<SharedProcessor>,
    named: Vec<NamedProcessor>,
}

impl ServerBuilder {
    /// Models, wire, limits and timeouts (default: [`ServerConfig::default`]).
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Serves one service: its generated processor over the user's handler.
    pub fn processor<P: TProcessor + Send + Sync + 'static>(mut self, processor: P) -> Self {
        self.single = Some(Arc::new(processor));
        self
    }

    /// Serves a service under `name` behind a multiplexed processor; clients
    /// prefix their calls with `name:` (`TMultiplexedProtocol`). Register as
    /// many as needed; the names must differ.
    pub fn register<P: TProcessor + Send + Sync + 'static>(
        mut self,
        name: impl Into<String>,
        processor: P,
    ) -> Self {
        self.named.push((name.into(), Box::new(processor)));
        self
    }

    /// The server, on a listener the caller has bound.
    pub fn build(self, listener: TcpListener) -> Result<Server, ServerError> {
        let processor: SharedProcessor = match (self.single, self.named.is_empty()) {
            (Some(p), true) => p,
            (None, false) => multiplexed(self.named, None)?,
            (None, true) => {
                return Err(ServerError::InvalidConfig(
                    "no processor: call processor() or register()".into(),
                ))
            }
            (Some(_), false) => {
                return Err(ServerError::InvalidConfig(
                    "processor() serves one service, register() several: use one or the other"
                        .into(),
                ))
            }
        };
        Server::with_processor(listener, self.config, processor)
    }
}

/// How long cut connections get to notice before `serve` stops waiting.
pub(crate) const CUT_CONNECTIONS_GRACE: Duration = Duration::from_secs(1);

/// Serves `processor` on `listener` until `shutdown` is triggered, in the
/// style of mini-redis's `server::run(listener, shutdown)`; see
/// [`Server::serve`].
pub fn serve(
    listener: TcpListener,
    processor: SharedProcessor,
    config: ServerConfig,
    shutdown: ShutdownSignal,
) -> Result<ServeReport, ServerError> {
    Server::with_processor(listener, config, processor)?.serve(shutdown)
}

/// Turns the shutdown signal into action: closes idle connections, wakes
/// the accept loop, waits out the grace period, then cuts what is left.
fn watch_for_shutdown(shared: &Shared, listener: &TcpListener) {
    shared.shutdown.wait();
    shared.registry.close_idle();
    wake_accept(listener);
    let grace = shared.config.shutdown_grace;
    if !shared.registry.wait_until_empty(Instant::now() + grace) {
        let cut = shared.registry.close_all();
        shared
            .stats
            .cut_at_shutdown
            .store(cut as u64, Ordering::Relaxed);
        warn!(
            "shutdown grace period of {} ms is over: cut {cut} connection(s) still in a call",
            grace.as_millis()
        );
    }
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
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
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

/// A warning that is logged at most once per `interval`; the next line
/// says how many were left out in between.
pub(crate) struct RateLimitedWarning {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedWarning {
    pub(crate) fn new(interval: Duration) -> Self {
        RateLimitedWarning {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    pub(crate) fn warn(&mut self, message: impl FnOnce() -> String) {
        let due = match self.last {
            None => true,
            Some(last) => last.elapsed() >= self.interval,
        };
        if !due {
            self.suppressed += 1;
            return;
        }
        let more = match self.suppressed {
            0 => String::new(),
            n => format!(" ({n} more like this since the last such line)"),
        };
        warn!("{}{more}", message());
        self.last = Some(Instant::now());
        self.suppressed = 0;
    }
}

/// Shortest and longest wait before accepting again when the process is
/// out of descriptors and cannot even refuse.
pub(crate) const EXHAUSTED_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(5), Duration::from_millis(500));

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    dispatcher: &mut Dispatcher,
    limit: usize,
) -> Result<(), ServerError> {
    let mut next_id = 0u64;
    let mut spare = SpareDescriptor::new();
    let mut over_limit = RateLimitedWarning::new(Duration::from_secs(1));
    let mut exhausted = RateLimitedWarning::new(Duration::from_secs(1));
    let mut backoff = EXHAUSTED_BACKOFF.0;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if shared.shutdown.is_triggered() {
                    return Ok(());
                }
                backoff = EXHAUSTED_BACKOFF.0;
                let open = shared.registry.len();
                if open >= limit {
                    shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                    over_limit.warn(|| {
                        format!(
                            "{peer}: refused: {open} connections open, the limit \
                             (--max-connections) is {limit}"
                        )
                    });
                    drop(stream);
                    continue;
                }
                next_id += 1;
                shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                debug!("conn#{next_id} {peer}: accepted");
                let socket = SharedSocket::new(stream);
                let state = Arc::new(ConnectionState::default());
                let registration = shared.registry.add(next_id, &socket, &state);
                dispatcher.dispatch(Connection {
                    id: next_id,
                    peer,
                    socket,
                    state,
                    registration,
                });
            }
            Err(_) if shared.shutdown.is_triggered() => return Ok(()),
            Err(e) if descriptors::is_exhausted(&e) => {
                // The client behind this error waits in the backlog; with the
                // spare descriptor freed it can be accepted and told at once.
                let open = shared.registry.len();
                // The stream is closed inside, so the spare can be taken back.
                match spare.release_for(|| listener.accept().map(|(_stream, peer)| peer)) {
                    Some(Ok(peer)) => {
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        exhausted.warn(|| {
                            format!(
                                "{peer}: refused: out of file descriptors ({e}) with {open} \
                                 connections open; lower --max-connections or raise the limit"
                            )
                        });
                    }
                    _ => {
                        exhausted.warn(|| {
                            format!(
                                "cannot accept: out of file descriptors ({e}) with {open} \
                                 connections open; waiting for one to close"
                            )
                        });
                        shared.registry.wait_for_departure(backoff);
                        backoff = (backoff * 2).min(EXHAUSTED_BACKOFF.1);
                    }
                }
            }
            Err(e) if is_transient(&e) => {
                exhausted.warn(|| format!("accept failed, continuing: {e}"));
                if is_resource_shortage(&e) {
                    shared.registry.wait_for_departure(backoff);
                    backoff = (backoff * 2).min(EXHAUSTED_BACKOFF.1);
                }
            }
            Err(e) => return Err(ServerError::io("accepting connections", e)),
        }
    }
}

/// Errors after which accepting again may work.
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
    ) || is_resource_shortage(e)
}

/// Kernel memory shortage: waiting for connections to close may help.
pub(crate) fn is_resource_shortage(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::ENOMEM))
}
