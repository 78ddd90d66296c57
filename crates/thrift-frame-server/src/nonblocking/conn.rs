//! One connection of the non-blocking model: its buffers, where it is in
//! its call, and its timers.

use std::io::{self, Read, Write};
use std::mem;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thrift_frame_wire::{describe, MessageBoundary, SharedSocket, Transport};

use super::call::{Completion, Request, Verdict};
use super::Budget;
use crate::connection::{explain, Ending};
use crate::registry::{ConnectionState, Registration};
use crate::ServerConfig;

/// The size of each I/O thread's scratch buffer: reads smaller than a
/// request's known remainder by more than this go straight into the
/// request's own buffer.
pub(crate) const DIRECT_READ_MIN: usize = 64 * 1024;

/// Where a connection is in its call.
pub(crate) enum Phase {
    /// Between calls, since then.
    Idle { since: Instant },
    /// Part of a request has arrived.
    Reading {
        first_byte: Instant,
        last_byte: Instant,
    },
    /// The request is with the processor.
    Processing,
    /// The reply is going out.
    Writing {
        reply: Vec<u8>,
        written: usize,
        since: Instant,
        /// Close once it is sent, for this reason.
        then_close: Option<String>,
    },
}

/// What reading got.
pub(crate) enum Progress {
    /// Nothing more until the socket is readable again.
    Blocked,
    /// A whole request.
    Request(Request),
    /// The budget is spent: try again when bytes are given back.
    Paused,
    /// The connection is over.
    Ended(Ending),
}

pub(crate) struct Conn {
    pub id: u64,
    pub peer: SocketAddr,
    pub socket: SharedSocket,
    pub state: Arc<ConnectionState>,
    pub phase: Phase,
    pub calls: u64,
    /// Waiting for the budget before reading on.
    pub paused: bool,
    /// Bytes of the request being received (and read-ahead after it).
    inbuf: Vec<u8>,
    /// What `inbuf`'s capacity has taken from the budget.
    charged: usize,
    /// Framed: the whole frame's length, header included, once its header is in.
    frame_total: Option<usize>,
    /// Buffered: the walk of the message being received.
    boundary: Option<MessageBoundary>,
    /// Leaves the registry when the connection is dropped.
    _registration: Registration,
}

impl Conn {
    pub(crate) fn new(
        id: u64,
        peer: SocketAddr,
        socket: SharedSocket,
        state: Arc<ConnectionState>,
        registration: Registration,
        config: &ServerConfig,
    ) -> Conn {
        let boundary = match config.wire.transport {
            // THeader frames are length-prefixed as framed ones are.
            Transport::Framed | Transport::Header => None,
            _ => MessageBoundary::new(config.wire.protocol, config.wire.limits),
        };
        Conn {
            id,
            peer,
            socket,
            state,
            phase: Phase::Idle {
                since: Instant::now(),
            },
            calls: 0,
            paused: false,
            inbuf: Vec::new(),
            charged: 0,
            frame_total: None,
            boundary,
            _registration: registration,
        }
    }

    /// Gives back everything this connection holds of the budget.
    pub(crate) fn release(&mut self, budget: &Budget) {
        budget.give_back(mem::take(&mut self.charged));
        self.inbuf = Vec::new();
        if let Phase::Writing { reply, .. } = &mut self.phase {
            budget.give_back(reply.capacity());
            *reply = Vec::new();
        }
    }

    /// Keeps the budget's count in step with `inbuf`'s capacity.
    fn recharge(&mut self, budget: &Budget) {
        let capacity = self.inbuf.capacity();
        if capacity > self.charged {
            budget.take(capacity - self.charged);
        } else {
            budget.give_back(self.charged - capacity);
        }
        self.charged = capacity;
    }

