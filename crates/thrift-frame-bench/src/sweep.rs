//! The connection sweep's load generator: many connections from one thread,
//! each making `output("hi")` calls in a closed loop, with requests encoded
//! once and replies checked byte for byte.
//!
//! It does not use the project's client, so that what it measures is the
//! server: one mio event loop drives every connection, a call costs it a
//! write and a read of a few dozen bytes, and nothing is allocated per call.
//!
//! A [`Load`] is built in two steps so a test (or the bench) can look at
//! the server between them: [`Load::connect`] opens the connections and has
//! each one make a first call (so every connection held is one the server
//! has served), then [`Load::measure`] runs the timed window and lets the
//! calls in flight finish. The connections stay open, idle, until the
//! `Load` is dropped.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use thrift::protocol::{
    TBinaryOutputProtocol, TFieldIdentifier, TMessageIdentifier, TMessageType, TOutputProtocol,
    TStructIdentifier, TType,
};

use crate::stats::Summary;
use crate::BenchError;

/// Connections that may be connecting or waiting for their first reply at
/// once: below the smallest listen backlog of the servers measured (128), so
/// no SYN is dropped and no connect waits out a retransmission.
pub const SETUP_IN_FLIGHT: usize = 64;

/// Latency samples kept per window (a uniform reservoir over every call).
const RESERVOIR: usize = 20_000;

/// The request and the reply the generator expects, binary protocol in
/// framed transport, as every peer speaks it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Vec<u8>,
    pub reply: Vec<u8>,
}

fn encoding_error(e: thrift::Error) -> BenchError {
    BenchError::Invalid(format!("encoding output(\"hi\"): {e}"))
}

/// One framed binary message: `kind` `output` with seqid 1 and a struct of
/// one string field.
fn framed_message(
    kind: TMessageType,
    field: (&str, i16),
    value: &str,
) -> Result<Vec<u8>, BenchError> {
    let mut body = Vec::new();
    {
        let mut p = TBinaryOutputProtocol::new(&mut body, true);
        p.write_message_begin(&TMessageIdentifier::new("output", kind, 1))
            .map_err(encoding_error)?;
        p.write_struct_begin(&TStructIdentifier::new("args"))
            .map_err(encoding_error)?;
        p.write_field_begin(&TFieldIdentifier::new(field.0, TType::String, field.1))
            .map_err(encoding_error)?;
        p.write_string(value).map_err(encoding_error)?;
        p.write_field_end().map_err(encoding_error)?;
        p.write_field_stop().map_err(encoding_error)?;
        p.write_struct_end().map_err(encoding_error)?;
        p.write_message_end().map_err(encoding_error)?;
    }
    let length = u32::try_from(body.len())
        .map_err(|_| BenchError::Invalid("message too long to frame".into()))?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    Ok(framed)
}

impl Exchange {
    /// `output("hi")` and its reply `"You said: hi"` (field 0 of the result).
    pub fn output_hi() -> Result<Exchange, BenchError> {
        Ok(Exchange {
            request: framed_message(TMessageType::Call, ("msg", 1), "hi")?,
            reply: framed_message(TMessageType::Reply, ("success", 0), "You said: hi")?,
        })
    }
}

/// What one timed window measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Window {
    /// Calls completed inside the window, over every connection.
    pub calls: u64,
    /// Calls in flight when the window closed, let finish and not counted.
    pub calls_after: u64,
    pub elapsed_s: f64,
    /// Calls per second in each of the window's equal slices: what the
    /// throughput targets' intervals are computed from.
    pub slice_calls_per_s: Vec<f64>,
    /// Percentiles of the calls completed in the window.
    pub latency: Summary,
    /// A uniform sample of those calls' latencies in microseconds, for the
    /// p99 target's interval. Not in bench.json.
    #[serde(skip)]
    pub samples_us: Vec<f64>,
}

