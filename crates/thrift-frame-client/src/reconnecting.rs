//! The client that survives its server going away: one connection's stack,
//! rebuilt as a whole after a failure, and the retry policy around a call.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{info, warn};
use thrift::protocol::TMultiplexedOutputProtocol;
use thrift_frame_wire::{
    describe, ClientStack, HeaderExchange, HttpTarget, InputProtocol, OutputProtocol, SharedSocket,
    TimeoutReporting, Transport,
};

use thrift_frame_debug::traced;

use crate::connect;
use crate::{ClientConfig, ClientError, ClientStats, Idempotency};

/// One connection's worth of client stack. Dropped as a whole, never repaired.
struct Stack<G> {
    generated: G,
    /// The one descriptor the stack reads and writes through; kept here to
    /// check, before a non-idempotent call, that the server has not closed
    /// the connection while it sat idle, and to abort it.
    socket: SharedSocket,
    /// Header transport: the info headers of each request and reply.
    header: Option<HeaderExchange>,
}

impl<G> Stack<G> {
    /// Drops the connection with a reset instead of an orderly close. With
    /// SO_LINGER 0 the kernel discards whatever of a request is still
    /// unsent, so an abandoned call cannot reach the server later (after a
    /// network outage, or at a restarted server) behind newer ones.
    fn abort(self) {
        let _ = socket2::SockRef::from(self.socket.stream()).set_linger(Some(Duration::ZERO));
    }
}

/// A client for one service on one server that reconnects by rebuilding its
/// entire stack. Connects lazily on the first call, or eagerly with
/// [`connect`](Self::connect).
pub struct ReconnectingClient<G> {
    config: ClientConfig,
    build: BuildClient<G>,
    stack: Option<Stack<G>>,
    has_connected: bool,
    stats: ClientStats,
    /// Info headers for the next call only, set by the caller.
    next_headers: Vec<(String, String)>,
    /// The last call's request id and its reply's info headers.
    last_request_id: Option<String>,
    reply_headers: Vec<(String, String)>,
}

/// Makes the generated client over a fresh connection's protocols: the
/// generated `new` function itself, e.g. `KvStoreSyncClient::new`.
pub(crate) type BuildClient<G> = Arc<dyn Fn(InputProtocol, OutputProtocol) -> G + Send + Sync>;

impl<G> ReconnectingClient<G> {
    /// A client for the service whose generated client `build` makes from a
    /// connection's input and output protocols: pass the generated client's
    /// `new` function (e.g. `PingServiceSyncClient::new`), nothing else is
    /// needed. Nothing is connected until the first call (or [`connect`](Self::connect)).
    pub fn new(
        config: ClientConfig,
        build: impl Fn(InputProtocol, OutputProtocol) -> G + Send + Sync + 'static,
    ) -> Result<Self, ClientError> {
        Self::with_builder(config, Arc::new(build))
    }

    pub(crate) fn with_builder(
        config: ClientConfig,
        build: BuildClient<G>,
    ) -> Result<Self, ClientError> {
        config.validate()?;
        Ok(ReconnectingClient {
            config,
            build,
            stack: None,
            has_connected: false,
            stats: ClientStats::default(),
            next_headers: Vec::new(),
            last_request_id: None,
            reply_headers: Vec::new(),
        })
    }

    /// Sends `key: value` as an info header with the next call (header
    /// transport; ignored on the others), on each of its attempts. Setting
    /// `x-request-id` replaces the one the client makes up.
    pub fn set_header(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.next_headers.push((key.into(), value.into()));
    }

    /// The request id the last call was sent with (header transport): the
    /// caller's, or `<ClientConfig::request_id_prefix>-<call number>`.
    pub fn last_request_id(&self) -> Option<&str> {
        self.last_request_id.as_deref()
    }

    /// The info headers of the last call's reply (header transport; empty
    /// when it had none, failed, or was oneway).
    pub fn reply_headers(&self) -> &[(String, String)] {
        &self.reply_headers
    }

    /// The value of info header `key` in the last call's reply.
    pub fn reply_header(&self, key: &str) -> Option<&str> {
        self.reply_headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The server, as configured.
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

    /// Whether a connection is open now (it may still turn out broken).
    pub fn is_connected(&self) -> bool {
        self.stack.is_some()
    }

    /// Opens a connection now, retrying with backoff, if there is none.
    pub fn connect(&mut self) -> Result<(), ClientError> {
        if self.stack.is_none() {
            let stack = self.open_with_backoff()?;
            self.stack = Some(stack);
        }
        Ok(())
    }

    /// Throws the current connection away; the next call opens a new one.
    pub fn disconnect(&mut self) {
        self.stack = None;
    }

    /// Throws the current connection away after a failed call: aborted,
    /// since a request may still sit unsent in it.
    pub(crate) fn abandon(&mut self) {
        if let Some(stack) = self.stack.take() {
            stack.abort();
        }
    }

    /// Builds the stack: socket with nodelay and timeouts, transports,
    /// protocols, generated client. The only place a stack is made.
    fn open_once(&self) -> thrift::Result<Stack<G>> {
        let endpoint = &self.config.endpoint;
        let addrs: Vec<SocketAddr> = endpoint
            .to_socket_addrs()
            .map_err(|e| not_open(format!("cannot resolve {endpoint}: {e}")))?
            .collect();
        let mut last = not_open(format!("{endpoint} resolved to no address"));
        for addr in addrs {
            let (timeout, resend) = (
                self.config.connect_timeout,
                self.config.connect_resend_interval,
            );
            match connect::connect(&addr, timeout, resend) {
                Ok(stream) => return self.stack_on(stream),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    last = not_open(format!(
                        "connect to {addr} timed out after {} ms",
                        self.config.connect_timeout.as_millis()
                    ));
                }
                Err(e) => last = not_open(format!("connect to {addr}: {e}")),
            }
        }
        Err(last)
    }

