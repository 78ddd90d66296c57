//! THeader frames, one at a time: [`read_header_frame`] and
//! [`write_header_frame`].
//!
//! A THeader frame, after its 4-byte big-endian length:
//!
//! | bytes | field |
//! |---|---|
//! | 2 | magic `0x0FFF` |
//! | 2 | flags |
//! | 4 | sequence number |
//! | 2 | header size in 32-bit words |
//! | 4 × size | varint protocol id (0 binary, 2 compact); varint transform count and ids (1 zlib); info blocks (varint type 1 = key-value: varint count, then varint-length key and value strings); zero padding |
//! | rest | the message, through the transforms |
//!
//! (Apache's `doc/specs/HeaderFormat.md`; the C++, Go and Python libraries'
//! own bytes are in `tests/vectors/header/`.) Varints are unsigned LEB128,
//! as the compact protocol's. An info block of an unknown type ends the
//! info section (the spec orders them oldest first), as does the padding.
//!
//! Everything is bounded before it is allocated: the frame by the caller's
//! frame limit, the header by the frame, every count and string by the
//! header bytes left, an inflated payload by the message limit.

use std::borrow::Cow;
use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The first two bytes after the length: what tells a THeader frame from a
/// framed message.
pub const HEADER_MAGIC: u16 = 0x0FFF;

/// The largest frame the format allows (the libraries refuse more: it keeps
/// a frame's length apart from an HTTP request's first bytes).
pub const MAX_HEADER_FRAME_SIZE: usize = 0x3FFF_FFFF;

/// Bytes of a frame before its header block: magic, flags, sequence number
/// and header size.
const FIXED_BYTES: usize = 10;

/// Info block type of key-value headers.
const INFO_KEY_VALUE: u32 = 1;

/// The protocol of the message inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderProtocol {
    /// TBinaryProtocol, id 0.
    Binary,
    /// TCompactProtocol, id 2.
    Compact,
}

impl HeaderProtocol {
    /// Its id in the header.
    pub fn id(self) -> u32 {
        match self {
            HeaderProtocol::Binary => 0,
            HeaderProtocol::Compact => 2,
        }
    }

    fn from_id(id: u32) -> Result<HeaderProtocol, HeaderError> {
        match id {
            0 => Ok(HeaderProtocol::Binary),
            2 => Ok(HeaderProtocol::Compact),
            other => Err(HeaderError::UnknownProtocol(other)),
        }
    }
}

/// A transform applied to the message of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderTransform {
    /// Id 1: the message is one complete zlib stream.
    Zlib,
}

impl HeaderTransform {
    /// Its id in the header.
    pub fn id(self) -> u32 {
        match self {
            HeaderTransform::Zlib => 1,
        }
    }

    fn from_id(id: u32) -> Result<HeaderTransform, HeaderError> {
        match id {
            1 => Ok(HeaderTransform::Zlib),
            // 2 (HMAC) and 3 (snappy) exist in the spec; no library here
            // writes them, and a transform cannot be skipped.
            other => Err(HeaderError::UnknownTransform(other)),
        }
    }
}

/// Everything a frame says about its message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderFrame {
    /// The FLAGS field, kept as read; written as given.
    pub flags: u16,
    /// The SEQUENCE NUMBER field.
    pub sequence: u32,
    /// Protocol of the message; `None` reads as binary.
    pub protocol: Option<HeaderProtocol>,
    /// Transforms in the order they were applied when writing.
    pub transforms: Vec<HeaderTransform>,
    /// Key-value info headers, in the order they came.
    pub info: Vec<(String, String)>,
}

impl HeaderFrame {
    /// A frame for a message in `protocol`, nothing else set.
    pub fn new(protocol: HeaderProtocol) -> HeaderFrame {
        HeaderFrame {
            protocol: Some(protocol),
            ..HeaderFrame::default()
        }
    }

