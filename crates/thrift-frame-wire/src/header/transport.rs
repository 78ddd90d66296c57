//! THeaderProtocol over a byte stream: every message one frame, encoded in
//! the protocol its frame names.
//!
//! The read side takes a whole frame (its length checked against the frame
//! limit before anything is allocated, its magic before the rest is read),
//! undoes the transforms within the message limit, tells the
//! [`HeaderExchange`] what the frame said, and decodes the message with the
//! binary or compact protocol under the connection's limits. The write side
//! encodes a message into a buffer and, on flush, writes it as one frame
//! with the exchange's protocol, transforms and outgoing info headers.

use std::borrow::Cow;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use thrift::protocol::{TInputProtocol, TMessageIdentifier, TOutputProtocol};
use thrift::{ProtocolError, ProtocolErrorKind};

use super::exchange::HeaderExchange;
use super::frame::{
    frame_prefix, read_header, undo_transforms, write_header_frame, HeaderError, HeaderFrame,
    HeaderProtocol, HEADER_MAGIC, MAX_HEADER_FRAME_SIZE,
};
use crate::{Limits, Protocol, Transport, WireConfig, IO_BUFFER_BYTES};

/// Bytes of a frame's length and magic: read before anything is allocated.
const LENGTH_AND_MAGIC: usize = 6;

/// The message of the end-of-file error when the peer closed where a frame
/// would start: after whole frames only, an orderly close. (C++'s
/// THeaderTransport sends a frame with no message when it closes; it is
/// skipped, so what follows it is this.)
pub const CLOSED_BETWEEN_FRAMES: &str = "the peer closed the connection between THeader frames";

fn protocol_error(kind: ProtocolErrorKind, message: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(kind, message))
}

impl From<HeaderError> for thrift::Error {
    fn from(e: HeaderError) -> thrift::Error {
        let kind = match e {
            HeaderError::InflatedTooLarge { .. } => ProtocolErrorKind::SizeLimit,
            HeaderError::UnknownProtocol(_) | HeaderError::UnknownTransform(_) => {
                ProtocolErrorKind::NotImplemented
            }
            _ => ProtocolErrorKind::InvalidData,
        };
        protocol_error(kind, e.to_string())
    }
}

impl From<HeaderProtocol> for Protocol {
    fn from(p: HeaderProtocol) -> Protocol {
        match p {
            HeaderProtocol::Binary => Protocol::Binary,
            HeaderProtocol::Compact => Protocol::Compact,
        }
    }
}

impl TryFrom<Protocol> for HeaderProtocol {
    type Error = Protocol;
    /// Binary and compact; JSON has no THeader id any library here reads.
    fn try_from(p: Protocol) -> Result<HeaderProtocol, Protocol> {
        match p {
            Protocol::Binary => Ok(HeaderProtocol::Binary),
            Protocol::Compact => Ok(HeaderProtocol::Compact),
            Protocol::Json => Err(p),
        }
    }
}

/// What a peer that is not speaking THeader sent instead, for the error.
fn not_a_header_frame(head: &[u8; LENGTH_AND_MAGIC]) -> String {
    let guess = match (head[0], head[1], head[4]) {
        (0x80, 0x01, _) => " (an unframed binary message: the peer uses buffered transport)",
        (0x82, _, _) => " (an unframed compact message: the peer uses buffered transport)",
        (_, _, 0x80) => " (a framed binary message: the peer uses framed transport)",
        (_, _, 0x82) => " (a framed compact message: the peer uses framed transport)",
        (b'P' | b'G' | b'H', _, _) => " (HTTP: the peer uses http transport)",
        _ => "",
    };
    format!(
        "not a THeader frame: first bytes {head:02x?}{guess}; `--transport auto` serves \
         header, framed and buffered clients on one port"
    )
}

/// Reads THeader frames and decodes each message in its frame's protocol.
pub struct HeaderInputProtocol<R> {
    reader: BufReader<R>,
    limits: Limits,
    exchange: HeaderExchange,
    /// The current frame's message, being decoded.
    message: Option<Box<dyn TInputProtocol + Send>>,
}

impl<R: Read> HeaderInputProtocol<R> {
    /// Frames from `reader`, within `limits`, reported to `exchange`.
    pub fn new(reader: R, limits: Limits, exchange: HeaderExchange) -> Self {
        HeaderInputProtocol {
            reader: BufReader::with_capacity(IO_BUFFER_BYTES, reader),
            limits,
            exchange,
            message: None,
        }
    }