    fn stack_on(&self, stream: TcpStream) -> thrift::Result<Stack<G>> {
        let timeout = Some(self.config.call_timeout);
        // Without nodelay a large write's last segment waits for the peer's
        // delayed ACK: ~40 ms per call on loopback.
        stream.set_nodelay(true)?;
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(timeout)?;
        let socket = SharedSocket::new(stream);
        let reader = TimeoutReporting::new(socket.clone(), timeout, timeout);
        let writer = TimeoutReporting::new(socket.clone(), timeout, timeout);
        let target = HttpTarget::new(self.config.endpoint.clone(), self.config.http_path.clone());
        let ClientStack {
            input,
            output,
            header,
        } = self.config.wire.client_stack(reader, writer, &target);
        if let Some(header) = &header {
            header.set_transforms(self.config.header_transforms.clone());
        }
        // Traced below the multiplexer: the log shows the names on the wire.
        let (input, output) = if self.config.trace_wire {
            traced(input, output, &self.config.endpoint)
        } else {
            (input, output)
        };
        let output: OutputProtocol = match &self.config.multiplexed {
            Some(service) => Box::new(TMultiplexedOutputProtocol::new(service, output)),
            None => output,
        };
        Ok(Stack {
            generated: (self.build)(input, output),
            socket,
            header,
        })
    }

    fn open_with_backoff(&mut self) -> Result<Stack<G>, ClientError> {
        let started = Instant::now();
        let mut rng = rand::thread_rng();
        let mut attempts = 0u32;
        let result = loop {
            attempts += 1;
            match self.open_once() {
                Ok(stack) => break Ok(stack),
                Err(e) => {
                    self.stats.failed_attempts += 1;
                    let elapsed = started.elapsed();
                    if !self.config.backoff.allows(attempts, elapsed) {
                        break Err(ClientError::ConnectFailed {
                            endpoint: self.config.endpoint.clone(),
                            attempts,
                            elapsed,
                            source: e,
                        });
                    }
                    let delay = self.config.backoff.delay(attempts - 1, &mut rng);
                    warn!(
                        "{}: connect attempt {attempts} failed: {}; next in {} ms",
                        self.config.endpoint,
                        describe(&e),
                        delay.as_millis()
                    );
                    std::thread::sleep(delay);
                }
            }
        };
        if self.has_connected {
            self.stats.time_reconnecting += started.elapsed();
            if result.is_ok() {
                self.stats.reconnects += 1;
                info!(
                    "{}: reconnected after {attempts} attempt(s) in {} ms",
                    self.config.endpoint,
                    started.elapsed().as_millis()
                );
            }
        }
        if result.is_ok() {
            self.has_connected = true;
        }
        result
    }

    /// Drops the connection if the server closed it while it sat idle, so a
    /// non-idempotent call is not sent into a connection that is already gone.
    fn drop_if_closed_by_peer(&mut self) {
        let gone = match &self.stack {
            None => return,
            Some(stack) => peer_closed(stack.socket.stream()),
        };
        if gone {
            info!(
                "{}: the server closed the idle connection; opening a new one",
                self.config.endpoint
            );
            self.stack = None;
        }
    }

