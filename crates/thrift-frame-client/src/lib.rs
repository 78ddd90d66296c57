//! A Thrift client that survives its server going away.
//!
//! [`ReconnectingClient`] owns the whole client stack (TCP socket, transports,
//! protocols, generated client) and builds it in one place. When a call fails
//! with a transport error, the stack is dropped as a whole: a used transport
//! is never re-opened. The next call, or the retry of an idempotent one,
//! builds a fresh stack, waiting between connection attempts according to
//! [`Backoff`].
//!
//! What is retried:
//! - connecting, with backoff, until the budget (attempts or deadline) runs out;
//! - `ping` and `output`, which are idempotent, on a fresh connection after a
//!   transport error, up to `ClientConfig::max_call_attempts` attempts.
//!
//! What is never retried:
//! - `put`: once its connection broke, the server may or may not have stored
//!   the student; the call fails with [`ClientError::OutcomeUnknown`];
//! - an exception from the server, or a reply that cannot be decoded.

mod backoff;
mod borrowed_call;
mod connect;
mod error;
mod retry;
mod shared;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use log::{info, warn};
use thrift::protocol::TMultiplexedOutputProtocol;
use thrift_frame_idl::ping::PingServiceSyncClient;
use thrift_frame_idl::student::{ServSyncClient, Student, TServSyncClient};
use thrift_frame_wire::{describe, SharedSocket, TimeoutReporting};

pub use backoff::Backoff;
pub use error::ClientError;
pub use retry::{Idempotency, RetryPolicy};
pub use shared::SharedClient;
pub use thrift_frame_wire::{InputProtocol, OutputProtocol, WireConfig};
pub use thrift_frame_wire::{Limits, Protocol, Transport};

/// How to reach a server and how hard to try.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port`, resolved again on every connection attempt (a restarted
    /// container may come back under a new address).
    pub endpoint: String,
    pub wire: WireConfig,
    /// Prefix each call with the service name, for multiplexed servers.
    pub multiplexed: bool,
    /// How long one connection attempt may wait for the server to answer.
    pub connect_timeout: Duration,
    /// While a connection attempt waits unanswered (its SYN dropped by a
    /// network outage), a fresh one is started this often; the first to
    /// connect wins. Without it, the kernel's own SYN retries (1 s, then
    /// 3 s, ...) would decide how soon a returning path is used.
    pub connect_resend_interval: Duration,
    /// Read and write timeout of each call.
    pub call_timeout: Duration,
    pub backoff: Backoff,
    /// Attempts per idempotent call, the first included.
    pub max_call_attempts: u32,
    /// Which methods [`ReconnectingClient::call_declared`] may retry.
    pub retry_policy: RetryPolicy,
}

impl ClientConfig {
    /// Defaults: compact protocol, buffered transport, 2000 ms connect and
    /// call timeouts, a fresh connect attempt every 200 ms while one waits,
    /// [`Backoff::default`], 3 attempts per idempotent call.
    pub fn new(endpoint: impl Into<String>) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            wire: WireConfig::default(),
            multiplexed: false,
            connect_timeout: Duration::from_millis(2000),
            connect_resend_interval: Duration::from_millis(200),
            call_timeout: Duration::from_millis(2000),
            backoff: Backoff::default(),
            max_call_attempts: 3,
            retry_policy: RetryPolicy::none(),
        }
    }

    fn validate(&self) -> Result<(), ClientError> {
        let invalid = |m: String| ClientError::InvalidConfig(m);
        if self.connect_timeout.is_zero()
            || self.call_timeout.is_zero()
            || self.connect_resend_interval.is_zero()
        {
            return Err(invalid("timeouts must be positive".into()));
        }
        if self.max_call_attempts == 0 {
            return Err(invalid("max call attempts must be at least 1".into()));
        }
        self.backoff.validate().map_err(invalid)?;
        self.wire
            .limits
            .validate()
            .map_err(|e| invalid(e.to_string()))
    }
}

/// Counters the caller can read at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Calls made through this client.
    pub calls: u64,
    /// Calls that returned an error to the caller.
    pub failures: u64,
    /// Connections opened after the first one.
    pub reconnects: u64,
    /// Connection attempts that failed.
    pub failed_attempts: u64,
    /// Time spent connecting again after a broken connection, backoff waits included.
    pub time_reconnecting: Duration,
}

