//! One client connection: read a call, process it, repeat, and when that
//! stops, say exactly why in one log line.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use thrift::protocol::{TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol, TType};
use thrift::{ApplicationError, ApplicationErrorKind, ProtocolErrorKind, TransportErrorKind};
use thrift_frame_debug::traced;
use thrift_frame_wire::{
    describe, HttpEnd, HttpExchange, ObservedInputProtocol, ReadToVec, RequestObserver,
    RequestOutcome, ServerStack, SharedSocket, TimeoutReporting, Transport, CLOSED_BETWEEN_FRAMES,
    REQUEST_ID_HEADER,
};

use crate::call_context::CallContext;
use crate::processor::SharedProcessor;
use crate::registry::{ConnectionState, Registration};
use crate::stats::ServerStats;
use crate::{ServerConfig, ShutdownSignal};

/// The socket's read side, counting bytes and marking the connection busy
/// when a request's first bytes arrive. Between requests the socket waits up
/// to the idle timeout; once a request has started, a silence longer than the
/// stall timeout ends the connection, and so does the request deadline,
/// counted from the request's first byte: the socket's timeout is lowered to
/// what is left of it once that is less than the stall timeout.
struct TrackedReader {
    socket: SharedSocket,
    state: Arc<ConnectionState>,
    stall_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// The socket's read timeout outside a lowered deadline: the shorter
    /// of the idle and stall timeouts.
    base_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    /// When the current request must have arrived by.
    deadline: Option<Instant>,
    /// The socket's read timeout is the time left until `deadline`.
    timeout_is_deadline: bool,
}

impl TrackedReader {
    fn deadline_expired(&self) -> io::Error {
        self.state.deadline_hit.store(true, Ordering::SeqCst);
        io::Error::new(io::ErrorKind::TimedOut, "request deadline passed")
    }

    /// Lowers the read timeout to the time left before the deadline when
    /// that is shorter than the stall timeout.
    fn apply_deadline(&mut self) -> io::Result<()> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.deadline_expired());
        }
        let lower = match self.stall_timeout {
            Some(stall) => left < stall,
            None => true,
        };
        if lower {
            self.socket.stream().set_read_timeout(Some(left))?;
            self.timeout_is_deadline = true;
        }
        Ok(())
    }
}

impl TrackedReader {
    /// One read of the socket by `read`, within the request's deadline and
    /// counted in the connection's state.
    ///
    /// The socket's read timeout stays at the shorter of the idle and stall
    /// timeouts (set once per connection, not twice per call): when it
    /// expires before the one that applies (idle between requests, stall
    /// within one), the read is made again.
    fn tracked(
        &mut self,
        mut read: impl FnMut(&mut SharedSocket) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let waiting_since = Instant::now();
        loop {
            let mid_request = self.state.busy.load(Ordering::SeqCst);
            if mid_request {
                self.apply_deadline()?;
            } else if self.timeout_is_deadline {
                self.socket.stream().set_read_timeout(self.base_timeout)?;
                self.timeout_is_deadline = false;
            }
            let n = match read(&mut self.socket) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if mid_request && self.timeout_is_deadline {
                        return Err(self.deadline_expired());
                    }
                    let limit = if mid_request {
                        self.stall_timeout
                    } else {
                        self.idle_timeout
                    };
                    if limit.is_none_or(|limit| waiting_since.elapsed() < limit) {
                        continue;
                    }
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
                }
                Err(e) => return Err(e),
            };
            if n > 0 {
                self.state.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                if !self.state.busy.swap(true, Ordering::SeqCst) {
                    // The first bytes of a request: its clock starts now.
                    self.deadline = self.request_timeout.map(|t| Instant::now() + t);
                }
            }
            return Ok(n);
        }
    }
}

impl Read for TrackedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tracked(|socket| socket.read(buf))
    }
}