    /// The bytes of the next frame after its length.
    fn read_frame(&mut self) -> thrift::Result<Vec<u8>> {
        let mut head = [0u8; LENGTH_AND_MAGIC];
        loop {
            match self.reader.read(&mut head[..1]) {
                Ok(0) => {
                    return Err(thrift::Error::Transport(thrift::TransportError::new(
                        thrift::TransportErrorKind::EndOfFile,
                        CLOSED_BETWEEN_FRAMES,
                    )))
                }
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.reader.read_exact(&mut head[1..4])?;
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        // The magic first: a peer speaking something else is told so before
        // its "length" is taken for one.
        self.reader.read_exact(&mut head[4..])?;
        if u16::from_be_bytes([head[4], head[5]]) != HEADER_MAGIC {
            return Err(protocol_error(
                ProtocolErrorKind::InvalidData,
                not_a_header_frame(&head),
            ));
        }
        let limit = self.limits.max_frame_size.min(MAX_HEADER_FRAME_SIZE);
        if length > limit {
            return Err(protocol_error(
                ProtocolErrorKind::SizeLimit,
                format!("THeader frame of {length} bytes exceeds the limit of {limit} bytes"),
            ));
        }
        if length < 10 {
            return Err(HeaderError::Truncated("the fixed header fields").into());
        }
        // Filled as the bytes arrive: a frame that claims more than it sends
        // costs only what it sent.
        let mut frame = Vec::with_capacity(length.min(IO_BUFFER_BYTES));
        frame.extend_from_slice(&head[4..]);
        let rest = (length - 2) as u64;
        let read = self.reader.by_ref().take(rest).read_to_end(&mut frame)?;
        if read as u64 != rest {
            return Err(thrift::Error::from(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("THeader frame truncated: {} of {length} bytes", read + 2),
            )));
        }
        Ok(frame)
    }

    fn message(&mut self) -> thrift::Result<&mut Box<dyn TInputProtocol + Send>> {
        self.message.as_mut().ok_or_else(|| {
            protocol_error(
                ProtocolErrorKind::Unknown,
                "read before a THeader message began".into(),
            )
        })
    }
}

impl<R: Read> TInputProtocol for HeaderInputProtocol<R> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        self.message = None;
        let (header, message) = loop {
            let frame = self.read_frame()?;
            let (header, payload_at) = read_header(&frame)?;
            let inflated =
                match undo_transforms(&header, &frame[payload_at..], self.limits.max_message_size)?
                {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(inflated) => Some(inflated),
                };
            let message = match inflated {
                Some(inflated) => Cursor::new(inflated),
                // No transform: the message is read where it lies.
                None => {
                    let mut message = Cursor::new(frame);
                    message.set_position(payload_at as u64);
                    message
                }
            };
            // A frame without a message (C++ sends one as it closes) says
            // nothing: the next frame, or the end, is what counts.
            if message.position() < message.get_ref().len() as u64 {
                break (header, message);
            }
        };
        let protocol = header.protocol.unwrap_or(HeaderProtocol::Binary);
        self.exchange.note_received(header);
        let wire = WireConfig {
            protocol: protocol.into(),
            transport: Transport::Buffered,
            limits: self.limits,
        };
        let input = self.message.insert(wire.message_input(message));
        input.read_message_begin()
    }

    forward_reads_via!(message);
}

/// Room kept in front of each message for its frame's length and header,
/// so a frame without transforms goes out in one write with no copy:
/// enough for the fixed fields and a few info headers (more are copied).
const HEADER_ROOM: usize = 256;

/// A message buffer larger than this is released after its frame is sent,
/// so one large message does not pin its memory for the connection's life.
const RETAINED_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// The message being encoded, after [`HEADER_ROOM`] bytes of room; shared
/// with the encoder that writes it.
#[derive(Clone)]
struct MessageBuffer(Arc<Mutex<Vec<u8>>>);

