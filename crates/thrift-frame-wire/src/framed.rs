//! Framed transport: each message preceded by its 4-byte big-endian length.

use std::io::{self, Read, Write};

use crate::input::{BufferedSource, ByteSource, ReadToVec};

/// A frame buffer larger than this is released after sending, so one large
/// call does not pin megabytes to an idle connection.
const RETAINED_FRAME_BYTES: usize = 2 * 1024 * 1024;

/// Writes framed transport: buffers a message, then sends length and body in
/// a single write. (The crate's `TFramedWriteTransport` writes the 4-byte
/// length on its own; with TCP_NODELAY that is a packet of its own and an
/// extra wake-up for the peer on every call.)
#[derive(Debug)]
pub struct FramedWriter<W> {
    inner: W,
    /// The frame being built; its first 4 bytes are the length, filled on flush.
    frame: Vec<u8>,
}

impl<W: Write> FramedWriter<W> {
    /// Frames what is written to `inner`, starting with `capacity` bytes of buffer.
    pub fn new(inner: W, capacity: usize) -> Self {
        let mut frame = Vec::with_capacity(capacity.max(4));
        frame.extend_from_slice(&[0; 4]);
        FramedWriter { inner, frame }
    }
}

impl<W: Write> Write for FramedWriter<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let body = self.frame.len() - 4;
        if body > 0 {
            let size = i32::try_from(body).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("frame of {body} bytes is over 2 GiB"),
                )
            })?;
            self.frame[..4].copy_from_slice(&size.to_be_bytes());
            let sent = self.inner.write_all(&self.frame);
            // Whatever happened, the next message starts a fresh frame.
            if self.frame.capacity() > RETAINED_FRAME_BYTES {
                self.frame = Vec::with_capacity(64 * 1024);
            }
            self.frame.clear();
            self.frame.extend_from_slice(&[0; 4]);
            sent?;
        }
        self.inner.flush()
    }
}

/// Reads Thrift framed transport: a 4-byte big-endian length, then the frame.
///
/// The length is checked against `max_frame_size` as soon as the header
/// arrives. The frame itself is never buffered: reads are passed through to
/// the (buffered) connection, bounded by what is left of the current frame.
/// So a header that claims 2 GiB, or 16 MiB followed by silence, costs
/// nothing, and a large payload is copied once, socket to protocol, instead
/// of socket to frame buffer to protocol.
#[derive(Debug)]
pub struct FramedReader<R> {
    inner: BufferedSource<R>,
    /// Bytes of the current frame not yet read, and its declared size.
    remaining: usize,
    size: usize,
    max_frame_size: usize,
}

impl<R: ReadToVec> FramedReader<R> {
    /// `buffer` is the capacity of the read buffer under the frames; reads
    /// at least that large go straight to `inner`.
    pub fn new(inner: R, max_frame_size: usize, buffer: usize) -> Self {
        FramedReader {
            inner: BufferedSource::new(inner, buffer),
            remaining: 0,
            size: 0,
            max_frame_size,
        }
    }

    /// Reads and checks the next frame header.
    fn next_header(&mut self) -> io::Result<()> {
        let mut header = [0u8; 4];
        self.inner.read_full(&mut header)?;
        let declared = i32::from_be_bytes(header);
        if declared < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "invalid frame header {header:02x?} (negative size {declared}): \
                     is the peer using buffered transport?"
                ),
            ));
        }
        let size = declared as usize;
        if size > self.max_frame_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "frame of {size} bytes exceeds the limit of {} bytes \
                     (or the peer is not using framed transport)",
                    self.max_frame_size
                ),
            ));
        }
        self.size = size;
        self.remaining = size;
        Ok(())
    }
}

