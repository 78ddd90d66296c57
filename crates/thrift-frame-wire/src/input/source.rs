//! What the binary and compact input protocols read from: a [`ByteSource`],
//! which hands a string's bytes to the vector the string will own, each
//! byte written once.
//!
//! `Read::read` needs initialised memory, so reading a 1 MiB string through
//! it means zeroing 1 MiB first (the thrift crate's `read_bytes` does, and
//! that memset was 6-9 % of the server's CPU on 1 MiB pings). Sockets and
//! in-memory readers implement [`ReadToVec`], which writes straight into a
//! vector's spare capacity.

use std::io::{self, BufReader, Cursor, Empty, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// A readable stream that can append to a vector without zeroing its spare
/// capacity first.
///
/// The provided method zeroes the room it reads into, as `Read` requires,
/// a chunk at a time; sockets and in-memory readers override it. A reader of
/// your own can implement it with an empty `impl ReadToVec for MyReader {}`:
/// the sources above it then read a string as the thrift crate does, into
/// a vector zeroed once.
pub trait ReadToVec: Read {
    /// True when [`read_to_vec`](Self::read_to_vec) writes into the spare
    /// capacity without zeroing it (not the provided one).
    const APPENDS_IN_PLACE: bool = false;

    /// Appends at most `max` bytes to `buf` with one read of the stream and
    /// returns how many; 0 only at the end of the stream (or `max == 0`).
    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let start = buf.len();
        buf.resize(start + max.min(ZEROED_CHUNK_BYTES), 0);
        let read = self.read(&mut buf[start..]);
        buf.truncate(start + *read.as_ref().unwrap_or(&0));
        read
    }

    /// [`read_to_vec`](Self::read_to_vec), and when all `max` bytes came,
    /// what follows them into `after`, in the same read; returns how many
    /// went to each. Sockets do this with one `readv`, so the bytes after a
    /// large string come with its last part instead of in a read of their
    /// own. The provided method fills `buf` only.
    fn read_to_vec_then(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        after: &mut [u8],
    ) -> io::Result<(usize, usize)> {
        let _ = after;
        Ok((self.read_to_vec(buf, max)?, 0))
    }
}

/// How much the provided [`ReadToVec::read_to_vec`] zeroes per read.
const ZEROED_CHUNK_BYTES: usize = 64 * 1024;

/// One `readv` into `buf`'s spare capacity (`max` bytes), then `after`.
fn readv_to_vec(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    max: usize,
    after: &mut [u8],
) -> io::Result<(usize, usize)> {
    buf.reserve(max);
    loop {
        let spare = &mut buf.spare_capacity_mut()[..max];
        let parts = [
            libc::iovec {
                iov_base: spare.as_mut_ptr().cast(),
                iov_len: spare.len(),
            },
            libc::iovec {
                iov_base: after.as_mut_ptr().cast(),
                iov_len: after.len(),
            },
        ];
        // SAFETY: each iovec is valid for writes of its length (spare
        // capacity just reserved, and `after`); readv writes at most that
        // much into each, the first filled before the second.
        let n = unsafe { libc::readv(stream.as_raw_fd(), parts.as_ptr(), 2) };
        if n >= 0 {
            let n = n as usize;
            let into_vec = n.min(max);
            // SAFETY: the kernel initialised the first `into_vec` bytes of
            // the spare capacity.
            unsafe { buf.set_len(buf.len() + into_vec) };
            return Ok((into_vec, n - into_vec));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn recv_to_vec(stream: &TcpStream, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    Ok(readv_to_vec(stream, buf, max, &mut [])?.0)
}

impl ReadToVec for TcpStream {
    const APPENDS_IN_PLACE: bool = true;
    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        recv_to_vec(self, buf, max)
    }
}

impl ReadToVec for &TcpStream {
    const APPENDS_IN_PLACE: bool = true;
    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        recv_to_vec(self, buf, max)
    }
}

impl<T: AsRef<[u8]>> ReadToVec for Cursor<T> {
    const APPENDS_IN_PLACE: bool = true;
    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let data = self.get_ref().as_ref();
        let at = usize::try_from(self.position()).map_or(data.len(), |p| p.min(data.len()));
        let n = max.min(data.len() - at);
        buf.extend_from_slice(&data[at..at + n]);
        self.set_position((at + n) as u64);
        Ok(n)
    }
}

impl ReadToVec for &[u8] {
    const APPENDS_IN_PLACE: bool = true;
    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let n = max.min(self.len());
        let (taken, rest) = self.split_at(n);
        buf.extend_from_slice(taken);
        *self = rest;
        Ok(n)
    }
}

impl ReadToVec for Empty {
    const APPENDS_IN_PLACE: bool = true;
    fn read_to_vec(&mut self, _: &mut Vec<u8>, _: usize) -> io::Result<usize> {
        Ok(0)
    }
}