impl Window {
    pub fn calls_per_s(&self) -> f64 {
        self.calls as f64 / self.elapsed_s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Connect in progress; the request goes out once it is writable.
    Connecting,
    /// `written` bytes of the request are out.
    Sending { written: usize },
    /// `read` bytes of the reply are in.
    Receiving { read: usize },
    /// Reply complete, no call in flight.
    Idle,
}

struct Connection {
    stream: TcpStream,
    phase: Phase,
    /// When the call in flight started.
    started: Instant,
    /// Its first call is answered: the server has served it.
    served: bool,
    buffer: Vec<u8>,
}

/// Connections held open to one server; see the module docs.
pub struct Load {
    addr: SocketAddr,
    exchange: Exchange,
    poll: Poll,
    events: Events,
    connections: Vec<Connection>,
    rng: StdRng,
}

/// What a connection's readiness event led to.
enum Progress {
    /// Nothing finished; wait for the next event.
    Pending,
    /// A call finished after this long.
    Answered(Duration),
}

fn io_error(what: String) -> impl FnOnce(io::Error) -> BenchError {
    move |source| BenchError::Io { what, source }
}

impl Load {
    /// Opens `count` connections to `addr`, at most [`SETUP_IN_FLIGHT`] at a
    /// time, and has each make one call; fails if any connection is refused,
    /// closed or answered wrongly, or if they are not all served by
    /// `deadline`.
    pub fn connect(addr: SocketAddr, count: usize, deadline: Instant) -> Result<Load, BenchError> {
        let poll = Poll::new().map_err(io_error("creating the load generator's poll".into()))?;
        let mut load = Load {
            addr,
            exchange: Exchange::output_hi()?,
            poll,
            events: Events::with_capacity(1024),
            connections: Vec::with_capacity(count),
            rng: StdRng::seed_from_u64(11),
        };
        let mut served = 0;
        while served < count {
            while load.connections.len() < count
                && load.connections.len() - served < SETUP_IN_FLIGHT
            {
                load.open()?;
            }
            let opened = load.connections.len();
            let progress = || format!("{served} of {count} connections served, {opened} opened");
            for token in load.wait(deadline, progress)? {
                if let Progress::Answered(_) = load.advance(token)? {
                    let connection = &mut load.connections[token];
                    if !connection.served {
                        connection.served = true;
                        served += 1;
                    }
                }
            }
        }
        Ok(load)
    }

    /// Connections held.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    fn open(&mut self) -> Result<(), BenchError> {
        let token = self.connections.len();
        let mut stream = TcpStream::connect(self.addr).map_err(io_error(format!(
            "connection {token}: connecting to {}",
            self.addr
        )))?;
        self.poll
            .registry()
            .register(
                &mut stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(io_error(format!("connection {token}: registering it")))?;
        self.connections.push(Connection {
            stream,
            phase: Phase::Connecting,
            started: Instant::now(),
            served: false,
            buffer: vec![0; self.exchange.reply.len()],
        });
        Ok(())
    }

    /// Waits for readiness events until `deadline`; returns the tokens that
    /// have one. `progress` says how far things got, for the error.
    fn wait(
        &mut self,
        deadline: Instant,
        progress: impl FnOnce() -> String,
    ) -> Result<Vec<usize>, BenchError> {
        let now = Instant::now();
        if now >= deadline {
            return Err(BenchError::Invalid(format!(
                "load generator: out of time ({})",
                progress()
            )));
        }
        match self.poll.poll(&mut self.events, Some(deadline - now)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Vec::new()),
            Err(e) => return Err(io_error("polling the connections".into())(e)),
        }
        Ok(self.events.iter().map(|e| e.token().0).collect())
    }

    /// Starts a call on connection `token`.
    fn start_call(&mut self, token: usize) {
        let connection = &mut self.connections[token];
        connection.phase = Phase::Sending { written: 0 };
        connection.started = Instant::now();
    }

