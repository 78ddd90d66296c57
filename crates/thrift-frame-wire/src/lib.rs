#![warn(missing_docs)]
//! The wire layer shared by the server and the client: which protocol and
//! transport to speak, the size limits that bound every allocation made on
//! behalf of a peer, and the function that stacks transport and protocol on
//! top of a byte stream.
//!
//! Buffered transport: Thrift's "buffered" transport puts nothing on the wire,
//! so any buffering is byte-compatible. Writes go through `std::io::BufWriter`
//! and reads through our [`BufferedSource`] because, unlike the crate's
//! buffered transports, they bypass their buffer for reads and writes larger
//! than it: a 1 MiB string goes straight between the socket and its
//! destination instead of through the buffer.
//!
//! Binary and compact are read by our own [`BinaryInputProtocol`] and
//! [`CompactInputProtocol`] (the crate's write side is kept): the same
//! values and errors as the crate's readers, but a string's bytes go from
//! the socket into the string's own allocation once, unzeroed, through a
//! [`ByteSource`]; which is why the stacks take a [`ReadToVec`] reader.
//!
//! Framed transport is our own [`FramedReader`] and [`FramedWriter`]: the
//! crate's `TFramedReadTransport` has a fixed frame limit (16,384,000 bytes)
//! that cannot be configured and copies every frame once more than needed,
//! and its writer sends the length in a packet of its own.
//!
//! Zlib transport ([`ZlibReader`], [`ZlibWriter`]) is TZlibTransport over
//! the socket: one zlib stream each way, sync-flushed per message.
//!
//! Header transport ([`header`](HeaderInputProtocol)) is THeaderTransport
//! with THeaderProtocol: a frame per message naming its protocol, with
//! key-value info headers a [`HeaderExchange`] reads and sets per call. A
//! server's [`Transport::Auto`] tells THeader, framed and buffered clients
//! apart by their first bytes and answers each in kind.
//!
//! HTTP transport ([`http`]) is THttpClient/THttpServer: a POST per call.
//! It needs both directions of a connection at once (a bad request is
//! answered while it is read), so connections are stacked with
//! [`WireConfig::server_stack`] and [`WireConfig::client_stack`].

#[macro_use]
mod forward;
mod auto;
mod boundary;
mod framed;
mod header;
pub mod http;
mod input;
mod json;
mod limits;
mod observed;
mod socket;
mod timeouts;
mod zlib;

use std::fmt;
use std::io::{BufReader, BufWriter, Read, Write};
use std::str::FromStr;

use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TInputProtocol, TOutputProtocol,
};

pub use auto::DetectedWire;
pub use boundary::MessageBoundary;
pub use framed::{FramedReader, FramedWriter};
pub use header::{
    read_header_frame, split_header_frame, write_header_frame, HeaderError, HeaderExchange,
    HeaderFrame, HeaderInputProtocol, HeaderOutputProtocol, HeaderProtocol, HeaderRole,
    HeaderTransform, CLOSED_BETWEEN_FRAMES, DEADLINE_HEADER, HEADER_MAGIC, MAX_HEADER_FRAME_SIZE,
    REQUEST_ID_HEADER,
};
pub use http::{HttpEnd, HttpExchange, HttpTarget};
pub use input::{
    BinaryInputProtocol, BufferedSource, ByteSource, CompactInputProtocol, DirectSource, ReadToVec,
};
pub use json::{TJsonInputProtocol, TJsonOutputProtocol};
pub use limits::Limits;
pub use observed::{ObservedInputProtocol, RequestObserver, RequestOutcome};
pub use socket::SharedSocket;
pub use timeouts::{describe, TimeoutReporting};
pub use zlib::{BudgetedInput, MessageBudget, ZlibReader, ZlibWriter};

/// Size of the read and write buffers: large enough that a typical message
/// header and small calls need one syscall, small enough to be cheap per
/// connection.
pub const IO_BUFFER_BYTES: usize = 64 * 1024;

/// Size of the read buffer under binary and compact, buffered and framed:
/// a small message arrives in one read; of a large string, what came with
/// its message's first read is copied out of it and the rest is read
/// straight into the string, so a smaller buffer copies less.
pub const READ_BUFFER_BYTES: usize = 16 * 1024;