impl MessageBuffer {
    fn new() -> MessageBuffer {
        MessageBuffer(Arc::new(Mutex::new(vec![0; HEADER_ROOM])))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Write for MessageBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Encodes each message in the exchange's protocol and writes it, on
/// flush, as one THeader frame with the exchange's info headers.
pub struct HeaderOutputProtocol<W> {
    writer: W,
    limits: Limits,
    exchange: HeaderExchange,
    buffer: MessageBuffer,
    encoder: Box<dyn TOutputProtocol + Send>,
    encoder_protocol: HeaderProtocol,
    /// The current message's sequence number: the frame carries it too.
    sequence: i32,
}

impl<W: Write> HeaderOutputProtocol<W> {
    /// Frames to `writer`, in what `exchange` says.
    pub fn new(writer: W, limits: Limits, exchange: HeaderExchange) -> Self {
        let buffer = MessageBuffer::new();
        let encoder_protocol = exchange.write_protocol();
        HeaderOutputProtocol {
            encoder: encoder(encoder_protocol, limits, buffer.clone()),
            writer,
            limits,
            exchange,
            buffer,
            encoder_protocol,
            sequence: 0,
        }
    }
}

impl<W: Write> HeaderOutputProtocol<W> {
    /// The encoder of the current message (a `Result` for the forwarding
    /// macro's sake: it never fails).
    fn encoder_mut(&mut self) -> thrift::Result<&mut Box<dyn TOutputProtocol + Send>> {
        Ok(&mut self.encoder)
    }

    /// Writes the message after the room in `buffer` as one frame of
    /// `header`: the prefix put in the room in front of it when it fits and
    /// there is no transform, so length, header and message go out in one
    /// write.
    fn send(&mut self, header: &HeaderFrame, buffer: &mut [u8]) -> thrift::Result<()> {
        let message_len = buffer.len() - HEADER_ROOM;
        if header.transforms.is_empty() {
            let prefix = frame_prefix(header, message_len)?;
            if let Some(start) = HEADER_ROOM.checked_sub(prefix.len()) {
                buffer[start..HEADER_ROOM].copy_from_slice(&prefix);
                self.writer.write_all(&buffer[start..])?;
                return Ok(());
            }
        }
        let mut frame = Vec::new();
        write_header_frame(header, &buffer[HEADER_ROOM..], &mut frame)?;
        self.writer.write_all(&frame)?;
        Ok(())
    }
}

fn encoder(
    protocol: HeaderProtocol,
    limits: Limits,
    buffer: MessageBuffer,
) -> Box<dyn TOutputProtocol + Send> {
    WireConfig {
        protocol: protocol.into(),
        transport: Transport::Buffered,
        limits,
    }
    .message_output(buffer)
}

impl<W: Write> TOutputProtocol for HeaderOutputProtocol<W> {
    fn write_message_begin(&mut self, identifier: &TMessageIdentifier) -> thrift::Result<()> {
        let protocol = self.exchange.write_protocol();
        if protocol != self.encoder_protocol {
            self.encoder = encoder(protocol, self.limits, self.buffer.clone());
            self.encoder_protocol = protocol;
        }
        self.buffer.lock().truncate(HEADER_ROOM);
        self.sequence = identifier.sequence_number;
        self.encoder.write_message_begin(identifier)
    }

    forward_writes_via!(encoder_mut, without_begin);

    fn flush(&mut self) -> thrift::Result<()> {
        self.encoder.flush()?;
        let buffer = self.buffer.clone();
        let mut buffer = buffer.lock();
        if buffer.len() > HEADER_ROOM {
            // The frame's sequence number is the message's (as C++, Go and
            // Python write it), as the bits of the i32.
            let header = self.exchange.take_frame_to_write(self.sequence as u32);
            let sent = self.send(&header, &mut buffer);
            if buffer.capacity() > RETAINED_MESSAGE_BYTES {
                *buffer = Vec::with_capacity(HEADER_ROOM + IO_BUFFER_BYTES);
            }
            buffer.clear();
            buffer.resize(HEADER_ROOM, 0);
            sent?;
        }
        self.writer.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderRole;
    use thrift::protocol::TMessageType;

    /// Records each write call.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);
    impl Write for Writes {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("writes").push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_frame_goes_out_in_one_write_whatever_its_headers_and_reads_back() {
        let writes = Writes::default();
        let exchange = HeaderExchange::new(HeaderRole::Client, HeaderProtocol::Compact);
        let mut out =
            HeaderOutputProtocol::new(writes.clone(), Limits::default(), exchange.clone());
        let long = "v".repeat(HEADER_ROOM); // does not fit in the room
        for (seq, value) in [(1, "short"), (2, long.as_str()), (3, "short again")] {
            exchange.set_header("x-request-id", value);
            let ident = TMessageIdentifier::new("ping", TMessageType::Call, seq);
            out.write_message_begin(&ident).expect("begin");
            out.write_string(&"é".repeat(seq as usize * 1000))
                .expect("string");
            out.write_message_end().expect("end");
            out.flush().expect("flush");
        }
        out.flush().expect("a flush with nothing to send");
        let writes = writes.0.lock().expect("writes").clone();
        assert_eq!(writes.len(), 3, "one write per frame");
        let exchange = HeaderExchange::new(HeaderRole::Server, HeaderProtocol::Binary);
        let mut input = HeaderInputProtocol::new(
            Cursor::new(writes.concat()),
            Limits::default(),
            exchange.clone(),
        );
        for (seq, value) in [(1, "short"), (2, long.as_str()), (3, "short again")] {
            let ident = input.read_message_begin().expect("begin");
            assert_eq!(ident.sequence_number, seq);
            assert_eq!(
                input.read_string().expect("string"),
                "é".repeat(seq as usize * 1000)
            );
            assert_eq!(
                exchange.received_header("x-request-id").as_deref(),
                Some(value)
            );
        }
    }
}
