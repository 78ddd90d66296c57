//! The read side of an HTTP/1.1 connection, shared by the server (reading
//! requests) and the client (reading responses): a buffer that message
//! heads are parsed from with `httparse`, and the body that follows, framed
//! by Content-Length, chunked encoding, or the end of the connection.

use std::io::{self, Read};

/// How the body of the current message ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// No body is being read: the next read starts a new message.
    Done,
    /// `n` more bytes (Content-Length).
    Length(u64),
    /// Chunked encoding: `n` more bytes of the current chunk, then its CRLF.
    Chunk(u64),
    /// Chunked encoding, at the start of a chunk-size line.
    ChunkStart,
    /// The body runs until the peer closes (an HTTP/1.0-style response).
    UntilClose,
}

/// Why a head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed before the first byte of a message: a normal end.
    Closed,
    /// The head is larger than the limit (no end of headers within it).
    TooLarge(usize),
    /// The head is not HTTP, or too many headers.
    Malformed(String),
    /// The socket failed (including timeouts and EOF mid-head).
    Io(io::Error),
}

/// Buffered bytes from the peer, with the position of the current body.
pub(crate) struct Incoming<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Largest head accepted, in bytes.
    max_head: usize,
    pub(crate) body: Body,
    /// Bytes of chunked body read so far in this message.
    chunked_total: u64,
    /// Largest body accepted, for chunked encoding (Content-Length is
    /// checked by the caller before the body is read).
    max_body: u64,
}

impl<R: Read> Incoming<R> {
    pub(crate) fn new(inner: R, capacity: usize, max_head: usize, max_body: u64) -> Self {
        Incoming {
            inner,
            buf: vec![0u8; capacity.max(max_head)].into_boxed_slice(),
            pos: 0,
            end: 0,
            max_head,
            body: Body::Done,
            chunked_total: 0,
            max_body,
        }
    }

    /// Reads until `parse` finds a complete head in the buffer, and consumes
    /// it. `parse` returns the head's length and what it extracted, or
    /// `None` while the head is incomplete.
    pub(crate) fn read_head<T>(
        &mut self,
        mut parse: impl FnMut(&[u8]) -> Result<Option<(usize, T)>, String>,
    ) -> Result<T, HeadError> {
        loop {
            if self.end > self.pos {
                match parse(&self.buf[self.pos..self.end]) {
                    Ok(Some((len, head))) => {
                        self.pos += len;
                        return Ok(head);
                    }
                    Ok(None) => {}
                    Err(why) => return Err(HeadError::Malformed(why)),
                }
                if self.end - self.pos >= self.max_head {
                    return Err(HeadError::TooLarge(self.max_head));
                }
            }
            let had = self.end - self.pos;
            match self.fill() {
                Ok(0) if had == 0 => return Err(HeadError::Closed),
                Ok(0) => {
                    return Err(HeadError::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the peer closed after {had} bytes of an HTTP head"),
                    )))
                }
                Ok(_) => {}
                Err(e) => return Err(HeadError::Io(e)),
            }
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            return Ok(0);
        }
        let n = self.inner.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Reads up to `out.len()` bytes, from the buffer first, without
    /// passing `limit` bytes. Large reads with an empty buffer go straight
    /// to the socket, so a 1 MiB body is copied once.
    fn read_raw(&mut self, out: &mut [u8], limit: u64) -> io::Result<usize> {
        let want = out.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        if self.pos == self.end {
            if want >= self.buf.len() {
                return self.inner.read(&mut out[..want]);
            }
            self.pos = 0;
            self.end = self.inner.read(&mut self.buf)?;
        }
        let n = want.min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }

    /// Reads body bytes; `Ok(0)` at the end of the body.
    pub(crate) fn read_body(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.body {
                Body::Done => return Ok(0),
                Body::Length(left) => {
                    let n = self.read_raw(out, left)?;
                    if n == 0 && !out.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the peer closed with {left} bytes of the HTTP body unsent"),
                        ));
                    }
                    let left = left - n as u64;
                    self.body = if left == 0 {
                        Body::Done
                    } else {
                        Body::Length(left)
                    };
                    return Ok(n);
                }
                Body::UntilClose => {
                    let n = self.read_raw(out, u64::MAX)?;
                    if n == 0 {
                        self.body = Body::Done;
                    }
                    return Ok(n);
                }
                Body::Chunk(0) => {
                    self.expect_crlf()?;
                    self.body = Body::ChunkStart;
                }
                Body::Chunk(left) => {
                    let n = self.read_raw(out, left)?;
                    if n == 0 && !out.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the peer closed mid-chunk",
                        ));
                    }
                    self.body = Body::Chunk(left - n as u64);
                    return Ok(n);
                }
                Body::ChunkStart => {
                    let size = self.chunk_size()?;
                    if size == 0 {
                        self.skip_trailers()?;
                        self.body = Body::Done;
                        return Ok(0);
                    }
                    self.chunked_total = self.chunked_total.saturating_add(size);
                    if self.chunked_total > self.max_body {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "chunked HTTP body exceeds the limit of {} bytes",
                                self.max_body
                            ),
                        ));
                    }
                    self.body = Body::Chunk(size);
                }
            }
        }
    }

    /// Starts reading a chunked body.
    pub(crate) fn start_chunked(&mut self) {
        self.chunked_total = 0;
        self.body = Body::ChunkStart;
    }

    fn chunk_size(&mut self) -> io::Result<u64> {
        let parsed = self.read_head(|buf| match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete((len, size))) => Ok(Some((len, size))),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err("bad chunk size line".to_string()),
        });
        parsed.map_err(|e| head_io_error(e, "chunk size"))
    }

    fn expect_crlf(&mut self) -> io::Result<()> {
        let parsed = self.read_head(|buf| {
            if buf.len() < 2 {
                Ok(None)
            } else if &buf[..2] == b"\r\n" {
                Ok(Some((2, ())))
            } else {
                Err("chunk data not followed by CRLF".to_string())
            }
        });
        parsed.map_err(|e| head_io_error(e, "chunk end"))
    }

    /// Skips the trailer section after the last chunk, up to its empty line.
    fn skip_trailers(&mut self) -> io::Result<()> {
        loop {
            let line = self.read_head(|buf| {
                Ok(buf
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map(|at| (at + 2, at)))
            });
            match line.map_err(|e| head_io_error(e, "trailer"))? {
                0 => return Ok(()),
                _ => continue,
            }
        }
    }

    /// Bytes already received but not yet read.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.end - self.pos
    }
}