/// A boxed input protocol, as handed to processors and generated clients.
pub type InputProtocol = Box<dyn TInputProtocol + Send>;
/// A boxed output protocol, as handed to processors and generated clients.
pub type OutputProtocol = Box<dyn TOutputProtocol + Send>;

/// Errors of the wire layer: bad names and inconsistent limits.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A protocol name other than `binary`, `compact` or `json`.
    #[error("unknown protocol {0:?}: expected binary, compact or json")]
    UnknownProtocol(String),
    /// A transport name other than `buffered`, `framed`, `zlib`, `http`,
    /// `header` or `auto`.
    #[error("unknown transport {0:?}: expected buffered, framed, zlib, http, header or auto")]
    UnknownTransport(String),
    /// A protocol and transport that do not go together (JSON inside
    /// THeader), or a server-only transport on a client.
    #[error("{0}")]
    Unsupported(String),
    /// Limits that contradict each other or the thrift crate's own.
    #[error("invalid limits: {reason}")]
    InvalidLimits {
        /// Which limits, and why.
        reason: String,
        /// The thrift crate's objection, if it made one.
        #[source]
        source: Option<thrift::Error>,
    },
}

/// The Thrift protocol (encoding) spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TBinaryProtocol, strict on both read and write (the version header is
    /// required), as the C++, Go and Python libraries write it by default.
    Binary,
    /// TCompactProtocol.
    Compact,
    /// TJSONProtocol, as C++ writes it ([`TJsonOutputProtocol`]).
    Json,
}

/// The Thrift transport (framing) used on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// No framing: messages are written back to back.
    Buffered,
    /// Each message is preceded by its length as a 4-byte big-endian integer.
    Framed,
    /// TZlibTransport: the bytes deflated into one zlib stream each way,
    /// sync-flushed after every message.
    Zlib,
    /// THttpClient/THttpServer: each call a POST, each reply its response.
    Http,
    /// THeaderTransport with THeaderProtocol: each message a frame that
    /// names its protocol (binary or compact) and carries info headers.
    Header,
    /// Servers only: THeader, framed or buffered, binary, compact or JSON,
    /// detected per connection from its first bytes and answered in kind.
    /// A client given it speaks header.
    Auto,
}

impl Protocol {
    /// Every protocol, for tests and matrices.
    pub const ALL: [Protocol; 3] = [Protocol::Binary, Protocol::Compact, Protocol::Json];

    /// The name as command lines spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Binary => "binary",
            Protocol::Compact => "compact",
            Protocol::Json => "json",
        }
    }
}

impl Transport {
    /// Every transport both ends speak, for tests and matrices (not
    /// [`Transport::Auto`], which only a server does).
    pub const ALL: [Transport; 5] = [
        Transport::Buffered,
        Transport::Framed,
        Transport::Zlib,
        Transport::Http,
        Transport::Header,
    ];

    /// The name as command lines spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Buffered => "buffered",
            Transport::Framed => "framed",
            Transport::Zlib => "zlib",
            Transport::Http => "http",
            Transport::Header => "header",
            Transport::Auto => "auto",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "binary" => Ok(Protocol::Binary),
            "compact" => Ok(Protocol::Compact),
            "json" => Ok(Protocol::Json),
            other => Err(WireError::UnknownProtocol(other.to_owned())),
        }
    }
}

impl FromStr for Transport {
    type Err = WireError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "buffered" => Ok(Transport::Buffered),
            "framed" => Ok(Transport::Framed),
            "zlib" => Ok(Transport::Zlib),
            "http" => Ok(Transport::Http),
            "header" => Ok(Transport::Header),
            "auto" => Ok(Transport::Auto),
            other => Err(WireError::UnknownTransport(other.to_owned())),
        }
    }
}

/// Everything needed to stack a connection: protocol, transport and limits.
#[derive(Debug, Clone)]
pub struct WireConfig {
    /// The encoding.
    pub protocol: Protocol,
    /// The framing.
    pub transport: Transport,
    /// What a peer may make us allocate.
    pub limits: Limits,
}

impl Default for WireConfig {
    fn default() -> Self {
        WireConfig {
            protocol: Protocol::Compact,
            transport: Transport::Buffered,
            limits: Limits::default(),
        }
    }
}