    /// The value of info header `key`, if the frame has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What is wrong with a THeader frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The frame ends before `what`.
    #[error("THeader frame truncated: it ends before {0}")]
    Truncated(&'static str),
    /// The frame does not start with 0x0FFF.
    #[error("not a THeader frame: magic {0:#06x}, expected 0x0fff")]
    BadMagic(u16),
    /// The header block is longer than the frame.
    #[error("THeader header of {header} bytes in a frame with {available} after its fixed fields")]
    HeaderTooLong {
        /// Header bytes the size field claims.
        header: usize,
        /// Bytes the frame has for it.
        available: usize,
    },
    /// A varint longer than 5 bytes or over 32 bits.
    #[error("THeader varint too long ({0})")]
    BadVarint(&'static str),
    /// A protocol id other than binary (0) or compact (2).
    #[error("THeader protocol id {0} is not supported (0 binary, 2 compact)")]
    UnknownProtocol(u32),
    /// A transform other than zlib (1): the message cannot be read.
    #[error("THeader transform id {0} is not supported (1 zlib)")]
    UnknownTransform(u32),
    /// A count or string length that cannot fit in the header bytes left.
    #[error("THeader {what} of {claimed} does not fit in the {left} header bytes left")]
    DoesNotFit {
        /// Which field.
        what: &'static str,
        /// What it claims.
        claimed: u64,
        /// Header bytes after it.
        left: usize,
    },
    /// An info key or value that is not UTF-8.
    #[error("THeader info {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// The zlib payload is damaged or incomplete.
    #[error("THeader zlib payload: {0}")]
    Inflate(String),
    /// The inflated message passes the message limit.
    #[error("THeader message inflates past the {limit}-byte message limit")]
    InflatedTooLarge {
        /// The message limit.
        limit: usize,
    },
    /// A frame that cannot be written: header over 4 × 65,535 bytes, or
    /// the whole frame over [`MAX_HEADER_FRAME_SIZE`].
    #[error("cannot write a THeader frame: {0}")]
    TooLargeToWrite(String),
}

impl From<HeaderError> for std::io::Error {
    fn from(e: HeaderError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// Reads a header block front to back.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl Cursor<'_> {
    fn varint(&mut self, what: &'static str) -> Result<u32, HeaderError> {
        let mut value: u64 = 0;
        for (i, &byte) in self.bytes.iter().enumerate().take(5) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return u32::try_from(value).map_err(|_| HeaderError::BadVarint(what));
            }
        }
        if self.bytes.len() < 5 {
            Err(HeaderError::Truncated(what))
        } else {
            Err(HeaderError::BadVarint(what))
        }
    }

    /// A count of items of at least `min_bytes` each, checked against the
    /// bytes left before anything is sized by it.
    fn count(&mut self, what: &'static str, min_bytes: usize) -> Result<usize, HeaderError> {
        let claimed = self.varint(what)?;
        let count = claimed as usize;
        if count.saturating_mul(min_bytes) > self.bytes.len() {
            return Err(HeaderError::DoesNotFit {
                what,
                claimed: u64::from(claimed),
                left: self.bytes.len(),
            });
        }
        Ok(count)
    }

    fn string(&mut self, what: &'static str) -> Result<String, HeaderError> {
        let length = self.varint(what)? as usize;
        let Some(bytes) = self.bytes.get(..length) else {
            return Err(HeaderError::DoesNotFit {
                what,
                claimed: length as u64,
                left: self.bytes.len(),
            });
        };
        self.bytes = &self.bytes[length..];
        String::from_utf8(bytes.to_vec()).map_err(|_| HeaderError::NotUtf8(what))
    }
}

/// Parses one frame (the bytes after its 4-byte length) and returns what
/// its header says and its message, with the transforms undone and the
/// message bounded by `max_message_size`.
///
/// ```
/// use thrift_frame_wire::{
///     read_header_frame, write_header_frame, HeaderFrame, HeaderProtocol, HeaderTransform,
/// };
///
/// let mut frame = HeaderFrame::new(HeaderProtocol::Compact);
/// frame.transforms.push(HeaderTransform::Zlib);
/// frame.info.push(("x-request-id".into(), "req-42".into()));
/// let mut wire = Vec::new();
/// write_header_frame(&frame, b"a compact message", &mut wire)?;
///
/// // The 4-byte length first, then the frame.
/// let (read, message) = read_header_frame(&wire[4..], 1 << 20)?;
/// assert_eq!(read.get("x-request-id"), Some("req-42"));
/// assert_eq!(message, b"a compact message");
/// # Ok::<(), thrift_frame_wire::HeaderError>(())
/// ```
pub fn read_header_frame(
    frame: &[u8],
    max_message_size: usize,
) -> Result<(HeaderFrame, Vec<u8>), HeaderError> {
    let (header, payload_at) = read_header(frame)?;
    let message = undo_transforms(&header, &frame[payload_at..], max_message_size)?;
    Ok((header, message.into_owned()))
}

/// [`read_header_frame`] without copying the message out of `frame` when
/// the frame has no transform.
pub fn split_header_frame(
    frame: &[u8],
    max_message_size: usize,
) -> Result<(HeaderFrame, Cow<'_, [u8]>), HeaderError> {
    let (header, payload_at) = read_header(frame)?;
    let message = undo_transforms(&header, &frame[payload_at..], max_message_size)?;
    Ok((header, message))
}

/// What a frame's header says, and where its payload starts.
pub(crate) fn read_header(frame: &[u8]) -> Result<(HeaderFrame, usize), HeaderError> {
    let fixed = frame
        .get(..FIXED_BYTES)
        .ok_or(HeaderError::Truncated("the fixed header fields"))?;
    let magic = u16::from_be_bytes([fixed[0], fixed[1]]);
    if magic != HEADER_MAGIC {
        return Err(HeaderError::BadMagic(magic));
    }
    let flags = u16::from_be_bytes([fixed[2], fixed[3]]);
    let sequence = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let header_len = usize::from(u16::from_be_bytes([fixed[8], fixed[9]])) * 4;
    let rest = &frame[FIXED_BYTES..];
    let Some(header) = rest.get(..header_len) else {
        return Err(HeaderError::HeaderTooLong {
            header: header_len,
            available: rest.len(),
        });
    };
    let payload_at = FIXED_BYTES + header_len;

    let mut cursor = Cursor { bytes: header };
    let protocol = HeaderProtocol::from_id(cursor.varint("the protocol id")?)?;
    let transform_count = cursor.count("transform count", 1)?;
    let mut transforms = Vec::with_capacity(transform_count);
    for _ in 0..transform_count {
        transforms.push(HeaderTransform::from_id(cursor.varint("a transform id")?)?);
    }
    let mut info = Vec::new();
    while !cursor.bytes.is_empty() {
        match cursor.varint("an info type")? {
            INFO_KEY_VALUE => {
                // Each pair takes at least two bytes: two empty strings.
                let count = cursor.count("info header count", 2)?;
                info.reserve(count);
                for _ in 0..count {
                    let key = cursor.string("header key")?;
                    let value = cursor.string("header value")?;
                    info.push((key, value));
                }
            }
            // 0 is the padding; anything else is newer than we know, and so
            // is everything after it.
            _ => break,
        }
    }

    Ok((
        HeaderFrame {
            flags,
            sequence,
            protocol: Some(protocol),
            transforms,
            info,
        },
        payload_at,
    ))
}

/// The message in `payload`, its transforms undone (in the reverse of the
/// order they were applied) within `max_message_size`; borrowed when there
/// are none.
pub(crate) fn undo_transforms<'a>(
    header: &HeaderFrame,
    payload: &'a [u8],
    max_message_size: usize,
) -> Result<Cow<'a, [u8]>, HeaderError> {
    let mut message = Cow::Borrowed(payload);
    for transform in header.transforms.iter().rev() {
        message = match transform {
            HeaderTransform::Zlib => Cow::Owned(inflate(&message, max_message_size)?),
        };
    }
    if message.len() > max_message_size {
        return Err(HeaderError::InflatedTooLarge {
            limit: max_message_size,
        });
    }
    Ok(message)
}