impl<R: ReadToVec> FramedReader<R> {
    /// Up to `max` bytes of the current frame (starting the next when it is
    /// used up) are taken from the stream by `read`.
    fn within_frame(
        &mut self,
        max: usize,
        read: impl FnOnce(&mut BufferedSource<R>, usize) -> io::Result<usize>,
    ) -> io::Result<usize> {
        if max == 0 {
            return Ok(0);
        }
        // Empty frames carry nothing: skip to one that does.
        while self.remaining == 0 {
            self.next_header()?;
        }
        let n = read(&mut self.inner, max.min(self.remaining))?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "truncated frame: peer closed after {} of {} bytes",
                    self.size - self.remaining,
                    self.size
                ),
            ));
        }
        self.remaining -= n;
        Ok(n)
    }
}

impl<R: ReadToVec> ByteSource for FramedReader<R> {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.within_frame(out.len(), |inner, n| inner.read_some(&mut out[..n]))
    }

    fn read_some_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.within_frame(max, |inner, n| inner.read_some_to_vec(buf, n))
    }
}

impl<R: ReadToVec> Read for FramedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf)
    }
}

impl<R: ReadToVec> ReadToVec for FramedReader<R> {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.read_some_to_vec(buf, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            out.extend_from_slice(&(p.len() as i32).to_be_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    #[test]
    fn reads_consecutive_frames_and_skips_empty_ones() {
        let bytes = framed(&[b"hello", b"", b" world"]);
        let mut r = FramedReader::new(Cursor::new(bytes), 1024, 64);
        let mut s = String::new();
        r.read_to_string(&mut s)
            .expect_err("ends with EOF mid-header");
        assert_eq!(s, "hello world");
    }

    #[test]
    fn writer_sends_length_and_body_in_one_write_and_reader_reads_it_back() {
        /// Records each write call separately.
        #[derive(Default)]
        struct Writes(Vec<Vec<u8>>);
        impl Write for Writes {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.push(b.to_vec());
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = FramedWriter::new(Writes::default(), 16);
        w.write_all(b"hel").expect("write");
        w.write_all(b"lo").expect("write");
        w.flush().expect("flush");
        w.flush().expect("an empty flush sends nothing");
        w.write_all(b"!").expect("write");
        w.flush().expect("flush");
        assert_eq!(w.inner.0, vec![framed(&[b"hello"]), framed(&[b"!"])]);
        let mut r = FramedReader::new(Cursor::new(w.inner.0.concat()), 1024, 64);
        let mut s = String::new();
        r.read_to_string(&mut s)
            .expect_err("EOF at the next header");
        assert_eq!(s, "hello!");
    }

    #[test]
    fn large_reads_are_bounded_by_the_frame() {
        let bytes = framed(&[&[1u8; 300], &[2u8; 5]]);
        let mut r = FramedReader::new(Cursor::new(bytes), 1024, 64);
        let mut buf = [0u8; 1000];
        let mut first = 0;
        while first < 300 {
            first += r.read(&mut buf[first..300 + 1]).expect("read");
            assert!(first <= 300, "read past the frame");
        }
        assert!(buf[..300].iter().all(|&b| b == 1));
        assert_eq!(r.read(&mut buf).expect("second frame"), 5);
    }

    #[test]
    fn negative_size_is_rejected_with_a_hint() {
        let mut r = FramedReader::new(Cursor::new(vec![0x80, 0, 0, 0, 1, 2]), 1024, 64);
        let err = r.read(&mut [0u8; 8]).expect_err("negative");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("buffered transport"), "{err}");
    }

    #[test]
    fn oversized_frame_is_rejected_before_allocating() {
        let mut r = FramedReader::new(Cursor::new(vec![0x40, 0, 0, 0]), 1024, 64);
        let err = r.read(&mut [0u8; 8]).expect_err("too big");
        assert!(
            err.to_string().contains("exceeds the limit of 1024"),
            "{err}"
        );
    }

    #[test]
    fn truncated_frame_is_an_eof_error() {
        let mut bytes = 100i32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[7u8; 10]);
        let mut r = FramedReader::new(Cursor::new(bytes), 1024, 64);
        let mut got = Vec::new();
        let err = r.read_to_end(&mut got).expect_err("truncated");
        assert_eq!(got, [7u8; 10]);
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("10 of 100"), "{err}");
    }
}