impl ReadToVec for TrackedReader {
    const APPENDS_IN_PLACE: bool = true;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.tracked(|socket| socket.read_to_vec(buf, max))
    }

    fn read_to_vec_then(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        after: &mut [u8],
    ) -> io::Result<(usize, usize)> {
        let mut split = (0, 0);
        self.tracked(|socket| {
            split = socket.read_to_vec_then(buf, max, after)?;
            Ok(split.0 + split.1)
        })?;
        Ok(split)
    }
}

/// The socket's write side. Each write may block up to the socket's write
/// timeout; on top of that, a reply whose writes started more than
/// `reply_timeout` ago fails at its next write, so a peer that reads a
/// trickle cannot hold the connection for ever.
struct ReplyWriter {
    inner: TimeoutReporting<SharedSocket>,
    reply_timeout: Option<Duration>,
    /// When the first write of the current reply was made.
    started: Option<Instant>,
}

impl Write for ReplyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if let Some(limit) = self.reply_timeout {
            if started.elapsed() > limit {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the peer did not take the reply within {} ms",
                        limit.as_millis()
                    ),
                ));
            }
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.inner.flush();
        self.started = None;
        flushed
    }
}

/// Why a connection ended.
pub(crate) enum Ending {
    /// The peer closed between calls: the normal end.
    PeerClosed,
    /// No request arrived within the idle timeout.
    Idle,
    /// The server is shutting down.
    Shutdown,
    /// The server's shutdown cut this connection mid-call; says where.
    Cut(String),
    /// Something was wrong: the text says what.
    Problem(String),
    /// The processor panicked where no reply could be sent; already logged.
    Panicked,
    /// HTTP: a health check was answered.
    HealthChecked,
}

pub(crate) struct Connection {
    pub id: u64,
    pub peer: SocketAddr,
    pub socket: SharedSocket,
    pub state: Arc<ConnectionState>,
    /// Leaves the registry when the connection is dropped, however it ends.
    pub registration: Registration,
}

impl Connection {
    /// Closes a connection the server will not serve.
    pub fn refuse(self) {
        let _ = self.socket.stream().shutdown(std::net::Shutdown::Both);
    }

