//! `--transport auto`: one server port for THeader, framed and buffered
//! clients in binary, compact or JSON, told apart by their first bytes and
//! each answered in kind (as C++'s THeaderTransport tells header, framed
//! and unframed clients apart, with JSON beside them).
//!
//! | first bytes | the client speaks |
//! |---|---|
//! | `80 01` | buffered binary (strict) |
//! | `82` | buffered compact |
//! | `[` | buffered JSON |
//! | a length below 1 GiB, then `0f ff` | THeader (the frame names its protocol) |
//! | a length below 1 GiB, then `80 01`, `82` or `[` | framed binary, compact or JSON |
//!
//! A length's first byte is below `0x40` (frames are at most 1 GiB), so no
//! framed or THeader stream starts like an unframed message. Zlib (`78`)
//! and HTTP (`POST`) are not detected: those clients are told so.
//!
//! The bytes looked at are replayed to the stack built for them; nothing is
//! decided before they arrive, and the read side's timeouts apply while
//! waiting for them.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use thrift::protocol::{TInputProtocol, TMessageIdentifier, TOutputProtocol};
use thrift::{ProtocolError, ProtocolErrorKind};

use crate::header::{
    HeaderExchange, HeaderInputProtocol, HeaderOutputProtocol, HeaderProtocol, HEADER_MAGIC,
};
use crate::{InputProtocol, Limits, OutputProtocol, Protocol, Transport, WireConfig};

/// What a connection's first bytes said it speaks; empty until they came.
/// Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct DetectedWire(Arc<Mutex<Option<(Protocol, Transport)>>>);

impl DetectedWire {
    /// The protocol and transport detected, once the first bytes came. For
    /// THeader the protocol is the first frame's (each frame names its own).
    pub fn get(&self) -> Option<(Protocol, Transport)> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, wire: (Protocol, Transport)) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(wire);
    }
}

/// What the first bytes say, or how many are needed to say it.
fn detect(head: &[u8]) -> Result<Option<(Protocol, Transport)>, String> {
    let message_protocol = |b: &[u8]| match b {
        [0x80, 0x01, ..] => Some(Protocol::Binary),
        [0x82, ..] => Some(Protocol::Compact),
        [b'[', ..] => Some(Protocol::Json),
        _ => None,
    };
    let Some(&first) = head.first() else {
        return Ok(None);
    };
    if first >= 0x40 {
        if head.len() < 2 {
            return Ok(None);
        }
        return match message_protocol(head) {
            Some(p) => Ok(Some((p, Transport::Buffered))),
            None => Err(unrecognised(head)),
        };
    }
    if head.len() < 6 {
        return Ok(None);
    }
    if u16::from_be_bytes([head[4], head[5]]) == HEADER_MAGIC {
        // The frame names the protocol; binary until it is read.
        return Ok(Some((Protocol::Binary, Transport::Header)));
    }
    match message_protocol(&head[4..]) {
        Some(p) => Ok(Some((p, Transport::Framed))),
        None => Err(unrecognised(head)),
    }
}

fn unrecognised(head: &[u8]) -> String {
    let hint = match head {
        [0x78, ..] => {
            " (a zlib stream: zlib transport is not detected, serve it on a port of its own)"
        }
        [b'P' | b'G' | b'H', ..] => {
            " (HTTP: http transport is not detected, serve it on a port of its own)"
        }
        _ => "",
    };
    format!(
        "first bytes {head:02x?} are not a Thrift message this server detects (THeader, \
         framed or buffered; binary, compact or JSON){hint}"
    )
}

/// The bytes already read, then the rest of the stream.
struct Replayed<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
}

impl<R: Read> Read for Replayed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl<R: crate::ReadToVec> crate::ReadToVec for Replayed<R> {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = max.min(self.head.len() - self.at);
            buf.extend_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read_to_vec(buf, max)
    }
}

enum Input<R> {
    Waiting(R),
    Ready(InputProtocol),
    /// Detection failed; the connection is over.
    Failed,
}

/// The read side of an auto-detecting server connection.
pub(crate) struct AutoInputProtocol<R> {
    input: Input<R>,
    limits: Limits,
    exchange: HeaderExchange,
    detected: DetectedWire,
}

impl<R: crate::ReadToVec + Send + 'static> AutoInputProtocol<R> {
    pub(crate) fn new(
        reader: R,
        limits: Limits,
        exchange: HeaderExchange,
        detected: DetectedWire,
    ) -> Self {
        AutoInputProtocol {
            input: Input::Waiting(reader),
            limits,
            exchange,
            detected,
        }
    }

    /// Reads the first bytes and builds the stack they call for.
    fn start(&mut self, mut reader: R) -> thrift::Result<InputProtocol> {
        let mut head = [0u8; 6];
        let mut have = 0;
        let wire = loop {
            match detect(&head[..have]) {
                Ok(Some(wire)) => break wire,
                Ok(None) => {}
                Err(why) => {
                    return Err(thrift::Error::Protocol(ProtocolError::new(
                        ProtocolErrorKind::InvalidData,
                        why,
                    )))
                }
            }
            match reader.read(&mut head[have..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
                Ok(n) => have += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        };
        self.detected.set(wire);
        let replayed = Replayed {
            head: head[..have].to_vec(),
            at: 0,
            inner: reader,
        };
        let (protocol, transport) = wire;
        Ok(match transport {
            Transport::Header => Box::new(HeaderInputProtocol::new(
                replayed,
                self.limits,
                self.exchange.clone(),
            )),
            _ => WireConfig {
                protocol,
                transport,
                limits: self.limits,
            }
            .input_protocol(replayed),
        })
    }

    fn ready(&mut self) -> thrift::Result<&mut InputProtocol> {
        match &mut self.input {
            Input::Ready(input) => Ok(input),
            _ => Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::Unknown,
                "read before the first message began".to_string(),
            ))),
        }
    }
}