    /// Reads until a whole request is here, the socket has nothing more,
    /// the budget is spent, or the connection ends.
    pub(crate) fn read_request(
        &mut self,
        scratch: &mut [u8],
        config: &ServerConfig,
        budget: &Budget,
    ) -> Progress {
        loop {
            match self.extract(config, budget) {
                Ok(Some(request)) => return Progress::Request(request),
                Ok(None) => {}
                Err(ending) => return Progress::Ended(ending),
            }
            if !self.make_room(config, budget) {
                self.paused = true;
                return Progress::Paused;
            }
            self.paused = false;
            let before = self.inbuf.len();
            let read = self.read_some(scratch);
            let got = self.inbuf.len() - before;
            self.recharge(budget);
            if got > 0 {
                self.arrived(got);
            }
            match read {
                Ok(0) if got == 0 => return Progress::Ended(self.closed_by_peer()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if got == 0 {
                        return Progress::Blocked;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Progress::Ended(if self.inbuf.is_empty() && self.is_idle() {
                        Ending::Problem(format!("connection reset by peer ({e})"))
                    } else {
                        Ending::Problem(format!(
                            "connection failed mid-message after {} bytes: {e}",
                            self.inbuf.len()
                        ))
                    });
                }
            }
        }
    }

    fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle { .. })
    }

    fn closed_by_peer(&self) -> Ending {
        if self.inbuf.is_empty() && self.is_idle() {
            Ending::PeerClosed
        } else {
            Ending::Problem(format!(
                "peer closed mid-message after {} bytes (truncated request)",
                self.inbuf.len()
            ))
        }
    }

    /// Counts bytes that arrived; the first of a request starts its clock.
    fn arrived(&mut self, bytes: usize) {
        self.state
            .bytes_read
            .fetch_add(bytes as u64, Ordering::Relaxed);
        let now = Instant::now();
        match &mut self.phase {
            Phase::Reading { last_byte, .. } => *last_byte = now,
            _ => {
                self.state.busy.store(true, Ordering::SeqCst);
                self.phase = Phase::Reading {
                    first_byte: now,
                    last_byte: now,
                };
            }
        }
    }

    /// How many bytes the current message is known to need in all.
    fn known_total(&self) -> Option<usize> {
        match (&self.boundary, self.frame_total) {
            (_, Some(total)) => Some(total),
            // Worth a buffer of its own only when far beyond a read's worth.
            (Some(boundary), None) if boundary.at_least() > self.inbuf.len() + DIRECT_READ_MIN => {
                Some(boundary.at_least())
            }
            _ => None,
        }
    }

    /// Makes room in `inbuf` for the next read within the budget: the whole
    /// known message at once, so later reads go straight into it. False
    /// when the budget cannot take it now.
    fn make_room(&mut self, config: &ServerConfig, budget: &Budget) -> bool {
        let wanted = match self.known_total() {
            Some(total) if total > self.inbuf.capacity() => total,
            // Room made before: reading into it takes nothing more.
            Some(_) => return true,
            // Into the scratch buffer and appended: a read's worth at most.
            None => return budget.has_room(),
        };
        let wanted = wanted.min(config.wire.limits.max_message_size + 4);
        let extra = wanted - self.inbuf.capacity();
        if !budget.try_take(extra) {
            return false;
        }
        // Taken already: `recharge` must not take it again.
        self.inbuf.reserve_exact(wanted - self.inbuf.len());
        self.charged += extra;
        self.recharge(budget);
        true
    }

    /// One read: straight into `inbuf` when it has room for the message,
    /// else into the scratch buffer and appended.
    fn read_some(&mut self, scratch: &mut [u8]) -> io::Result<usize> {
        let room = self.inbuf.capacity() - self.inbuf.len();
        let stream = self.socket.stream();
        if room > 0 && self.known_total().is_some() {
            let want = match self.known_total() {
                Some(total) => total.saturating_sub(self.inbuf.len()).min(room),
                None => room,
            };
            // `read_to_end` reads into the spare capacity without zeroing it
            // first, keeps what it read when it stops at WouldBlock, and
            // stops at the limit without growing the buffer.
            return Read::take(stream, want as u64).read_to_end(&mut self.inbuf);
        }
        let n = (&*stream).read(scratch)?;
        self.inbuf.extend_from_slice(&scratch[..n]);
        Ok(n)
    }

    /// Takes a whole request out of `inbuf`, if one is there.
    fn extract(
        &mut self,
        config: &ServerConfig,
        budget: &Budget,
    ) -> Result<Option<Request>, Ending> {
        if self.inbuf.is_empty() {
            return Ok(None);
        }
        let (start, end) = match &mut self.boundary {
            None => {
                let total = match self.frame_total {
                    Some(total) => total,
                    None => {
                        let Some(header) = self.inbuf.get(..4) else {
                            return Ok(None);
                        };
                        let length =
                            u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
                        let length = frame_length(length, config)?;
                        self.frame_total = Some(length + 4);
                        length + 4
                    }
                };
                if self.inbuf.len() < total {
                    return Ok(None);
                }
                (4, total)
            }
            Some(boundary) => match boundary.scan(&self.inbuf) {
                Ok(Some(end)) => {
                    boundary.reset();
                    (0, end)
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    return Err(Ending::Problem(format!(
                        "{} after {} bytes",
                        explain(&e, config),
                        self.inbuf.len()
                    )))
                }
            },
        };
        self.frame_total = None;
        let mut bytes = mem::take(&mut self.inbuf);
        if bytes.len() > end {
            // Pipelined: the next request's first bytes stay for later.
            self.inbuf = bytes[end..].to_vec();
            bytes.truncate(end);
        }
        let charged = mem::take(&mut self.charged);
        self.recharge(budget);
        Ok(Some(Request {
            bytes,
            start,
            end,
            charged,
        }))
    }

    /// Takes the processor's result: the reply goes out, or the connection ends.
    pub(crate) fn complete(&mut self, completion: Completion, budget: &Budget) -> Option<Ending> {
        budget.give_back(completion.request_charged);
        let then_close = match completion.verdict {
            Verdict::Continue => None,
            Verdict::CloseAfter(reason) => Some(reason),
            Verdict::Close(Some(reason)) => return Some(Ending::Problem(reason)),
            Verdict::Close(None) => return Some(Ending::Panicked),
        };
        self.calls += 1;
        budget.take(completion.reply.capacity());
        self.phase = Phase::Writing {
            reply: completion.reply,
            written: 0,
            since: Instant::now(),
            then_close,
        };
        None
    }

    /// Writes what the socket takes of the reply. Ok(true) once all of it
    /// is sent and the connection is idle again.
    pub(crate) fn write_reply(&mut self, budget: &Budget) -> Result<bool, Ending> {
        let Phase::Writing {
            reply,
            written,
            then_close,
            ..
        } = &mut self.phase
        else {
            return Ok(false);
        };
        let mut stream = self.socket.stream();
        while *written < reply.len() {
            match stream.write(&reply[*written..]) {
                Ok(0) => {
                    return Err(Ending::Problem(
                        "could not send the reply: the socket took nothing".into(),
                    ))
                }
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Ending::Problem(format!(
                        "could not send the reply: peer gone or not reading ({})",
                        describe(&thrift::Error::from(e))
                    )))
                }
            }
        }
        budget.give_back(reply.capacity());
        if let Some(reason) = then_close.take() {
            *reply = Vec::new();
            return Err(Ending::Problem(reason));
        }
        self.phase = Phase::Idle {
            since: Instant::now(),
        };
        self.state.busy.store(false, Ordering::SeqCst);
        Ok(true)
    }

    /// The timer that has run out for this connection, if one has.
    pub(crate) fn expired(&self, now: Instant, config: &ServerConfig) -> Option<Ending> {
        let over = |since: Instant, limit: Option<Duration>| {
            limit.is_some_and(|limit| now.saturating_duration_since(since) > limit)
        };
        let received = self.inbuf.len();
        match &self.phase {
            Phase::Idle { since } if over(*since, config.idle_timeout) => Some(Ending::Idle),
            Phase::Reading { first_byte, .. } if over(*first_byte, config.request_timeout) => {
                Some(Ending::Problem(format!(
                    "request not complete {} ms after its first byte, {received} bytes \
                     received (too slow or trickling; see --request-timeout-ms)",
                    millis(config.request_timeout)
                )))
            }
            // Paused, it is the server that is not reading: no stall of the peer's.
            Phase::Reading { last_byte, .. }
                if !self.paused && over(*last_byte, config.stall_timeout) =>
            {
                Some(Ending::Problem(format!(
                    "peer stalled mid-message: no data for {} ms after {received} bytes",
                    millis(config.stall_timeout)
                )))
            }
            Phase::Writing {
                since,
                written,
                reply,
                ..
            } if over(*since, config.write_timeout) => Some(Ending::Problem(format!(
                "could not send the reply: the peer took {written} of its {} bytes in {} ms \
                 (not reading; see --write-timeout-ms)",
                reply.len(),
                millis(config.write_timeout)
            ))),
            _ => None,
        }
    }
}

fn millis(t: Option<Duration>) -> u128 {
    t.map(|t| t.as_millis()).unwrap_or(0)
}

/// A frame's announced length, refused before anything is allocated for it
/// when it is over the limit or too short to hold a message.
fn frame_length(length: u32, config: &ServerConfig) -> Result<usize, Ending> {
    let max = config.wire.limits.max_frame_size;
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > max {
        return Err(Ending::Problem(format!(
            "frame of {length} bytes exceeds the maximum frame size {max} (raise the server's \
             limits if this is legitimate; is the peer speaking framed transport?)"
        )));
    }
    if length == 0 {
        return Err(Ending::Problem("empty frame: no message in it".into()));
    }
    Ok(length)
}