    pub fn run(
        self,
        processor: &SharedProcessor,
        config: &ServerConfig,
        shutdown: &ShutdownSignal,
        stats: &ServerStats,
    ) {
        let Connection {
            id,
            peer,
            socket,
            state,
            registration: _registration,
        } = self;
        let stream = socket.stream();
        let base_timeout = match (config.idle_timeout, config.stall_timeout) {
            (Some(idle), Some(stall)) => Some(idle.min(stall)),
            (idle, stall) => idle.or(stall),
        };
        let setup = || -> io::Result<()> {
            stream.set_nodelay(true)?;
            stream.set_read_timeout(base_timeout)?;
            stream.set_write_timeout(config.write_timeout)
        };
        if let Err(e) = setup() {
            warn!("conn#{id} {peer}: could not set up the socket: {e}");
            return;
        }
        let ServerStack {
            input,
            output,
            http,
            header,
            ..
        } = config.wire.server_stack(
            TrackedReader {
                socket: socket.clone(),
                state: state.clone(),
                stall_timeout: config.stall_timeout,
                idle_timeout: config.idle_timeout,
                base_timeout,
                request_timeout: config.request_timeout,
                deadline: None,
                timeout_is_deadline: false,
            },
            ReplyWriter {
                inner: TimeoutReporting::new(socket.clone(), None, config.write_timeout),
                reply_timeout: config.write_timeout,
                started: None,
            },
        );
        let (input, mut output) = if config.trace_wire {
            traced(input, output, &format!("conn#{id} {peer}"))
        } else {
            (input, output)
        };
        // Over HTTP a oneway call's POST is answered once it is read, not
        // after its handler: the client waits for that answer.
        let observer = match &http {
            Some(exchange) => {
                let exchange = exchange.clone();
                RequestObserver::with_oneway_hook(move || {
                    let _ = exchange.answer_unanswered();
                })
            }
            None => RequestObserver::new(),
        };
        let mut input = ObservedInputProtocol::new(input, observer.clone());
        let context = CallContext::new(id, peer, header.clone());
        // Lines about a call name its request id, when its client sent one.
        let request_id = |name: Option<&String>| {
            name.and_then(|_| header.as_ref()?.received_header(REQUEST_ID_HEADER))
        };

        let mut calls = 0u64;
        let mut last_request_id = None;
        let ending = loop {
            // Order matters: mark idle first, then look at the flag (see ShutdownSignal).
            state.busy.store(false, Ordering::SeqCst);
            if shutdown.is_triggered() {
                break Ending::Shutdown;
            }
            let before = state.bytes_read.load(Ordering::Relaxed);
            state.deadline_hit.store(false, Ordering::SeqCst);
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                CallContext::scope(context.clone(), || {
                    processor.process(&mut input, &mut output)
                })
            }));
            let consumed = state.bytes_read.load(Ordering::Relaxed) - before;
            let result = match result {
                Ok(result) => result,
                Err(payload) => {
                    stats.panics.fetch_add(1, Ordering::Relaxed);
                    let outcome = observer.take();
                    let who = who(id, peer, request_id(outcome.name()).as_deref());
                    match answer_panic(&mut *output, &outcome, &panic_message(&*payload)) {
                        Ok(call) => {
                            // The panic itself is reported by the panic hook.
                            warn!(
                                "{who}: call {call} failed, its handler panicked \
                                 ({}); answered with INTERNAL_ERROR",
                                panic_message(&*payload)
                            );
                            continue;
                        }
                        Err(why) => {
                            error!(
                                "{who}: the processor panicked: {}; closing ({why})",
                                panic_message(&*payload)
                            );
                            break Ending::Panicked;
                        }
                    }
                }
            };
            let outcome = observer.take();
            last_request_id = request_id(outcome.name());
            match (result, outcome) {
                (Ok(()), RequestOutcome::Complete { name, .. }) => {
                    calls += 1;
                    stats.calls.fetch_add(1, Ordering::Relaxed);
                    // A oneway call over HTTP still owes its POST a response.
                    if let Some(Err(e)) = http.as_ref().map(HttpExchange::answer_unanswered) {
                        break Ending::Problem(format!(
                            "could not answer the oneway call {name}: {e}"
                        ));
                    }
                }
                (Ok(()), RequestOutcome::Failed { name, error })
                    if matches!(error, thrift::Error::Transport(_)) =>
                {
                    // The peer stalled or went away while the arguments were
                    // read; the processor turned that into an exception reply.
                    if let Some(end) = http.as_ref().and_then(HttpExchange::ended) {
                        break http_ending(end);
                    }
                    let outcome = RequestOutcome::Failed { name, error };
                    break classify(
                        None,
                        &outcome,
                        consumed,
                        config,
                        &state,
                        shutdown.is_triggered(),
                    );
                }
                (Ok(()), RequestOutcome::Failed { name, error }) => {
                    // The processor already answered with an exception.
                    break Ending::Problem(format!(
                        "rejected call {}: {}",
                        name.as_deref().unwrap_or("?"),
                        explain(&error, config)
                    ));
                }
                (Ok(()), RequestOutcome::Unfinished { name }) => {
                    // An unknown method: the processor answered with an
                    // exception without reading the arguments. Skip them
                    // (bounded by the same limits) to stay in step.
                    let skipped = input
                        .skip(TType::Struct)
                        .and_then(|()| input.read_message_end());
                    observer.take();
                    if let Err(e) = skipped {
                        break Ending::Problem(format!(
                            "unknown method {name:?}, and its arguments could not be skipped: {}",
                            explain(&e, config)
                        ));
                    }
                    let who = who(id, peer, last_request_id.as_deref());
                    info!("{who}: unknown method {name:?}: answered with an exception");
                }
                (Ok(()), RequestOutcome::NotStarted) => {
                    break Ending::Problem("processor returned without reading a call".into());
                }
                (Err(e), outcome) => {
                    if let Some(end) = http.as_ref().and_then(HttpExchange::ended) {
                        break http_ending(end);
                    }
                    break classify(
                        Some(&e),
                        &outcome,
                        consumed,
                        config,
                        &state,
                        shutdown.is_triggered(),
                    );
                }
            }
        };

        ending.log(id, peer, last_request_id.as_deref(), calls, config, stats);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