impl<R: crate::ReadToVec + Send + 'static> TInputProtocol for AutoInputProtocol<R> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        if let Input::Waiting(_) = self.input {
            let Input::Waiting(reader) = std::mem::replace(&mut self.input, Input::Failed) else {
                unreachable!("matched just above");
            };
            self.input = Input::Ready(self.start(reader)?);
        }
        let ident = self.ready()?.read_message_begin()?;
        if let Some(frame) = self.exchange.received_frame() {
            // A THeader frame names its protocol: the latest is what is spoken.
            let protocol = frame.protocol.unwrap_or(HeaderProtocol::Binary);
            self.detected.set((protocol.into(), Transport::Header));
        }
        Ok(ident)
    }

    forward_reads_via!(ready);
}

enum Output<W> {
    Waiting(W),
    Ready(OutputProtocol),
    Failed,
}

/// The write side of an auto-detecting server connection: built on the
/// first write, from what the read side detected.
pub(crate) struct AutoOutputProtocol<W> {
    output: Output<W>,
    limits: Limits,
    exchange: HeaderExchange,
    detected: DetectedWire,
}

impl<W: Write + Send + 'static> AutoOutputProtocol<W> {
    pub(crate) fn new(
        writer: W,
        limits: Limits,
        exchange: HeaderExchange,
        detected: DetectedWire,
    ) -> Self {
        AutoOutputProtocol {
            output: Output::Waiting(writer),
            limits,
            exchange,
            detected,
        }
    }

    fn ready(&mut self) -> thrift::Result<&mut OutputProtocol> {
        if let Output::Waiting(_) = self.output {
            let Some((protocol, transport)) = self.detected.get() else {
                return Err(thrift::Error::Protocol(ProtocolError::new(
                    ProtocolErrorKind::Unknown,
                    "a reply before any request was read".to_string(),
                )));
            };
            let Output::Waiting(writer) = std::mem::replace(&mut self.output, Output::Failed)
            else {
                unreachable!("matched just above");
            };
            let output: OutputProtocol = match transport {
                Transport::Header => Box::new(HeaderOutputProtocol::new(
                    writer,
                    self.limits,
                    self.exchange.clone(),
                )),
                _ => WireConfig {
                    protocol,
                    transport,
                    limits: self.limits,
                }
                .output_protocol(writer),
            };
            self.output = Output::Ready(output);
        }
        match &mut self.output {
            Output::Ready(output) => Ok(output),
            _ => Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::Unknown,
                "the connection's write side failed to start".to_string(),
            ))),
        }
    }
}

impl<W: Write + Send + 'static> TOutputProtocol for AutoOutputProtocol<W> {
    forward_writes_via!(ready);

    fn flush(&mut self) -> thrift::Result<()> {
        match &mut self.output {
            Output::Ready(output) => output.flush(),
            // Nothing was written yet.
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_name_the_wire() {
        let framed = |m: &[u8]| [&[0, 0, 0, 9][..], m].concat();
        for (head, wire) in [
            (
                &[0x80, 0x01, 0, 1][..],
                (Protocol::Binary, Transport::Buffered),
            ),
            (&[0x82, 0x21][..], (Protocol::Compact, Transport::Buffered)),
            (b"[1,\"", (Protocol::Json, Transport::Buffered)),
            (
                &framed(&[0x80, 0x01]),
                (Protocol::Binary, Transport::Framed),
            ),
            (
                &framed(&[0x82, 0x21]),
                (Protocol::Compact, Transport::Framed),
            ),
            (&framed(b"[1"), (Protocol::Json, Transport::Framed)),
            (
                &framed(&[0x0f, 0xff]),
                (Protocol::Binary, Transport::Header),
            ),
        ] {
            assert_eq!(detect(head), Ok(Some(wire)), "{head:02x?}");
            // One byte short of what decides: wait.
            let needed = if head[0] >= 0x40 { 2 } else { 6 };
            assert_eq!(detect(&head[..needed - 1]), Ok(None), "{head:02x?}");
        }
        for (head, hint) in [
            (&b"POST / HTTP/1.1"[..], "HTTP"),
            (&[0x78, 0x9c][..], "zlib"),
            (&[0x80, 0x02][..], ""),
            (&[0, 0, 0, 9, 0x12, 0x34][..], ""),
        ] {
            let why = detect(head).expect_err("not detected");
            assert!(why.contains(hint), "{why}");
        }
    }
}