/// Inflates one complete zlib stream into at most `limit` bytes.
fn inflate(compressed: &[u8], limit: usize) -> Result<Vec<u8>, HeaderError> {
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(2).min(limit.max(1)));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(HeaderError::InflatedTooLarge { limit });
            }
            out.reserve((out.len().max(4096)).min(limit - out.len()));
        }
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let input = compressed.get(consumed..).unwrap_or(&[]);
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            // Not Finish: with too little room for the rest, Finish is an
            // error rather than a pause.
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| HeaderError::Inflate(e.to_string()))?;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if (inflater.total_in(), inflater.total_out()) == before
                && out.len() < out.capacity() =>
            {
                return Err(HeaderError::Inflate("the zlib stream ends early".into()))
            }
            _ => {}
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_string(out: &mut Vec<u8>, s: &str) -> Result<(), HeaderError> {
    let length = u32::try_from(s.len())
        .map_err(|_| HeaderError::TooLargeToWrite("an info string over 4 GiB".into()))?;
    put_varint(out, length);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Appends one whole frame to `out`: its 4-byte length, the header of
/// `frame`, and `message` through its transforms.
pub fn write_header_frame(
    frame: &HeaderFrame,
    message: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), HeaderError> {
    let mut payload = Cow::Borrowed(message);
    for transform in &frame.transforms {
        payload = match transform {
            HeaderTransform::Zlib => Cow::Owned(deflate(&payload)?),
        };
    }
    let prefix = frame_prefix(frame, payload.len())?;
    out.reserve(prefix.len() + payload.len());
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&payload);
    Ok(())
}