impl Ending {
    /// The one line a connection's end gets (none for an ordinary close at
    /// debug level), and the count of connections closed for bad input.
    /// `request_id` is the `x-request-id` of the call the connection ended
    /// in, if it ended in one whose client sent it.
    pub(crate) fn log(
        self,
        id: u64,
        peer: SocketAddr,
        request_id: Option<&str>,
        calls: u64,
        config: &ServerConfig,
        stats: &ServerStats,
    ) {
        let conn = format!("conn#{id} {peer}");
        match self {
            Ending::PeerClosed => debug!("{conn}: closed by peer after {calls} calls"),
            Ending::Idle => info!(
                "{conn}: closing after {calls} calls: idle for {} ms",
                millis(config.idle_timeout)
            ),
            Ending::Shutdown => debug!("{conn}: closed for shutdown after {calls} calls"),
            Ending::Cut(at) => info!("{}: cut by shutdown{at}", who(id, peer, request_id)),
            Ending::HealthChecked => debug!("{conn}: answered a health check"),
            Ending::Panicked => {
                stats.bad_connections.fetch_add(1, Ordering::Relaxed);
            }
            Ending::Problem(reason) => {
                stats.bad_connections.fetch_add(1, Ordering::Relaxed);
                let who = who(id, peer, request_id);
                warn!("{who}: closing after {calls} calls: {reason}");
            }
        }
    }
}

/// How log lines name a connection, and the call's request id when its
/// client sent one: `conn#3 127.0.0.1:5000 [req-42]`.
pub(crate) fn who(id: u64, peer: SocketAddr, request_id: Option<&str>) -> String {
    match request_id {
        Some(request) => format!("conn#{id} {peer} [{request}]"),
        None => format!("conn#{id} {peer}"),
    }
}

/// The ending of a connection whose HTTP transport stopped reading.
fn http_ending(end: HttpEnd) -> Ending {
    match end {
        HttpEnd::HealthChecked => Ending::HealthChecked,
        HttpEnd::ClientClosed => Ending::PeerClosed,
        HttpEnd::Refused { status, reason } => {
            Ending::Problem(format!("answered HTTP {status}: {reason}"))
        }
    }
}

fn millis(t: Option<Duration>) -> u128 {
    t.map(|t| t.as_millis()).unwrap_or(0)
}