/// A generated client this crate knows how to build.
pub trait GeneratedClient: Sized {
    /// The name a multiplexed server registers the service under.
    const SERVICE_NAME: &'static str;
    fn build(input: InputProtocol, output: OutputProtocol) -> Self;
}

/// The generated `PingService` client over boxed protocols.
pub type PingServiceClient = PingServiceSyncClient<InputProtocol, OutputProtocol>;
/// The generated `Serv` client over boxed protocols.
pub type ServClient = ServSyncClient<InputProtocol, OutputProtocol>;

impl GeneratedClient for PingServiceClient {
    const SERVICE_NAME: &'static str = "PingService";
    fn build(input: InputProtocol, output: OutputProtocol) -> Self {
        PingServiceSyncClient::new(input, output)
    }
}

impl GeneratedClient for ServClient {
    const SERVICE_NAME: &'static str = "Serv";
    fn build(input: InputProtocol, output: OutputProtocol) -> Self {
        ServSyncClient::new(input, output)
    }
}

/// A reconnecting `PingService` client.
pub type PingClient = ReconnectingClient<PingServiceClient>;
/// A reconnecting `Serv` client.
pub type StudentClient = ReconnectingClient<ServClient>;

/// One connection's worth of client stack. Dropped as a whole, never repaired.
struct Stack<G> {
    generated: G,
    /// The one descriptor the stack reads and writes through; kept here to
    /// check, before a non-idempotent call, that the server has not closed
    /// the connection while it sat idle, and to abort it.
    socket: SharedSocket,
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
    stack: Option<Stack<G>>,
    has_connected: bool,
    stats: ClientStats,
}

impl<G: GeneratedClient> ReconnectingClient<G> {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        config.validate()?;
        Ok(ReconnectingClient {
            config,
            stack: None,
            has_connected: false,
            stats: ClientStats::default(),
        })
    }

    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

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
    fn abandon(&mut self) {
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
        let input = self.config.wire.input_protocol(reader);
        let output = self.config.wire.output_protocol(writer);
        let output: OutputProtocol = if self.config.multiplexed {
            Box::new(TMultiplexedOutputProtocol::new(G::SERVICE_NAME, output))
        } else {
            output
        };
        Ok(Stack {
            generated: G::build(input, output),
            socket,
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
    /// # use thrift_frame_client::{ClientConfig, Idempotency, PingClient};
    /// # use thrift_frame_idl::ping::TPingServiceSyncClient;
    /// let mut client = PingClient::new(ClientConfig::new("127.0.0.1:9091"))?;
    /// let reply = client.call("output", Idempotency::Idempotent, |c| c.output("hi".into()))?;
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
        let result = self.call_inner(method, idempotent, &mut op);
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
        if !idempotent {
            self.drop_if_closed_by_peer();
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.connect()?;
            let Some(stack) = self.stack.as_mut() else {
                continue;
            };
            let error = match op(&mut stack.generated) {
                Ok(value) => return Ok(value),
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

impl ReconnectingClient<PingServiceClient> {
    /// `PingService.ping`: the server's `receive len: N`. Idempotent.
    pub fn ping(&mut self, msg: &str) -> Result<String, ClientError> {
        self.call("ping", Idempotency::Idempotent, |c| {
            borrowed_call::string_call(c, "ping", msg)
        })
    }

    /// `PingService.output`: the server's `You said: <msg>`. Idempotent.
    pub fn output(&mut self, msg: &str) -> Result<String, ClientError> {
        self.call("output", Idempotency::Idempotent, |c| {
            borrowed_call::string_call(c, "output", msg)
        })
    }
}

impl ReconnectingClient<ServClient> {
    /// `Serv.put`: the student's number. Never retried after a broken
    /// connection; see [`ClientError::OutcomeUnknown`].
    pub fn put(&mut self, student: &Student) -> Result<i32, ClientError> {
        self.call("put", Idempotency::NotIdempotent, |c| {
            c.put(student.clone())
        })
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