    /// Moves connection `token` as far as its socket allows (edge-triggered:
    /// until the socket would block or the call is answered).
    fn advance(&mut self, token: usize) -> Result<Progress, BenchError> {
        let request = &self.exchange.request;
        let reply = &self.exchange.reply;
        let connection = &mut self.connections[token];
        let fail = |what: &str| format!("connection {token}: {what}");
        loop {
            match connection.phase {
                Phase::Connecting => {
                    if let Some(e) = connection
                        .stream
                        .take_error()
                        .map_err(io_error(fail("connect status")))?
                    {
                        return Err(io_error(fail("connecting"))(e));
                    }
                    match connection.stream.peer_addr() {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            return Ok(Progress::Pending)
                        }
                        Err(e) => return Err(io_error(fail("connecting"))(e)),
                    }
                    connection
                        .stream
                        .set_nodelay(true)
                        .map_err(io_error(fail("setting TCP_NODELAY")))?;
                    connection.phase = Phase::Sending { written: 0 };
                    connection.started = Instant::now();
                }
                Phase::Sending { written } => match connection.stream.write(&request[written..]) {
                    Ok(0) => return Err(BenchError::Invalid(fail("the server closed it"))),
                    Ok(n) if written + n == request.len() => {
                        connection.phase = Phase::Receiving { read: 0 }
                    }
                    Ok(n) => {
                        connection.phase = Phase::Sending {
                            written: written + n,
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Progress::Pending)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_error(fail("sending a request"))(e)),
                },
                Phase::Receiving { read } => {
                    match connection.stream.read(&mut connection.buffer[read..]) {
                        Ok(0) => {
                            return Err(BenchError::Invalid(fail(&format!(
                                "the server closed it after {read} bytes of a reply"
                            ))))
                        }
                        Ok(n) if read + n == reply.len() => {
                            if connection.buffer != *reply {
                                return Err(BenchError::Invalid(fail(&format!(
                                    "wrong reply {:02x?}, expected {:02x?}",
                                    connection.buffer, reply
                                ))));
                            }
                            connection.phase = Phase::Idle;
                            return Ok(Progress::Answered(connection.started.elapsed()));
                        }
                        Ok(n) => connection.phase = Phase::Receiving { read: read + n },
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Ok(Progress::Pending)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(io_error(fail("reading a reply"))(e)),
                    }
                }
                Phase::Idle => {
                    // Bytes with no call in flight: a reply nobody asked for.
                    let mut extra = [0u8; 1];
                    return match connection.stream.read(&mut extra) {
                        Ok(0) => Err(BenchError::Invalid(fail("the server closed it"))),
                        Ok(_) => Err(BenchError::Invalid(fail("bytes with no call in flight"))),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Progress::Pending),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Progress::Pending),
                        Err(e) => Err(io_error(fail("reading"))(e)),
                    };
                }
            }
        }
    }

    /// Every connection calls in a closed loop for `window` (cut into
    /// `slices` equal parts for the rates); then no new call starts and the
    /// calls in flight finish, by `deadline` at the latest.
    pub fn measure(
        &mut self,
        window: Duration,
        slices: usize,
        deadline: Instant,
    ) -> Result<Window, BenchError> {
        let slices = slices.max(1);
        let slice = window / u32::try_from(slices).unwrap_or(u32::MAX);
        let mut per_slice = vec![0u64; slices];
        let mut samples_us = Vec::with_capacity(RESERVOIR.min(1 << 16));
        let mut seen: u64 = 0;
        let mut calls_after: u64 = 0;
        // Every connection is idle after connect(): start them all, and go
        // through them once, as no event will come for a socket whose
        // write readiness was already reported.
        let start = Instant::now();
        let end = start + window;
        let mut ready: VecDeque<usize> = (0..self.connections.len()).collect();
        for token in 0..self.connections.len() {
            self.start_call(token);
        }
        let mut in_flight = self.connections.len();
        while in_flight > 0 {
            while let Some(token) = ready.pop_front() {
                let Progress::Answered(latency) = self.advance(token)? else {
                    continue;
                };
                let now = Instant::now();
                if now < end {
                    let index = ((now - start).as_nanos() / slice.as_nanos().max(1)) as usize;
                    per_slice[index.min(slices - 1)] += 1;
                    seen += 1;
                    let us = latency.as_secs_f64() * 1e6;
                    if samples_us.len() < RESERVOIR {
                        samples_us.push(us);
                    } else {
                        let at = self.rng.gen_range(0..seen);
                        if let Ok(at) = usize::try_from(at) {
                            if at < RESERVOIR {
                                samples_us[at] = us;
                            }
                        }
                    }
                    self.start_call(token);
                    ready.push_back(token);
                } else {
                    in_flight -= 1;
                    calls_after += 1;
                }
            }
            if in_flight == 0 {
                break;
            }
            let count = self.connections.len();
            ready.extend(self.wait(deadline, || {
                format!("{in_flight} of {count} calls still in flight after the window")
            })?);
        }
        let calls: u64 = per_slice.iter().sum();
        let slice_s = slice.as_secs_f64();
        let mut sorted = samples_us.clone();
        sorted.sort_by(f64::total_cmp);
        let latency = Summary::of(
            &sorted
                .iter()
                .map(|us| Duration::from_secs_f64(us / 1e6))
                .collect::<Vec<_>>(),
        )
        .ok_or_else(|| BenchError::Invalid("no call completed in the window".into()))?;
        Ok(Window {
            calls,
            calls_after,
            elapsed_s: window.as_secs_f64(),
            slice_calls_per_s: per_slice.iter().map(|&c| c as f64 / slice_s).collect(),
            latency,
            samples_us,
        })
    }
}

