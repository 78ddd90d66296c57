//! One client connection: read a call, process it, repeat, and when that
//! stops, say exactly why in one log line.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info, warn};
use thrift::protocol::{TInputProtocol, TType};
use thrift::{ProtocolErrorKind, TransportErrorKind};
use thrift_frame_wire::{
    describe, ObservedInputProtocol, RequestObserver, RequestOutcome, TimeoutReporting,
};

use crate::handlers::SharedProcessor;
use crate::{ServerConfig, ServerStats, ShutdownSignal};

/// What the shutdown sweep needs to know about a connection.
#[derive(Debug, Default)]
pub(crate) struct ConnectionState {
    /// True from the first byte of a request until its reply is sent.
    pub busy: AtomicBool,
    /// Bytes read from the socket so far.
    pub bytes_read: AtomicU64,
}

/// The socket's read side, counting bytes and marking the connection busy
/// when a request's first bytes arrive. Between requests the socket waits up
/// to the idle timeout; once a request has started, a silence longer than the
/// stall timeout ends the connection.
struct TrackedReader {
    stream: TcpStream,
    state: Arc<ConnectionState>,
    stall_timeout: Option<Duration>,
}

impl Read for TrackedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                io::Error::new(io::ErrorKind::TimedOut, "read timed out")
            }
            _ => e,
        })?;
        if n > 0 {
            self.state.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
            if !self.state.busy.swap(true, Ordering::SeqCst) {
                self.stream.set_read_timeout(self.stall_timeout)?;
            }
        }
        Ok(n)
    }
}

/// Why a connection ended.
enum Ending {
    /// The peer closed between calls: the normal end.
    PeerClosed,
    /// No request arrived within the idle timeout.
    Idle,
    /// The server is shutting down.
    Shutdown,
    /// Something was wrong: the text says what.
    Problem(String),
}

pub(crate) struct Connection {
    pub id: u64,
    pub peer: SocketAddr,
    pub stream: TcpStream,
    pub state: Arc<ConnectionState>,
}

impl Connection {
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
            stream,
            state,
        } = self;
        let setup = || -> io::Result<(TcpStream, TcpStream)> {
            stream.set_nodelay(true)?;
            stream.set_write_timeout(config.write_timeout)?;
            Ok((stream.try_clone()?, stream.try_clone()?))
        };
        let (read_half, write_half) = match setup() {
            Ok(halves) => halves,
            Err(e) => {
                warn!("conn#{id} {peer}: could not set up the socket: {e}");
                return;
            }
        };
        let observer = RequestObserver::new();
        let mut input = ObservedInputProtocol::new(
            config.wire.input_protocol(TrackedReader {
                stream: read_half,
                state: state.clone(),
                stall_timeout: config.stall_timeout,
            }),
            observer.clone(),
        );
        let mut output = config.wire.output_protocol(TimeoutReporting::new(
            write_half,
            None,
            config.write_timeout,
        ));

        let mut calls = 0u64;
        let ending = loop {
            // Order matters: mark idle first, then look at the flag (see ShutdownSignal).
            state.busy.store(false, Ordering::SeqCst);
            if shutdown.is_triggered() {
                break Ending::Shutdown;
            }
            if let Err(e) = stream.set_read_timeout(config.idle_timeout) {
                break Ending::Problem(format!("could not set the idle timeout: {e}"));
            }
            let before = state.bytes_read.load(Ordering::Relaxed);
            let result = processor.process(&mut input, &mut output);
            let consumed = state.bytes_read.load(Ordering::Relaxed) - before;
            match (result, observer.take()) {
                (Ok(()), RequestOutcome::Complete { .. }) => {
                    calls += 1;
                    stats.calls.fetch_add(1, Ordering::Relaxed);
                }
                (Ok(()), RequestOutcome::Failed { name, error })
                    if matches!(error, thrift::Error::Transport(_)) =>
                {
                    // The peer stalled or went away while the arguments were
                    // read; the processor turned that into an exception reply.
                    let outcome = RequestOutcome::Failed { name, error };
                    break classify(None, &outcome, consumed, config, shutdown.is_triggered());
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
                    info!("conn#{id} {peer}: unknown method {name:?}: answered with an exception");
                }
                (Ok(()), RequestOutcome::NotStarted) => {
                    break Ending::Problem("processor returned without reading a call".into());
                }
                (Err(e), outcome) => {
                    break classify(
                        Some(&e),
                        &outcome,
                        consumed,
                        config,
                        shutdown.is_triggered(),
                    );
                }
            }
        };

        match ending {
            Ending::PeerClosed => debug!("conn#{id} {peer}: closed by peer after {calls} calls"),
            Ending::Idle => info!(
                "conn#{id} {peer}: closing after {calls} calls: idle for {} ms",
                millis(config.idle_timeout)
            ),
            Ending::Shutdown => debug!("conn#{id} {peer}: closed for shutdown after {calls} calls"),
            Ending::Problem(reason) => {
                stats.bad_connections.fetch_add(1, Ordering::Relaxed);
                warn!("conn#{id} {peer}: closing after {calls} calls: {reason}");
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
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
    shutting_down: bool,
) -> Ending {
    let e = match (returned, outcome) {
        (Some(e), _) | (None, RequestOutcome::Failed { error: e, .. }) => e,
        (None, _) => return Ending::Problem("request failed for an unknown reason".into()),
    };
    let call = match outcome {
        RequestOutcome::Complete { name }
        | RequestOutcome::Unfinished { name }
        | RequestOutcome::Failed {
            name: Some(name), ..
        } => format!(" in call {name}"),
        _ => String::new(),
    };
    if let RequestOutcome::Complete { name } = outcome {
        // The request was read; what failed is sending the reply.
        return Ending::Problem(format!(
            "could not send the reply to {name}: peer gone or not reading ({})",
            describe(e)
        ));
    }
    if consumed == 0 {
        if shutting_down {
            return Ending::Shutdown;
        }
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
fn explain(e: &thrift::Error, config: &ServerConfig) -> String {
    let hint = match e {
        thrift::Error::Protocol(p) => match p.kind {
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