    /// Runs `op` (one call of the generated client, named `method`) with
    /// this crate's reconnect and retry policy: it connects first if needed;
    /// after a transport error the whole stack is dropped, and an
    /// idempotent call is sent again on a fresh connection, up to
    /// `max_call_attempts` attempts in all; a non-idempotent one fails with
    /// [`ClientError::OutcomeUnknown`]. `op` may run more than once, so it
    /// must not consume its arguments (clone them, or borrow).
    ///
    /// ```no_run
    /// # use thrift_frame_client::{ClientConfig, Idempotency, InputProtocol, OutputProtocol, ReconnectingClient};
    /// # // Stands in for a client `thrift --gen rs` generates from a user's IDL.
    /// # struct KvSyncClient { _i: InputProtocol, _o: OutputProtocol }
    /// # impl KvSyncClient {
    /// #     fn new(i: InputProtocol, o: OutputProtocol) -> Self { KvSyncClient { _i: i, _o: o } }
    /// #     fn get(&mut self, _k: String) -> thrift::Result<String> { Ok(String::new()) }
    /// #     fn add(&mut self, _n: i64) -> thrift::Result<i64> { Ok(0) }
    /// # }
    /// let config = ClientConfig::new("127.0.0.1:9090");
    /// let mut client = ReconnectingClient::new(config, KvSyncClient::new)?;
    /// // Nothing to worry about if `get` runs twice: retried after a broken connection.
    /// let value = client.call("get", Idempotency::Idempotent, |c| c.get("k".into()))?;
    /// // `add` must not run twice: a broken connection gives OutcomeUnknown.
    /// let total = client.call("add", Idempotency::NotIdempotent, |c| c.add(5))?;
    /// # Ok::<(), thrift_frame_client::ClientError>(())
    /// ```
    pub fn call<T>(
        &mut self,
        method: &'static str,
        idempotency: Idempotency,
        mut op: impl FnMut(&mut G) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        let idempotent = idempotency == Idempotency::Idempotent;
        self.stats.calls += 1;
        self.reply_headers.clear();
        self.last_request_id = None;
        let result = self.call_inner(method, idempotent, &mut op);
        self.next_headers.clear();
        if result.is_err() {
            self.stats.failures += 1;
        }
        result
    }

    /// [`call`](Self::call) with the idempotency `ClientConfig::retry_policy`
    /// declares for `method`.
    pub fn call_declared<T>(
        &mut self,
        method: &'static str,
        op: impl FnMut(&mut G) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        let idempotency = self.config.retry_policy.of(method);
        self.call(method, idempotency, op)
    }

    fn call_inner<T>(
        &mut self,
        name: &'static str,
        idempotent: bool,
        op: &mut impl FnMut(&mut G) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        // HTTP servers close connections as a matter of course (HTTP/1.0,
        // `Connection: close`, keep-alive timeouts): look before every call,
        // not only before the ones that cannot be sent twice.
        if !idempotent || self.config.wire.transport == Transport::Http {
            self.drop_if_closed_by_peer();
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.connect()?;
            let Some(stack) = self.stack.as_mut() else {
                continue;
            };
            if let Some(header) = &stack.header {
                self.last_request_id = Some(self.config.headers_for_call(
                    header,
                    self.stats.calls,
                    &self.next_headers,
                ));
            }
            let error = match op(&mut stack.generated) {
                Ok(value) => {
                    if let Some(header) = &stack.header {
                        self.reply_headers = header.received_headers();
                    }
                    return Ok(value);
                }
                Err(e) => e,
            };
            let endpoint = self.config.endpoint.clone();
            match &error {
                thrift::Error::Transport(_) => {
                    // The connection's state is unknown: throw all of it away.
                    self.abandon();
                    if !idempotent {
                        return Err(ClientError::OutcomeUnknown {
                            call: name,
                            endpoint,
                            source: error,
                        });
                    }
                    if attempt >= self.config.max_call_attempts {
                        return Err(ClientError::ConnectionLost {
                            call: name,
                            endpoint,
                            attempts: attempt,
                            source: error,
                        });
                    }
                    warn!(
                        "{endpoint}: {name} failed ({}); reconnecting to retry (attempt {} of {})",
                        describe(&error),
                        attempt + 1,
                        self.config.max_call_attempts
                    );
                }
                thrift::Error::Application(a) if out_of_step(a.kind) => {
                    // The generated client found a reply to some other call.
                    self.abandon();
                    return Err(ClientError::Protocol {
                        call: name,
                        endpoint,
                        source: error,
                    });
                }
                thrift::Error::Application(_) | thrift::Error::User(_) => {
                    // A well-formed exception (the server's, or one the IDL
                    // declares): the connection is still in step.
                    return Err(ClientError::Application {
                        call: name,
                        endpoint,
                        source: error,
                    });
                }
                thrift::Error::Protocol(_) => {
                    // The stream can no longer be trusted to be in step.
                    self.abandon();
                    return Err(ClientError::Protocol {
                        call: name,
                        endpoint,
                        source: error,
                    });
                }
            }
        }
    }
}

/// Application errors the generated client raises itself when a reply does
/// not match the call: the stream, not the server, is at fault.
fn out_of_step(kind: thrift::ApplicationErrorKind) -> bool {
    use thrift::ApplicationErrorKind::*;
    matches!(kind, BadSequenceId | WrongMethodName | InvalidMessageType)
}

fn not_open(message: String) -> thrift::Error {
    thrift::Error::Transport(thrift::TransportError::new(
        thrift::TransportErrorKind::NotOpen,
        message,
    ))
}

/// True if the peer has closed or reset the connection. A non-blocking peek
/// sees an orderly close as a zero-byte read without consuming anything.
fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        // Zero: orderly close. Anything else unasked-for: out of step.
        Ok(_) => true,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).is_err() || closed
}