/// Raises this process's soft limit on open descriptors to its hard limit
/// (children started afterwards inherit it: the servers need one per
/// connection too) and returns the limit now in force.
pub fn raise_descriptor_limit() -> Result<u64, BenchError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io_error("reading the descriptor limit".into())(
            io::Error::last_os_error(),
        ));
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io_error("raising the descriptor limit".into())(
                io::Error::last_os_error(),
            ));
        }
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    use thrift_frame_demo::Service;
    use thrift_frame_server::{Server, ServerConfig, ServerModel, ShutdownSignal};
    use thrift_frame_wire::{Protocol, Transport, WireConfig};

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn every_connection_is_served_and_every_call_counted() -> anyhow::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let config = ServerConfig {
            wire: WireConfig {
                protocol: Protocol::Binary,
                transport: Transport::Framed,
                ..WireConfig::default()
            },
            model: ServerModel::nonblocking(),
            ..ServerConfig::default()
        };
        let server = Server::with_processor(listener, config, Service::Ping.processor()?)?;
        let monitor = server.monitor();
        let shutdown = ShutdownSignal::new();
        let signal = shutdown.clone();
        let serving = thread::spawn(move || server.serve(signal));

        // More than SETUP_IN_FLIGHT, so connecting goes in several batches.
        let mut load = Load::connect(addr, 300, soon())?;
        assert_eq!(load.len(), 300);
        assert_eq!(monitor.open_connections(), 300);
        assert_eq!(monitor.report().calls, 300, "one call each");

        let window = load.measure(Duration::from_millis(200), 4, soon())?;
        assert!(window.calls > 0, "{window:?}");
        assert!(window.calls_after <= 300, "{window:?}");
        assert_eq!(
            monitor.report().calls,
            300 + window.calls + window.calls_after,
            "{window:?}"
        );
        let from_slices: f64 = window.slice_calls_per_s.iter().map(|r| r * 0.05).sum();
        assert!(
            (from_slices - window.calls as f64).abs() < 0.5,
            "{window:?}"
        );
        assert_eq!(window.latency.n, window.samples_us.len());
        assert!(window.latency.p50_us <= window.latency.p99_us);
        // Between windows every connection is open and idle.
        assert_eq!(monitor.open_connections(), 300);
        assert_eq!(monitor.busy_connections(), 0);

        drop(load);
        shutdown.trigger();
        let report = serving.join().expect("server thread")?;
        assert_eq!(report.calls, 300 + window.calls + window.calls_after);
        Ok(())
    }

    /// A server that reads each request and answers `reply` (or closes the
    /// connection, given none).
    fn fake_server(reply: Option<Vec<u8>>) -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let request_len = Exchange::output_hi()?.request.len();
        thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = vec![0; request_len];
                if stream.read_exact(&mut request).is_ok() {
                    if let Some(reply) = reply {
                        let _ = stream.write_all(&reply);
                    }
                }
            }
        });
        Ok(addr)
    }

    #[test]
    fn a_wrong_reply_or_a_closed_connection_is_an_error() -> anyhow::Result<()> {
        let mut wrong = Exchange::output_hi()?.reply;
        let last = wrong.len() - 2;
        wrong[last] ^= 1; // one byte of "You said: hi"
        let Err(e) = Load::connect(fake_server(Some(wrong))?, 1, soon()) else {
            anyhow::bail!("a wrong reply was taken");
        };
        assert!(e.to_string().contains("wrong reply"), "{e}");

        let Err(e) = Load::connect(fake_server(None)?, 1, soon()) else {
            anyhow::bail!("a closed connection was taken");
        };
        assert!(e.to_string().contains("closed"), "{e}");
        Ok(())
    }

    #[test]
    fn a_server_that_never_answers_runs_into_the_deadline() -> anyhow::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let Err(e) = Load::connect(addr, 3, Instant::now() + Duration::from_millis(300)) else {
            anyhow::bail!("connected to a server that never answers");
        };
        assert!(e.to_string().contains("0 of 3 connections served"), "{e}");
        drop(listener);
        Ok(())
    }
}
