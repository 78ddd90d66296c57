//! The info headers of one connection: what came with the last frame read,
//! and what goes with the next frame written.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::frame::{HeaderFrame, HeaderProtocol, HeaderTransform};

/// The info header that names a request end to end, from the first
/// client through every service it reaches.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The info header with the milliseconds the caller will still wait for
/// the reply, as of sending the request.
pub const DEADLINE_HEADER: &str = "x-deadline-ms";

/// Which end of a connection an exchange serves: it decides what the next
/// frame is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRole {
    /// Answers every request in the protocol and transforms it came in, as
    /// the libraries' THeader servers do; headers set for a reply are
    /// dropped when the next request arrives (a oneway call has no reply).
    Server,
    /// Writes in the protocol it was built with.
    Client,
}

#[derive(Debug)]
struct State {
    role: HeaderRole,
    /// The last frame read, without its message, and when it was read.
    received: Option<HeaderFrame>,
    received_at: Option<Instant>,
    /// Info headers for the next frame written, in the order set.
    outgoing: Vec<(String, String)>,
    protocol: HeaderProtocol,
    transforms: Vec<HeaderTransform>,
}

/// The info headers of one connection, shared by its read side, its write
/// side and whoever reads or sets headers (a handler, through the server's
/// call context; a client, around each call). Cloning shares it.
///
/// ```
/// use thrift_frame_wire::{HeaderExchange, HeaderProtocol, HeaderRole};
///
/// let exchange = HeaderExchange::new(HeaderRole::Client, HeaderProtocol::Compact);
/// exchange.set_header("x-request-id", "req-42");
/// exchange.set_header("x-request-id", "req-43"); // replaces
/// assert_eq!(exchange.outgoing(), vec![("x-request-id".into(), "req-43".into())]);
/// assert_eq!(exchange.received_header("x-request-id"), None); // nothing read yet
/// ```
#[derive(Debug, Clone)]
pub struct HeaderExchange {
    state: Arc<Mutex<State>>,
}

impl HeaderExchange {
    /// An exchange for `role` that writes `protocol` until (for a server)
    /// a request says otherwise.
    pub fn new(role: HeaderRole, protocol: HeaderProtocol) -> HeaderExchange {
        HeaderExchange {
            state: Arc::new(Mutex::new(State {
                role,
                received: None,
                received_at: None,
                outgoing: Vec::new(),
                protocol,
                transforms: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state is plain data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The info headers of the last frame read, in the order they came.
    pub fn received_headers(&self) -> Vec<(String, String)> {
        self.lock()
            .received
            .as_ref()
            .map(|f| f.info.clone())
            .unwrap_or_default()
    }

    /// The value of info header `key` in the last frame read.
    pub fn received_header(&self, key: &str) -> Option<String> {
        self.lock()
            .received
            .as_ref()
            .and_then(|f| f.get(key).map(str::to_owned))
    }

    /// The last frame read (its header fields; the message went to the
    /// protocol).
    pub fn received_frame(&self) -> Option<HeaderFrame> {
        self.lock().received.clone()
    }

    /// When the last frame was read (None before the first).
    pub fn received_at(&self) -> Option<Instant> {
        self.lock().received_at
    }

    /// Forgets the last frame read: a client does this before a call, so
    /// headers of an earlier reply are never taken for this call's.
    pub fn clear_received(&self) {
        let mut state = self.lock();
        state.received = None;
        state.received_at = None;
    }

    /// Sends `key: value` with the next frame written (a request for a
    /// client, a reply for a server), replacing an earlier value of `key`.
    pub fn set_header(&self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        let mut state = self.lock();
        match state.outgoing.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => state.outgoing.push((key, value)),
        }
    }

    /// The headers the next frame will carry.
    pub fn outgoing(&self) -> Vec<(String, String)> {
        self.lock().outgoing.clone()
    }

    /// Applies zlib (or no transform) to the frames this end writes; a
    /// server's next request sets its own.
    pub fn set_transforms(&self, transforms: Vec<HeaderTransform>) {
        self.lock().transforms = transforms;
    }

    /// A server's exchange for one request already read as a whole frame
    /// (the non-blocking model reads frames itself): the handler sees its
    /// headers, and [`take_frame_to_write`](Self::take_frame_to_write) gives
    /// the reply's header.
    pub fn for_request(frame: HeaderFrame) -> HeaderExchange {
        let protocol = frame.protocol.unwrap_or(HeaderProtocol::Binary);
        let exchange = HeaderExchange::new(HeaderRole::Server, protocol);
        exchange.note_received(frame);
        exchange
    }

    /// A frame was read: remember it; a server answers in its protocol and
    /// transforms and drops headers set for an earlier reply.
    pub(crate) fn note_received(&self, frame: HeaderFrame) {
        let mut state = self.lock();
        if state.role == HeaderRole::Server {
            state.protocol = frame.protocol.unwrap_or(HeaderProtocol::Binary);
            state.transforms = frame.transforms.clone();
            state.outgoing.clear();
        }
        state.received = Some(frame);
        state.received_at = Some(Instant::now());
    }

    /// The protocol the next frame is written in.
    pub(crate) fn write_protocol(&self) -> HeaderProtocol {
        self.lock().protocol
    }

    /// The header of the next frame written, with sequence number
    /// `sequence`: the protocol and transforms to write in, and the
    /// outgoing info headers, which it takes.
    pub fn take_frame_to_write(&self, sequence: u32) -> HeaderFrame {
        let mut state = self.lock();
        HeaderFrame {
            flags: 0,
            sequence,
            protocol: Some(state.protocol),
            transforms: state.transforms.clone(),
            info: std::mem::take(&mut state.outgoing),
        }
    }
}
