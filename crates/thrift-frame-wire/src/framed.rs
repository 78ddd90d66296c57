//! Reading framed transport with a configurable frame limit.

use std::io::{self, Read};

/// Frames larger than this are not kept buffered once consumed, so one large
/// call does not pin megabytes to an idle connection.
const RETAINED_FRAME_BYTES: usize = 2 * 1024 * 1024;

/// Reads Thrift framed transport: a 4-byte big-endian length, then the frame.
///
/// The length is checked against `max_frame_size` before anything is
/// allocated, and the frame buffer grows only as bytes actually arrive, so a
/// header that claims 2 GiB, or 16 MiB followed by silence, costs nothing.
#[derive(Debug)]
pub struct FramedReader<R> {
    inner: R,
    frame: Vec<u8>,
    pos: usize,
    max_frame_size: usize,
}

impl<R: Read> FramedReader<R> {
    pub fn new(inner: R, max_frame_size: usize) -> Self {
        FramedReader {
            inner,
            frame: Vec::new(),
            pos: 0,
            max_frame_size,
        }
    }

    /// Reads the next non-empty frame into `self.frame`.
    fn next_frame(&mut self) -> io::Result<()> {
        loop {
            let mut header = [0u8; 4];
            self.inner.read_exact(&mut header)?;
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
            if self.frame.capacity() > RETAINED_FRAME_BYTES {
                self.frame = Vec::new();
            }
            self.frame.clear();
            self.pos = 0;
            let got = (&mut self.inner)
                .take(size as u64)
                .read_to_end(&mut self.frame)?;
            if got < size {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("truncated frame: peer closed after {got} of {size} bytes"),
                ));
            }
            if size > 0 {
                return Ok(());
            }
        }
    }
}

impl<R: Read> Read for FramedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos == self.frame.len() {
            self.next_frame()?;
        }
        let n = buf.len().min(self.frame.len() - self.pos);
        buf[..n].copy_from_slice(&self.frame[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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
        let mut r = FramedReader::new(Cursor::new(bytes), 1024);
        let mut s = String::new();
        r.read_to_string(&mut s)
            .expect_err("ends with EOF mid-header");
        assert_eq!(s, "hello world");
    }

    #[test]
    fn negative_size_is_rejected_with_a_hint() {
        let mut r = FramedReader::new(Cursor::new(vec![0x80, 0, 0, 0, 1, 2]), 1024);
        let err = r.read(&mut [0u8; 8]).expect_err("negative");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("buffered transport"), "{err}");
    }

    #[test]
    fn oversized_frame_is_rejected_before_allocating() {
        let mut r = FramedReader::new(Cursor::new(vec![0x40, 0, 0, 0]), 1024);
        let err = r.read(&mut [0u8; 8]).expect_err("too big");
        assert!(
            err.to_string().contains("exceeds the limit of 1024"),
            "{err}"
        );
        assert_eq!(r.frame.capacity(), 0);
    }

    #[test]
    fn truncated_frame_is_an_eof_error() {
        let mut bytes = 100i32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[7u8; 10]);
        let mut r = FramedReader::new(Cursor::new(bytes), 1024);
        let err = r.read(&mut [0u8; 8]).expect_err("truncated");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("10 of 100"), "{err}");
    }
}
