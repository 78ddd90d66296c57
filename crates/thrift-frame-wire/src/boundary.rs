//! Where one message ends in an unframed byte stream, found without decoding it.
//!
//! A non-blocking server hands a request to a processor only once all of it
//! has arrived, because processors read synchronously. Framed transport
//! says how long a message is; buffered (unframed) transport does not, so
//! [`MessageBoundary`] walks the message's structure instead: the envelope,
//! then field headers, container headers and lengths, stepping over every
//! payload by its length without copying or decoding it.
//!
//! The walk resumes: given the same bytes and more, it continues from the
//! last complete token, so a message trickling in byte by byte costs linear
//! time, and a 1 MiB string that has not fully arrived costs nothing per
//! look. Every length is checked against the [`Limits`] before the walk
//! relies on it, so a peer cannot make the caller buffer more than
//! `max_message_size` for one message.

use thrift::{Error, ProtocolError, ProtocolErrorKind};

use crate::{Limits, Protocol};

/// Finds the end of one binary or compact message at the start of a buffer.
///
/// ```
/// use thrift::protocol::{TCompactOutputProtocol, TMessageIdentifier, TMessageType,
///     TOutputProtocol, TStructIdentifier};
/// use thrift_frame_wire::{Limits, MessageBoundary, Protocol};
///
/// let mut bytes = Vec::new();
/// {
///     let mut out = TCompactOutputProtocol::new(&mut bytes);
///     out.write_message_begin(&TMessageIdentifier::new("ping", TMessageType::Call, 1))?;
///     out.write_struct_begin(&TStructIdentifier::new("ping_args"))?;
///     out.write_field_stop()?;
///     out.write_struct_end()?;
///     out.write_message_end()?;
/// }
/// let mut boundary = MessageBoundary::new(Protocol::Compact, Limits::default())
///     .expect("compact has boundaries");
/// // Half a message: not yet.
/// assert_eq!(boundary.scan(&bytes[..bytes.len() / 2])?, None);
/// // All of it, and the start of the next one: the first ends here.
/// bytes.extend_from_slice(&[0x82, 0x21]);
/// assert_eq!(boundary.scan(&bytes)?, Some(bytes.len() - 2));
/// # Ok::<(), thrift::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MessageBoundary {
    codec: Codec,
    limits: Limits,
    /// Bytes of the message walked so far: every token before this is complete.
    pos: usize,
    /// Whether the envelope has been walked.
    started: bool,
    /// A value whose field header has been walked but not the value itself.
    pending: Option<Kind>,
    /// The structs and containers the walk is inside, innermost last.
    stack: Vec<Frame>,
    /// After a scan that found the message incomplete: its least length.
    at_least: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Binary,
    Compact,
}

/// A value's type, whichever protocol named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    Binary,
    Struct,
    Map,
    Set,
    List,
    Uuid,
}

#[derive(Debug, Clone)]
enum Frame {
    Struct,
    /// The values of a list or set (`kinds` twice the element type) or of a
    /// map (key and value types, alternating).
    Elements {
        kinds: [Kind; 2],
        next: usize,
        remaining: u64,
    },
}

/// Why a step did not complete.
enum Stop {
    /// The buffer ends inside the token.
    More,
    /// The bytes cannot be a message within the limits.
    Bad(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Bad(e)
    }
}

fn bad(kind: ProtocolErrorKind, message: String) -> Stop {
    Stop::Bad(Error::Protocol(ProtocolError::new(kind, message)))
}

/// Reads tokens from the buffer without committing: a step that runs out of
/// bytes leaves the walk where it was.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Where the token that ran out of bytes would have ended.
    wanted: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.saturating_add(n);
        let Some(taken) = self.bytes.get(self.pos..end) else {
            self.wanted = end;
            return Err(Stop::More);
        };
        self.pos = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }

    fn i16_be(&mut self) -> Result<i16, Stop> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32_be(&mut self) -> Result<i32, Stop> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An unsigned LEB128 varint of at most `max_bytes` bytes.
    fn varint(&mut self, max_bytes: usize) -> Result<u64, Stop> {
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad(
            ProtocolErrorKind::InvalidData,
            format!("varint longer than {max_bytes} bytes"),
        ))
    }
}