/// Everything of a frame before its payload of `payload_len` bytes (the
/// transforms already applied): length, magic, flags, sequence number,
/// header size and the padded header.
pub(crate) fn frame_prefix(
    frame: &HeaderFrame,
    payload_len: usize,
) -> Result<Vec<u8>, HeaderError> {
    let mut header = Vec::new();
    put_varint(
        &mut header,
        frame.protocol.unwrap_or(HeaderProtocol::Binary).id(),
    );
    let transforms = u32::try_from(frame.transforms.len())
        .map_err(|_| HeaderError::TooLargeToWrite("too many transforms".into()))?;
    put_varint(&mut header, transforms);
    for transform in &frame.transforms {
        put_varint(&mut header, transform.id());
    }
    if !frame.info.is_empty() {
        put_varint(&mut header, INFO_KEY_VALUE);
        let count = u32::try_from(frame.info.len())
            .map_err(|_| HeaderError::TooLargeToWrite("too many info headers".into()))?;
        put_varint(&mut header, count);
        for (key, value) in &frame.info {
            put_string(&mut header, key)?;
            put_string(&mut header, value)?;
        }
    }
    header.resize(header.len().div_ceil(4) * 4, 0);
    let words = u16::try_from(header.len() / 4).map_err(|_| {
        HeaderError::TooLargeToWrite(format!(
            "a header of {} bytes (at most 4 x 65,535)",
            header.len()
        ))
    })?;
    let length = FIXED_BYTES + header.len() + payload_len;
    if length > MAX_HEADER_FRAME_SIZE {
        return Err(HeaderError::TooLargeToWrite(format!(
            "a frame of {length} bytes (at most {MAX_HEADER_FRAME_SIZE})"
        )));
    }
    let mut prefix = Vec::with_capacity(4 + FIXED_BYTES + header.len());
    prefix.extend_from_slice(&(length as u32).to_be_bytes());
    prefix.extend_from_slice(&HEADER_MAGIC.to_be_bytes());
    prefix.extend_from_slice(&frame.flags.to_be_bytes());
    prefix.extend_from_slice(&frame.sequence.to_be_bytes());
    prefix.extend_from_slice(&words.to_be_bytes());
    prefix.extend_from_slice(&header);
    Ok(prefix)
}

/// One complete zlib stream of `data` (zlib's default level, as the C++
/// library's).
fn deflate(data: &[u8]) -> Result<Vec<u8>, HeaderError> {
    let mut deflater = Compress::new(Compression::default(), true);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(64));
        }
        let consumed = usize::try_from(deflater.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or(&[]);
        let status = deflater
            .compress_vec(input, &mut out, FlushCompress::Finish)
            .map_err(|e| HeaderError::TooLargeToWrite(format!("zlib: {e}")))?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
    }
}