/// A server connection's protocols, and what its transport shares with
/// the connection loop.
pub struct ServerStack {
    /// Requests in.
    pub input: InputProtocol,
    /// Replies out.
    pub output: OutputProtocol,
    /// For [`Transport::Http`] only: the connection asks it why reading
    /// stopped, and has it answer a oneway call.
    pub http: Option<HttpExchange>,
    /// For [`Transport::Header`] and [`Transport::Auto`]: the request's info
    /// headers, and the reply's (empty for an auto client that turned out
    /// not to speak THeader).
    pub header: Option<HeaderExchange>,
    /// For [`Transport::Auto`]: what the client turned out to speak.
    pub detected: Option<DetectedWire>,
}

/// A client connection's protocols, and its info headers when the
/// transport is THeader.
pub struct ClientStack {
    /// Replies in.
    pub input: InputProtocol,
    /// Requests out.
    pub output: OutputProtocol,
    /// For [`Transport::Header`]: headers to send with the next request,
    /// and those of the last reply.
    pub header: Option<HeaderExchange>,
}

impl WireConfig {
    /// Refuses what cannot be served or spoken: JSON inside THeader (no
    /// library here reads it), and with `client`, [`Transport::Auto`].
    pub fn check(&self, client: bool) -> Result<(), WireError> {
        match (self.protocol, self.transport) {
            (Protocol::Json, Transport::Header) => Err(WireError::Unsupported(
                "header transport carries binary or compact, not json".into(),
            )),
            (_, Transport::Auto) if client => Err(WireError::Unsupported(
                "auto is a server transport: a client speaks one transport (header, framed, ...)"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The protocol THeader frames are written in until a peer says
    /// otherwise: the configured one, binary for JSON (refused by `check`).
    fn header_protocol(&self) -> HeaderProtocol {
        HeaderProtocol::try_from(self.protocol).unwrap_or(HeaderProtocol::Binary)
    }

    /// THeader both ways over the socket's halves, sharing one exchange.
    fn header_stack<R, W>(
        &self,
        reader: R,
        writer: W,
        role: HeaderRole,
    ) -> (InputProtocol, OutputProtocol, HeaderExchange)
    where
        R: ReadToVec + Send + 'static,
        W: Write + Send + 'static,
    {
        let exchange = HeaderExchange::new(role, self.header_protocol());
        (
            Box::new(HeaderInputProtocol::new(
                reader,
                self.limits,
                exchange.clone(),
            )),
            Box::new(HeaderOutputProtocol::new(
                writer,
                self.limits,
                exchange.clone(),
            )),
            exchange,
        )
    }

    /// Stacks a server connection over the socket's halves.
    pub fn server_stack<R, W>(&self, reader: R, writer: W) -> ServerStack
    where
        R: ReadToVec + Send + 'static,
        W: Write + Send + 'static,
    {
        match self.transport {
            Transport::Http => {
                let (requests, responses, exchange) =
                    http::server_halves(reader, writer, self.limits.max_frame_size);
                ServerStack {
                    input: self.protocol_over(DirectSource(requests)),
                    output: self.output_over(responses),
                    http: Some(exchange),
                    header: None,
                    detected: None,
                }
            }
            Transport::Header => {
                let (input, output, exchange) =
                    self.header_stack(reader, writer, HeaderRole::Server);
                ServerStack {
                    input,
                    output,
                    http: None,
                    header: Some(exchange),
                    detected: None,
                }
            }
            Transport::Auto => {
                let exchange = HeaderExchange::new(HeaderRole::Server, self.header_protocol());
                let detected = DetectedWire::default();
                ServerStack {
                    input: Box::new(auto::AutoInputProtocol::new(
                        reader,
                        self.limits,
                        exchange.clone(),
                        detected.clone(),
                    )),
                    output: Box::new(auto::AutoOutputProtocol::new(
                        writer,
                        self.limits,
                        exchange.clone(),
                        detected.clone(),
                    )),
                    http: None,
                    header: Some(exchange),
                    detected: Some(detected),
                }
            }
            Transport::Buffered | Transport::Framed | Transport::Zlib => ServerStack {
                input: self.input_protocol(reader),
                output: self.output_protocol(writer),
                http: None,
                header: None,
                detected: None,
            },
        }
    }

    /// Stacks a client connection over the socket's halves; `target` is
    /// where HTTP requests go (unused by the other transports).
    pub fn client_stack<R, W>(&self, reader: R, writer: W, target: &HttpTarget) -> ClientStack
    where
        R: ReadToVec + Send + 'static,
        W: Write + Send + 'static,
    {
        match self.transport {
            Transport::Header | Transport::Auto => {
                let (input, output, exchange) =
                    self.header_stack(reader, writer, HeaderRole::Client);
                ClientStack {
                    input,
                    output,
                    header: Some(exchange),
                }
            }
            // The read side needs no target: it is `input_protocol`'s for HTTP too.
            Transport::Http => ClientStack {
                input: self.input_protocol(reader),
                output: self.output_over(http::HttpRequestWriter::new(writer, target)),
                header: None,
            },
            Transport::Buffered | Transport::Framed | Transport::Zlib => ClientStack {
                input: self.input_protocol(reader),
                output: self.output_protocol(writer),
                header: None,
            },
        }
    }

    /// Stacks the read side: `reader` -> transport -> protocol, with limits.
    /// For HTTP this is the client's read side (replies in responses), and
    /// for THeader and auto a client's read side with headers of its own;
    /// a server uses [`server_stack`](Self::server_stack).
    pub fn input_protocol<R>(&self, reader: R) -> InputProtocol
    where
        R: ReadToVec + Send + 'static,
    {
        match self.transport {
            Transport::Http => {
                let responses = http::HttpResponseReader::new(reader, self.limits.max_frame_size);
                self.protocol_over(DirectSource(responses))
            }
            Transport::Header | Transport::Auto => Box::new(HeaderInputProtocol::new(
                reader,
                self.limits,
                HeaderExchange::new(HeaderRole::Client, self.header_protocol()),
            )),
            Transport::Buffered => {
                let transport = BufferedSource::new(reader, READ_BUFFER_BYTES);
                self.protocol_over(transport)
            }
            Transport::Framed => {
                let transport =
                    FramedReader::new(reader, self.limits.max_frame_size, READ_BUFFER_BYTES);
                self.protocol_over(transport)
            }
            Transport::Zlib => {
                let budget = MessageBudget::default();
                let inflated = ZlibReader::new(
                    reader,
                    IO_BUFFER_BYTES,
                    self.limits.max_message_size,
                    budget.clone(),
                );
                // The protocol reads in small pieces: buffered above the
                // decoder so each is not a call into inflate.
                let transport = DirectSource(BufReader::with_capacity(IO_BUFFER_BYTES, inflated));
                self.protocol_budgeted(transport, Some(budget))
            }
        }
    }

    /// The protocol alone over `reader`, no transport beneath it, within
    /// the same limits: for a server that frames messages itself (the
    /// non-blocking model hands the processor one whole message).
    pub fn message_input<'a, R>(&self, reader: R) -> Box<dyn TInputProtocol + Send + 'a>
    where
        R: ReadToVec + Send + 'a,
    {
        self.protocol_over(DirectSource(reader))
    }

    /// The protocol alone over `writer`, no transport beneath it: the
    /// reply side of [`message_input`](Self::message_input).
    pub fn message_output<'a, W>(&self, writer: W) -> Box<dyn TOutputProtocol + Send + 'a>
    where
        W: Write + Send + 'a,
    {
        self.output_over(writer)
    }

    fn protocol_over<'a, T>(&self, transport: T) -> Box<dyn TInputProtocol + Send + 'a>
    where
        T: ByteSource + Read + Send + 'a,
    {
        self.protocol_budgeted(transport, None)
    }

    fn protocol_budgeted<'a, T>(
        &self,
        transport: T,
        budget: Option<MessageBudget>,
    ) -> Box<dyn TInputProtocol + Send + 'a>
    where
        T: ByteSource + Read + Send + 'a,
    {
        // Every protocol validates its strings as UTF-8 itself (JSON as it
        // decodes escaped text).
        let input: Box<dyn TInputProtocol + Send + 'a> = match self.protocol {
            Protocol::Binary => Box::new(BinaryInputProtocol::new(transport, self.limits)),
            Protocol::Compact => Box::new(CompactInputProtocol::new(transport, self.limits)),
            Protocol::Json => Box::new(TJsonInputProtocol::new(transport, self.limits)),
        };
        match budget {
            Some(budget) => Box::new(BudgetedInput::new(input, budget)),
            None => input,
        }
    }

    /// Stacks the write side: protocol -> transport -> `writer`. For HTTP
    /// this is the client's write side (a POST to `/` per message, with no
    /// Host), for THeader and auto a client's, without headers; a client
    /// uses [`client_stack`](Self::client_stack).
    pub fn output_protocol<W>(&self, writer: W) -> OutputProtocol
    where
        W: Write + Send + 'static,
    {
        match self.transport {
            Transport::Http => {
                let target = HttpTarget::new("localhost", "/");
                self.output_over(http::HttpRequestWriter::new(writer, &target))
            }
            Transport::Header | Transport::Auto => Box::new(HeaderOutputProtocol::new(
                writer,
                self.limits,
                HeaderExchange::new(HeaderRole::Client, self.header_protocol()),
            )),
            Transport::Buffered => {
                let transport = BufWriter::with_capacity(IO_BUFFER_BYTES, writer);
                self.output_over(transport)
            }
            Transport::Framed => {
                let transport = FramedWriter::new(writer, IO_BUFFER_BYTES);
                self.output_over(transport)
            }
            Transport::Zlib => {
                // Buffered above the encoder: the protocol writes in small
                // pieces, deflate is fed in large ones.
                let transport = BufWriter::with_capacity(
                    IO_BUFFER_BYTES,
                    ZlibWriter::new(writer, IO_BUFFER_BYTES),
                );
                self.output_over(transport)
            }
        }
    }

    fn output_over<'a, T>(&self, transport: T) -> Box<dyn TOutputProtocol + Send + 'a>
    where
        T: Write + Send + 'a,
    {
        let config = self.limits.thrift_configuration();
        match self.protocol {
            Protocol::Binary => {
                Box::new(TBinaryOutputProtocol::with_config(transport, true, config))
            }
            Protocol::Compact => Box::new(TCompactOutputProtocol::with_config(transport, config)),
            Protocol::Json => Box::new(TJsonOutputProtocol::new(transport)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::sync::{Arc, Mutex};
    use thrift::protocol::{TMessageIdentifier, TMessageType};

    /// A `Write` that keeps what was written, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn round_trip(protocol: Protocol, transport: Transport, text: &str) -> (String, String) {
        let wire = WireConfig {
            protocol,
            transport,
            limits: Limits::default(),
        };
        let sink = Sink::default();
        let mut out = wire.output_protocol(sink.clone());
        let ident = TMessageIdentifier::new("ping", TMessageType::Call, 7);
        out.write_message_begin(&ident).expect("begin");
        out.write_string(text).expect("string");
        out.write_message_end().expect("end");
        out.flush().expect("flush");
        let bytes = sink.0.lock().expect("sink lock").clone();
        let mut input = wire.input_protocol(Cursor::new(bytes));
        let got = input.read_message_begin().expect("read begin");
        let s = input.read_string().expect("read string");
        (got.name, s)
    }

    #[test]
    fn every_protocol_and_transport_round_trips_a_large_string() {
        let text = "é".repeat(300_000);
        for p in Protocol::ALL {
            // HTTP's two sides differ: tests/http_transport.rs.
            for t in Transport::ALL.into_iter().filter(|t| *t != Transport::Http) {
                if (WireConfig {
                    protocol: p,
                    transport: t,
                    limits: Limits::default(),
                })
                .check(true)
                .is_err()
                {
                    continue;
                }
                let (name, s) = round_trip(p, t, &text);
                assert_eq!(name, "ping", "{p}/{t}");
                assert_eq!(s, text, "{p}/{t}");
            }
        }
    }

    #[test]
    fn names_parse_and_print() {
        for p in Protocol::ALL {
            assert_eq!(p.as_str().parse::<Protocol>().expect("parse"), p);
        }
        for t in Transport::ALL.into_iter().chain([Transport::Auto]) {
            assert_eq!(t.as_str().parse::<Transport>().expect("parse"), t);
        }
        assert!(matches!(
            "header".parse::<Protocol>(),
            Err(WireError::UnknownProtocol(_))
        ));
        assert!(matches!(
            "tcp".parse::<Transport>(),
            Err(WireError::UnknownTransport(_))
        ));
    }
}