/// Turns the error that ended a request into the reason logged: `returned`
/// is what `process` returned, else the error the observer recorded counts.
fn classify(
    returned: Option<&thrift::Error>,
    outcome: &RequestOutcome,
    consumed: u64,
    config: &ServerConfig,
    state: &ConnectionState,
    shutting_down: bool,
) -> Ending {
    let e = match (returned, outcome) {
        (Some(e), _) | (None, RequestOutcome::Failed { error: e, .. }) => e,
        (None, _) => return Ending::Problem("request failed for an unknown reason".into()),
    };
    let call = outcome
        .name()
        .map_or(String::new(), |name| format!(" in call {name}"));
    if let RequestOutcome::Complete { name, .. } = outcome {
        // The request was read; what failed is sending the reply.
        return Ending::Problem(format!(
            "could not send the reply to {name}: peer gone or not reading ({})",
            describe(e)
        ));
    }
    if shutting_down && matches!(e, thrift::Error::Transport(_)) {
        // Between calls: closed by the sweep; mid-call: cut after the grace period.
        return if consumed == 0 {
            Ending::Shutdown
        } else {
            Ending::Cut(format!("{call} after {consumed} bytes"))
        };
    }
    // A zlib peer may end its stream when it closes (Go's Close writes the
    // final block and checksum), and a C++ THeader peer sends an empty
    // frame: bytes read, but no message begun.
    let closed_between_frames =
        matches!(e, thrift::Error::Transport(t) if t.message == CLOSED_BETWEEN_FRAMES);
    let stream_trailer = matches!(outcome, RequestOutcome::NotStarted)
        && (config.wire.transport == Transport::Zlib || closed_between_frames);
    if consumed == 0 || stream_trailer {
        if let thrift::Error::Transport(t) = e {
            match t.kind {
                TransportErrorKind::EndOfFile => return Ending::PeerClosed,
                TransportErrorKind::TimedOut => return Ending::Idle,
                TransportErrorKind::NotOpen => {
                    return Ending::Problem(format!("connection reset by peer ({})", t.message))
                }
                _ => {}
            }
        }
    }
    if let thrift::Error::Transport(t) = e {
        match t.kind {
            TransportErrorKind::EndOfFile => {
                return Ending::Problem(format!(
                    "peer closed mid-message{call} after {consumed} bytes (truncated request)"
                ))
            }
            TransportErrorKind::TimedOut if state.deadline_hit.load(Ordering::SeqCst) => {
                return Ending::Problem(format!(
                    "request not complete {} ms after its first byte{call}, {consumed} bytes \
                     received (too slow or trickling; see --request-timeout-ms)",
                    millis(config.request_timeout)
                ))
            }
            TransportErrorKind::TimedOut => {
                return Ending::Problem(format!(
                    "peer stalled mid-message{call}: no data for {} ms after {consumed} bytes",
                    millis(config.stall_timeout)
                ))
            }
            _ => {}
        }
    }
    Ending::Problem(format!(
        "{}{call} after {consumed} bytes",
        explain(e, config)
    ))
}

/// A thrift error with a hint at the usual cause.
pub(crate) fn explain(e: &thrift::Error, config: &ServerConfig) -> String {
    let hint = match e {
        thrift::Error::Protocol(p) => match p.kind {
            ProtocolErrorKind::BadVersion | ProtocolErrorKind::InvalidData
                if config.wire.transport == Transport::Auto =>
            {
                " (this server detects THeader, framed and buffered clients in binary, compact \
                 or json; is the peer one?)"
                    .into()
            }
            ProtocolErrorKind::BadVersion | ProtocolErrorKind::InvalidData => format!(
                " (this server speaks {} protocol over {} transport; is the peer?)",
                config.wire.protocol, config.wire.transport
            ),
            ProtocolErrorKind::SizeLimit => {
                " (raise the server's limits if this is legitimate)".into()
            }
            _ => String::new(),
        },
        _ => String::new(),
    };
    format!("{}{hint}", describe(e))
}

/// The text of a panic's payload, as `panic!` was given it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-text panic payload)".to_string()
    }
}

/// Answers a call whose handler panicked with an INTERNAL_ERROR exception,
/// if its request was read to the end (so the stream is still in step and
/// the reply's sequence number is known). Returns the call's name.
pub(crate) fn answer_panic(
    output: &mut dyn TOutputProtocol,
    outcome: &RequestOutcome,
    message: &str,
) -> Result<String, String> {
    let RequestOutcome::Complete {
        name,
        sequence_number,
    } = outcome
    else {
        return Err("the request was not read to its end, so no reply can be sent".into());
    };
    // A multiplexed call arrives as "Service:method"; the reply names the method.
    let method = name.split_once(':').map_or(name.as_str(), |(_, m)| m);
    let error = ApplicationError::new(
        ApplicationErrorKind::InternalError,
        format!("{method}: the server's handler failed: {message}"),
    );
    let ident = TMessageIdentifier::new(method, TMessageType::Exception, *sequence_number);
    output
        .write_message_begin(&ident)
        .and_then(|()| thrift::Error::write_application_error_to_out_protocol(&error, output))
        .and_then(|()| output.write_message_end())
        .and_then(|()| output.flush())
        .map_err(|e| format!("the exception could not be sent: {}", describe(&e)))?;
    Ok(name.clone())
}