/// A head error met inside a body, as an I/O error.
pub(crate) fn head_io_error(e: HeadError, what: &str) -> io::Error {
    match e {
        HeadError::Io(e) => e,
        HeadError::Closed => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the peer closed before the HTTP {what}"),
        ),
        HeadError::TooLarge(n) => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("HTTP {what} longer than {n} bytes"),
        ),
        HeadError::Malformed(why) => {
            io::Error::new(io::ErrorKind::InvalidData, format!("HTTP {what}: {why}"))
        }
    }
}

/// The value of header `name` (case-insensitive), if present and text.
pub(crate) fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .map(str::trim)
}

/// Whether a comma-separated header (Connection, Transfer-Encoding) holds
/// `token`, case-insensitively.
pub(crate) fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn line_head(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
        Ok(buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| (at + 4, at)))
    }

    #[test]
    fn a_chunked_body_is_reassembled_and_its_trailers_skipped() {
        let wire = b"HEAD\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let mut incoming = Incoming::new(Cursor::new(wire.to_vec()), 64, 64, 1 << 20);
        incoming.read_head(line_head).expect("head");
        incoming.start_chunked();
        let mut body = Vec::new();
        let mut piece = [0u8; 3];
        loop {
            let n = incoming.read_body(&mut piece).expect("body");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&piece[..n]);
        }
        assert_eq!(body, b"hello world");
        assert_eq!(incoming.buffered(), 4, "NEXT stays for the next message");
    }

    #[test]
    fn a_chunked_body_over_the_limit_is_refused_before_it_is_read() {
        let wire = b"ffffffff\r\n";
        let mut incoming = Incoming::new(Cursor::new(wire.to_vec()), 64, 64, 1024);
        incoming.start_chunked();
        let e = incoming.read_body(&mut [0u8; 16]).expect_err("too large");
        assert!(e.to_string().contains("exceeds the limit"), "{e}");
    }

    #[test]
    fn a_head_without_an_end_within_the_limit_is_too_large() {
        let wire = vec![b'a'; 1000];
        let mut incoming = Incoming::new(Cursor::new(wire), 64, 64, 1024);
        assert!(matches!(
            incoming.read_head(line_head),
            Err(HeadError::TooLarge(64))
        ));
    }

    #[test]
    fn a_length_body_cut_short_is_an_eof_error() {
        let mut incoming = Incoming::new(Cursor::new(b"abc".to_vec()), 64, 64, 1024);
        incoming.body = Body::Length(10);
        let mut out = [0u8; 10];
        assert_eq!(incoming.read_body(&mut out).expect("first bytes"), 3);
        let e = incoming.read_body(&mut out).expect_err("cut");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