impl MessageBoundary {
    /// A scanner for `protocol`'s messages within `limits`; None for JSON,
    /// whose messages this scanner does not walk.
    pub fn new(protocol: Protocol, limits: Limits) -> Option<MessageBoundary> {
        let codec = match protocol {
            Protocol::Binary => Codec::Binary,
            Protocol::Compact => Codec::Compact,
            Protocol::Json => return None,
        };
        Some(MessageBoundary {
            codec,
            limits,
            pos: 0,
            started: false,
            pending: None,
            stack: Vec::new(),
            at_least: 0,
        })
    }

    /// Forgets the message walked so far, to scan the next one.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.started = false;
        self.pending = None;
        self.stack.clear();
        self.at_least = 0;
    }

    /// After a scan that returned None: how long the message is at least,
    /// known from the token the bytes ended in (a string's length prefix
    /// tells its end), so a reader can make room for it at once.
    pub fn at_least(&self) -> usize {
        self.at_least
    }

    /// Bytes of the current message already walked.
    pub fn walked(&self) -> usize {
        self.pos
    }

    /// Walks `bytes`, which start with the message and begin with whatever
    /// earlier calls since [`reset`](Self::reset) were given. Returns the
    /// message's length once it is all there (bytes after it belong to the
    /// next message), None while it is not, and a protocol error when the
    /// bytes cannot be a message of this protocol within the limits.
    pub fn scan(&mut self, bytes: &[u8]) -> thrift::Result<Option<usize>> {
        loop {
            if self.started && self.pending.is_none() && self.stack.is_empty() {
                return Ok(Some(self.pos));
            }
            let mut cursor = Cursor {
                bytes,
                pos: self.pos,
                wanted: 0,
            };
            match self.step(&mut cursor) {
                Ok(()) => {
                    self.pos = cursor.pos;
                    if self.pos > self.limits.max_message_size {
                        return Err(self.too_long(self.pos));
                    }
                }
                Err(Stop::More) => {
                    self.at_least = cursor.wanted.max(bytes.len() + 1);
                    // However the message goes on, it is longer than what is here.
                    if bytes.len() > self.limits.max_message_size {
                        return Err(self.too_long(bytes.len()));
                    }
                    return Ok(None);
                }
                Err(Stop::Bad(e)) => return Err(e),
            }
        }
    }

    fn too_long(&self, at_least: usize) -> Error {
        Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!(
                "message of at least {at_least} bytes exceeds the maximum message size {}",
                self.limits.max_message_size
            ),
        ))
    }

    /// Walks one token; changes `self` only once the token's bytes are all read.
    fn step(&mut self, c: &mut Cursor<'_>) -> Result<(), Stop> {
        if !self.started {
            self.envelope(c)?;
            self.push(Frame::Struct)?;
            self.started = true;
            return Ok(());
        }
        if let Some(kind) = self.pending {
            self.value(c, kind)?;
            self.pending = None;
            return Ok(());
        }
        let index = self.stack.len().checked_sub(1);
        match index.map(|i| &self.stack[i]) {
            Some(Frame::Struct) => match self.field_header(c)? {
                None => {
                    self.stack.pop();
                }
                Some(None) => {} // a compact bool, its value in the header
                Some(Some(kind)) => self.pending = Some(kind),
            },
            Some(Frame::Elements { remaining: 0, .. }) => {
                self.stack.pop();
            }
            Some(&Frame::Elements { kinds, next, .. }) => {
                self.value(c, kinds[next])?;
                // `value` may have pushed the element's own frame above this one.
                if let Some(Frame::Elements {
                    next, remaining, ..
                }) = index.and_then(|i| self.stack.get_mut(i))
                {
                    *next ^= 1;
                    *remaining -= 1;
                }
            }
            None => {}
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame) -> Result<(), Stop> {
        if self.stack.len() >= self.limits.max_recursion_depth {
            return Err(bad(
                ProtocolErrorKind::DepthLimit,
                format!(
                    "nesting deeper than the maximum depth {}",
                    self.limits.max_recursion_depth
                ),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn envelope(&self, c: &mut Cursor<'_>) -> Result<(), Stop> {
        let message_type = match self.codec {
            Codec::Binary => {
                let word = c.i32_be()? as u32;
                if word & 0x8000_0000 == 0 {
                    return Err(bad(
                        ProtocolErrorKind::BadVersion,
                        "unversioned (non-strict) binary message; strict binary expected".into(),
                    ));
                }
                if word & 0xffff_0000 != 0x8001_0000 {
                    return Err(bad(
                        ProtocolErrorKind::BadVersion,
                        format!("bad binary protocol version {:#010x}", word & 0xffff_0000),
                    ));
                }
                let name = c.i32_be()?;
                let name = self.length(i64::from(name), "method name", c.pos)?;
                c.take(name)?;
                c.i32_be()?;
                (word & 0xff) as u8
            }
            Codec::Compact => {
                let id = c.byte()?;
                if id != 0x82 {
                    return Err(bad(
                        ProtocolErrorKind::BadVersion,
                        format!("bad compact protocol id {id:#04x}, expected 0x82"),
                    ));
                }
                let version_and_type = c.byte()?;
                if version_and_type & 0x1f != 1 {
                    return Err(bad(
                        ProtocolErrorKind::BadVersion,
                        format!(
                            "bad compact protocol version {}, expected 1",
                            version_and_type & 0x1f
                        ),
                    ));
                }
                c.varint(5)?;
                let name = c.varint(5)?;
                let name = self.length(name as i64, "method name", c.pos)?;
                c.take(name)?;
                version_and_type >> 5
            }
        };
        if !(1..=4).contains(&message_type) {
            return Err(bad(
                ProtocolErrorKind::InvalidData,
                format!("unknown message type {message_type}"),
            ));
        }
        Ok(())
    }

    /// A field header: None for the stop, Some(None) for a compact bool
    /// (its value is in the header), Some(Some(kind)) for a field to walk.
    fn field_header(&self, c: &mut Cursor<'_>) -> Result<Option<Option<Kind>>, Stop> {
        let head = c.byte()?;
        if head == 0 {
            return Ok(None);
        }
        match self.codec {
            Codec::Binary => {
                let kind = self.kind(head)?;
                c.i16_be()?;
                Ok(Some(Some(kind)))
            }
            Codec::Compact => {
                let type_code = head & 0x0f;
                if head >> 4 == 0 {
                    // No delta: the field id follows as a zigzag i16 varint.
                    c.varint(3)?;
                }
                if type_code == 1 || type_code == 2 {
                    return Ok(Some(None));
                }
                Ok(Some(Some(self.kind(type_code)?)))
            }
        }
    }

    fn kind(&self, code: u8) -> Result<Kind, Stop> {
        let kind = match (self.codec, code) {
            (Codec::Binary, 2) | (Codec::Compact, 1 | 2) => Kind::Bool,
            (Codec::Binary, 3) | (Codec::Compact, 3) => Kind::Byte,
            (Codec::Binary, 6) | (Codec::Compact, 4) => Kind::I16,
            (Codec::Binary, 8) | (Codec::Compact, 5) => Kind::I32,
            (Codec::Binary, 10) | (Codec::Compact, 6) => Kind::I64,
            (Codec::Binary, 4) | (Codec::Compact, 7) => Kind::Double,
            (Codec::Binary, 11) | (Codec::Compact, 8) => Kind::Binary,
            (Codec::Binary, 12) | (Codec::Compact, 12) => Kind::Struct,
            (Codec::Binary, 13) | (Codec::Compact, 11) => Kind::Map,
            (Codec::Binary, 14) | (Codec::Compact, 10) => Kind::Set,
            (Codec::Binary, 15) | (Codec::Compact, 9) => Kind::List,
            (Codec::Binary, 16) | (Codec::Compact, 13) => Kind::Uuid,
            (_, other) => {
                return Err(bad(
                    ProtocolErrorKind::InvalidData,
                    format!("unknown field type {other}"),
                ))
            }
        };
        Ok(kind)
    }

    /// Checks a length prefix: not negative, within the string limit, and
    /// not past the message limit from `at`.
    fn length(&self, length: i64, what: &str, at: usize) -> Result<usize, Stop> {
        if length < 0 {
            return Err(bad(
                ProtocolErrorKind::NegativeSize,
                format!("negative {what} length {length}"),
            ));
        }
        let length = usize::try_from(length).unwrap_or(usize::MAX);
        if length > self.limits.max_string_size {
            return Err(bad(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "{what} of {length} bytes exceeds the maximum string size {}",
                    self.limits.max_string_size
                ),
            ));
        }
        if at.saturating_add(length) > self.limits.max_message_size {
            return Err(bad(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "{what} of {length} bytes at byte {at} exceeds the maximum message size {}",
                    self.limits.max_message_size
                ),
            ));
        }
        Ok(length)
    }

    /// Checks a container's element count: not negative, and each element
    /// takes at least a byte, so no more of them than the message has room for.
    fn count(&self, count: i64, values_per_entry: u64, at: usize) -> Result<u64, Stop> {
        if count < 0 {
            return Err(bad(
                ProtocolErrorKind::NegativeSize,
                format!("negative container size {count}"),
            ));
        }
        let values = (count as u64).saturating_mul(values_per_entry);
        let room = self.limits.max_message_size.saturating_sub(at) as u64;
        if values > room {
            return Err(bad(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "container of {count} entries at byte {at} cannot fit in the maximum \
                     message size {}",
                    self.limits.max_message_size
                ),
            ));
        }
        Ok(values)
    }

    /// Walks one value of `kind`: all of a scalar or string, or the header
    /// of a struct or container (its contents are walked by later steps).
    fn value(&mut self, c: &mut Cursor<'_>, kind: Kind) -> Result<(), Stop> {
        let compact = self.codec == Codec::Compact;
        match kind {
            Kind::Bool | Kind::Byte => {
                c.take(1)?;
            }
            Kind::I16 if compact => {
                c.varint(3)?;
            }
            Kind::I32 if compact => {
                c.varint(5)?;
            }
            Kind::I64 if compact => {
                c.varint(10)?;
            }
            Kind::I16 => {
                c.take(2)?;
            }
            Kind::I32 => {
                c.take(4)?;
            }
            Kind::I64 | Kind::Double => {
                c.take(8)?;
            }
            Kind::Uuid => {
                c.take(16)?;
            }
            Kind::Binary => {
                let length = if compact {
                    c.varint(5)? as i64
                } else {
                    i64::from(c.i32_be()?)
                };
                let length = self.length(length, "string", c.pos)?;
                c.take(length)?;
            }
            Kind::Struct => self.push(Frame::Struct)?,
            Kind::List | Kind::Set => {
                let (element, count) = if compact {
                    let head = c.byte()?;
                    let short = i64::from(head >> 4);
                    let count = if short == 15 {
                        c.varint(5)? as i64
                    } else {
                        short
                    };
                    (self.kind(head & 0x0f)?, count)
                } else {
                    let element = self.kind(c.byte()?)?;
                    (element, i64::from(c.i32_be()?))
                };
                let remaining = self.count(count, 1, c.pos)?;
                self.push(Frame::Elements {
                    kinds: [element, element],
                    next: 0,
                    remaining,
                })?;
            }
            Kind::Map => {
                let (kinds, count) = if compact {
                    let count = c.varint(5)? as i64;
                    if count == 0 {
                        ([Kind::Byte, Kind::Byte], 0)
                    } else {
                        let types = c.byte()?;
                        ([self.kind(types >> 4)?, self.kind(types & 0x0f)?], count)
                    }
                } else {
                    let key = self.kind(c.byte()?)?;
                    let value = self.kind(c.byte()?)?;
                    ([key, value], i64::from(c.i32_be()?))
                };
                let remaining = self.count(count, 2, c.pos)?;
                self.push(Frame::Elements {
                    kinds,
                    next: 0,
                    remaining,
                })?;
            }
        }
        Ok(())
    }
}