impl<R: Read> ReadToVec for BufReader<R> {}

impl<R: ReadToVec + ?Sized> ReadToVec for &mut R {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        (**self).read_to_vec(buf, max)
    }

    fn read_to_vec_then(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        after: &mut [u8],
    ) -> io::Result<(usize, usize)> {
        (**self).read_to_vec_then(buf, max, after)
    }
}

fn end_of_stream() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer")
}

/// Bytes for an input protocol: single reads, from which whole fields,
/// owned strings and skips are built.
pub trait ByteSource {
    /// True when [`read_some_to_vec`](Self::read_some_to_vec) writes into
    /// the vector's spare capacity without zeroing it (see [`ReadToVec`]).
    const APPENDS_IN_PLACE: bool;

    /// One read of up to `out.len()` bytes into `out`; 0 only at the end.
    fn read_some(&mut self, out: &mut [u8]) -> io::Result<usize>;

    /// One read of up to `max` bytes appended to `buf`; 0 only at the end.
    fn read_some_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize>;

    /// Fills `out`, or fails with `UnexpectedEof`.
    fn read_full(&mut self, mut out: &mut [u8]) -> io::Result<()> {
        while !out.is_empty() {
            match self.read_some(out) {
                Ok(0) => return Err(end_of_stream()),
                Ok(n) => out = &mut out[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One byte.
    fn read_byte(&mut self) -> io::Result<u8> {
        let mut byte = [0u8; 1];
        self.read_full(&mut byte)?;
        Ok(byte[0])
    }

    /// Exactly `len` bytes in a vector of their own, each written once
    /// where the source appends in place (else into a vector zeroed once:
    /// zeroing a chunk per read would cost a chunk per byte of a trickle).
    /// The caller checks `len` against its limits first: the vector's
    /// capacity is reserved up front (untouched until bytes arrive).
    fn read_vec(&mut self, len: usize) -> io::Result<Vec<u8>> {
        if Self::APPENDS_IN_PLACE {
            read_appended(self, len)
        } else {
            let mut buf = vec![0; len];
            self.read_full(&mut buf)?;
            Ok(buf)
        }
    }

    /// Reads and drops `len` bytes, allocating nothing.
    fn discard(&mut self, mut len: usize) -> io::Result<()> {
        let mut scratch = [0u8; 4096];
        while len > 0 {
            let n = len.min(scratch.len());
            self.read_full(&mut scratch[..n])?;
            len -= n;
        }
        Ok(())
    }
}

/// `len` bytes appended by single reads to a vector reserved up front.
fn read_appended<S: ByteSource + ?Sized>(source: &mut S, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len);
    while buf.len() < len {
        let left = len - buf.len();
        match source.read_some_to_vec(&mut buf, left) {
            Ok(0) => return Err(end_of_stream()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}

/// A [`ByteSource`] reading its stream directly, for streams that are
/// already buffered or in memory (a whole message, an inflater, HTTP).
#[derive(Debug)]
pub struct DirectSource<R>(pub R);

impl<R: ReadToVec> Read for DirectSource<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.0.read(out)
    }
}

impl<R: ReadToVec> ByteSource for DirectSource<R> {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.0.read(out)
    }

    fn read_some_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.0.read_to_vec(buf, max)
    }
}

/// A [`ByteSource`] over a socket: small fields come from a buffer filled
/// by one read at a time; a read at least as large as the buffer (a large
/// string's rest) goes from the stream straight to its destination.
#[derive(Debug)]
pub struct BufferedSource<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[pos..end]` is read and not yet consumed.
    pos: usize,
    end: usize,
}

impl<R: ReadToVec> BufferedSource<R> {
    /// Buffers `inner` with `capacity` bytes (at least 1).
    pub fn new(inner: R, capacity: usize) -> Self {
        BufferedSource {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            end: 0,
        }
    }

    /// Refills the (consumed) buffer with one read; 0 at the end.
    fn fill(&mut self) -> io::Result<usize> {
        self.pos = 0;
        self.end = 0;
        let n = self.inner.read(&mut self.buf)?;
        self.end = n;
        Ok(n)
    }

    /// Consumes up to `max` buffered bytes, refilling when empty.
    fn buffered(&mut self, max: usize) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.fill()?;
        }
        let n = max.min(self.end - self.pos);
        let at = self.pos;
        self.pos += n;
        Ok(&self.buf[at..at + n])
    }
}

/// For protocols of the crate's that read through `io::Read` (JSON).
impl<R: ReadToVec> Read for BufferedSource<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.read_some(out)
    }
}

impl<R: ReadToVec> ByteSource for BufferedSource<R> {
    const APPENDS_IN_PLACE: bool = R::APPENDS_IN_PLACE;

    fn read_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() {
            return self.inner.read(out);
        }
        let got = self.buffered(out.len())?;
        let n = got.len();
        out[..n].copy_from_slice(got);
        Ok(n)
    }

    fn read_some_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        if self.pos == self.end && max >= self.buf.len() {
            let (n, after) = self.inner.read_to_vec_then(buf, max, &mut self.buf)?;
            self.pos = 0;
            self.end = after;
            return Ok(n);
        }
        let got = self.buffered(max)?;
        buf.extend_from_slice(got);
        Ok(got.len())
    }

    fn read_byte(&mut self) -> io::Result<u8> {
        if self.pos < self.end {
            self.pos += 1;
            return Ok(self.buf[self.pos - 1]);
        }
        let mut byte = [0u8; 1];
        self.read_full(&mut byte)?;
        Ok(byte[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// Hands out at most `step` bytes per read; with `IN_PLACE`, also
    /// straight into a vector's spare capacity.
    struct Trickle<'a, const IN_PLACE: bool> {
        data: &'a [u8],
        step: usize,
        reads: usize,
    }
    impl<const IN_PLACE: bool> Read for Trickle<'_, IN_PLACE> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            let n = out.len().min(self.step).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }
    impl<const IN_PLACE: bool> ReadToVec for Trickle<'_, IN_PLACE> {
        const APPENDS_IN_PLACE: bool = IN_PLACE;

        fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
            if !IN_PLACE {
                let start = buf.len();
                buf.resize(start + max.min(ZEROED_CHUNK_BYTES), 0);
                let n = self.read(&mut buf[start..])?;
                buf.truncate(start + n);
                return Ok(n);
            }
            self.reads += 1;
            let n = max.min(self.step).min(self.data.len());
            buf.extend_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn fields_strings_and_skips_come_out_in_order_whatever_the_read_sizes() {
        let data = pattern(300_000);
        for step in [1, 7, 4096, 70_000, usize::MAX] {
            for capacity in [1, 16, 64 * 1024] {
                check_fields(
                    BufferedSource::new(
                        Trickle::<true> {
                            data: &data,
                            step,
                            reads: 0,
                        },
                        capacity,
                    ),
                    &data,
                );
                check_fields(
                    BufferedSource::new(
                        Trickle::<false> {
                            data: &data,
                            step,
                            reads: 0,
                        },
                        capacity,
                    ),
                    &data,
                );
            }
        }
    }

    fn check_fields(mut source: impl ByteSource, data: &[u8]) {
        assert_eq!(source.read_byte().expect("byte"), data[0]);
        let mut four = [0u8; 4];
        source.read_full(&mut four).expect("exact");
        assert_eq!(four, data[1..5]);
        let string = source.read_vec(200_000).expect("string");
        assert_eq!(string, data[5..200_005]);
        source.discard(50_000).expect("discard");
        let rest = source.read_vec(49_995).expect("rest");
        assert_eq!(rest, data[250_005..]);
        let err = source.read_byte().expect_err("at the end");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_truncated_string_is_an_eof_error() {
        let data = pattern(1000);
        let mut source = DirectSource(&data[..]);
        let err = source.read_vec(1001).expect_err("one short");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_large_string_bypasses_the_buffer() {
        let data = pattern(1 << 20);
        let mut trickle = Trickle::<true> {
            data: &data,
            step: 300_000,
            reads: 0,
        };
        let mut source = BufferedSource::new(&mut trickle, 64 * 1024);
        assert_eq!(source.read_vec(1 << 20).expect("string"), data);
        drop(source);
        // Four reads straight into the string: none went through the buffer.
        assert_eq!(trickle.reads, 4);
    }

    #[test]
    fn sockets_and_cursors_append_without_losing_or_inventing_bytes() {
        let data = pattern(3 << 20);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut sent = data.clone();
        sent.extend_from_slice(b"after the string");
        let writer = std::thread::spawn(move || {
            let mut client = TcpStream::connect(addr).expect("connect");
            client.write_all(&sent).expect("write");
        });
        let (server, _) = listener.accept().expect("accept");
        let mut source = BufferedSource::new(server, 64 * 1024);
        assert_eq!(source.read_vec(data.len()).expect("socket"), data);
        // What came with the string's last part (readv) is read next.
        let mut after = [0u8; 16];
        source.read_full(&mut after).expect("after");
        assert_eq!(&after, b"after the string");
        writer.join().expect("writer");
        assert_eq!(source.read_some(&mut [0u8; 8]).expect("closed"), 0);

        let mut cursor = DirectSource(Cursor::new(data.clone()));
        assert_eq!(cursor.read_vec(10).expect("head"), data[..10]);
        assert_eq!(cursor.read_vec(data.len() - 10).expect("rest"), data[10..]);
        assert_eq!(cursor.read_some_to_vec(&mut Vec::new(), 5).expect("end"), 0);
    }
}