impl fmt::Display for HeaderProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderProtocol::Binary => "binary",
            HeaderProtocol::Compact => "compact",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_with(info: &[(&str, &str)], transforms: &[HeaderTransform]) -> HeaderFrame {
        HeaderFrame {
            flags: 0,
            sequence: 7,
            protocol: Some(HeaderProtocol::Compact),
            transforms: transforms.to_vec(),
            info: info
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let message = b"\x82\x21\x07\x04ping\x00".repeat(50);
        for transforms in [&[][..], &[HeaderTransform::Zlib][..]] {
            for info in [&[][..], &[("x-request-id", "req-42"), ("k", "")][..]] {
                let frame = frame_with(info, transforms);
                let mut bytes = Vec::new();
                write_header_frame(&frame, &message, &mut bytes).expect("written");
                let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                assert_eq!(length as usize, bytes.len() - 4);
                let words = usize::from(u16::from_be_bytes([bytes[12], bytes[13]]));
                assert!(FIXED_BYTES + 4 * words <= bytes.len() - 4);
                let (read, payload) = read_header_frame(&bytes[4..], 1 << 20).expect("read");
                assert_eq!(read, frame);
                assert_eq!(payload, message);
                assert_eq!(read.get("x-request-id"), info.first().map(|(_, v)| *v));
            }
        }
    }

    /// A frame (no length prefix) with `header` as its header block, padded.
    fn raw_frame(header: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut block = header.to_vec();
        block.resize(block.len().div_ceil(4) * 4, 0);
        let mut frame = vec![0x0f, 0xff, 0, 0, 0, 0, 0, 1];
        frame.extend_from_slice(&((block.len() / 4) as u16).to_be_bytes());
        frame.extend_from_slice(&block);
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn lengths_are_checked_before_anything_is_taken() {
        let mut bytes = Vec::new();
        write_header_frame(&frame_with(&[("key", "value")], &[]), b"m", &mut bytes)
            .expect("written");
        let frame = &bytes[4..];
        // Header size larger than the frame.
        let mut long = frame.to_vec();
        long[8..10].copy_from_slice(&0xffffu16.to_be_bytes());
        assert!(matches!(
            read_header_frame(&long, 1 << 20),
            Err(HeaderError::HeaderTooLong { .. })
        ));
        // Counts and lengths that cannot fit in the header bytes left.
        for (header, what) in [
            (
                &[2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f][..],
                "info header count",
            ),
            (&[2, 0xff, 0xff, 0xff, 0xff, 0x0f][..], "transform count"),
            (&[2, 0, 1, 1, 0xff, 0xff, 0x03, b'k'][..], "header key"),
            (&[2, 0, 1, 1, 1, b'k', 0x7f, b'v'][..], "header value"),
        ] {
            match read_header_frame(&raw_frame(header, b""), 1 << 20) {
                Err(HeaderError::DoesNotFit { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{header:?}: {other:?}"),
            }
        }
        assert_eq!(
            read_header_frame(&raw_frame(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], b""), 10),
            Err(HeaderError::BadVarint("the protocol id"))
        );
        // Each truncation of the fixed part and of the header is refused.
        for cut in 0..FIXED_BYTES + 4 {
            assert!(
                read_header_frame(&frame[..cut], 1 << 20).is_err(),
                "cut at {cut}"
            );
        }
        // Not a header frame.
        assert_eq!(
            read_header_frame(b"\x80\x01\x00\x01\x00\x00\x00\x00\x00\x00", 10),
            Err(HeaderError::BadMagic(0x8001))
        );
    }

    #[test]
    fn a_zlib_bomb_is_cut_at_the_message_limit() {
        let big = vec![0u8; 1 << 20];
        let mut bytes = Vec::new();
        write_header_frame(&frame_with(&[], &[HeaderTransform::Zlib]), &big, &mut bytes)
            .expect("written");
        assert!(
            bytes.len() < 8 << 10,
            "1 MiB of zeros deflates to {}",
            bytes.len()
        );
        assert_eq!(
            read_header_frame(&bytes[4..], 64 << 10),
            Err(HeaderError::InflatedTooLarge { limit: 64 << 10 })
        );
        let (_, message) = read_header_frame(&bytes[4..], 1 << 20).expect("within the limit");
        assert_eq!(message.len(), 1 << 20);
        // A stream cut short is an error, not a short message.
        let cut = bytes.len() - 6;
        assert!(matches!(
            read_header_frame(&bytes[4..cut], 1 << 20),
            Err(HeaderError::Inflate(_))
        ));
    }

    #[test]
    fn unknown_protocols_and_transforms_are_refused_unknown_info_is_skipped() {
        let mut bytes = Vec::new();
        write_header_frame(&frame_with(&[("a", "b")], &[]), b"m", &mut bytes).expect("written");
        let mut json = bytes[4..].to_vec();
        json[10] = 1; // protocol id 1 (JSON, which no library here speaks in THeader)
        assert_eq!(
            read_header_frame(&json, 100),
            Err(HeaderError::UnknownProtocol(1))
        );
        let mut hmac = bytes[4..].to_vec();
        hmac[11] = 1; // one transform...
        hmac[12] = 2; // ... HMAC
        assert_eq!(
            read_header_frame(&hmac, 100),
            Err(HeaderError::UnknownTransform(2))
        );
        let mut newer = bytes[4..].to_vec();
        newer[12] = 9; // an info type from the future: it and the rest skipped
        let (frame, message) = read_header_frame(&newer, 100).expect("read");
        assert!(frame.info.is_empty());
        assert_eq!(message, b"m");
    }
}
