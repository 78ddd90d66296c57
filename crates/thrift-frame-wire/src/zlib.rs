//! Thrift's zlib transport (TZlibTransport): one zlib stream per direction
//! of a connection, flushed with a sync flush at the end of every message,
//! so the peer can decode a message as soon as its bytes arrive. The C++,
//! Go and Python libraries all read such a stream (C++ flushes with
//! Z_FULL_FLUSH, Go and Python with Z_SYNC_FLUSH; both end on a byte
//! boundary and decode the same). Compression and decompression are
//! `flate2`'s.
//!
//! A decompression bomb cannot make us allocate: reading is pulled by the
//! protocol, whose string and container limits hold as on any transport,
//! and [`MessageBudget`] fails a message whose decompressed bytes exceed
//! `max_message_size`, whatever the compressed input claims.

use std::io::{self, BufWriter, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Decompressed bytes of the current message, shared between the reader
/// that counts them and the input protocol that starts each message.
#[derive(Debug, Clone, Default)]
pub struct MessageBudget {
    used: Arc<AtomicUsize>,
}

impl MessageBudget {
    /// A new message starts: its bytes are counted from zero.
    pub fn start_message(&self) {
        self.used.store(0, Ordering::Relaxed);
    }

    /// Counts `bytes` more; the total so far.
    fn spend(&self, bytes: usize) -> usize {
        self.used.fetch_add(bytes, Ordering::Relaxed) + bytes
    }
}

/// An input protocol whose messages are counted against a
/// [`MessageBudget`]: each `read_message_begin` starts the count again.
/// Everything else goes to the protocol inside.
pub struct BudgetedInput<P> {
    inner: P,
    budget: MessageBudget,
}

impl<P> BudgetedInput<P> {
    /// Restarts `budget` at every message `inner` reads.
    pub fn new(inner: P, budget: MessageBudget) -> Self {
        BudgetedInput { inner, budget }
    }

    fn inner(&mut self) -> thrift::Result<&mut P> {
        Ok(&mut self.inner)
    }
}

impl<P: thrift::protocol::TInputProtocol> thrift::protocol::TInputProtocol for BudgetedInput<P> {
    fn read_message_begin(&mut self) -> thrift::Result<thrift::protocol::TMessageIdentifier> {
        self.budget.start_message();
        self.inner.read_message_begin()
    }

    forward_reads_via!(inner);

    fn min_serialized_size(&self, field_type: thrift::protocol::TType) -> usize {
        self.inner.min_serialized_size(field_type)
    }
}

/// The read side: inflates the peer's zlib stream.
///
/// Built on `flate2::Decompress` rather than its `bufread` decoder, which
/// asks its source for more input before handing out output it already
/// holds: after a read that filled the caller's buffer exactly (a 1 MiB
/// string), the message's last bytes sat inside the decoder while it
/// blocked on the socket for a next message that never came.
pub struct ZlibReader<R> {
    inner: R,
    inflate: Decompress,
    /// Compressed bytes read from `inner`, `input[start..end]` not yet inflated.
    input: Box<[u8]>,
    start: usize,
    end: usize,
    budget: MessageBudget,
    max_message_size: usize,
}

impl<R: Read> ZlibReader<R> {
    /// Inflates `reader`, `buffer` bytes of compressed input at a time; a
    /// message that inflates past `max_message_size` is an error.
    pub fn new(reader: R, buffer: usize, max_message_size: usize, budget: MessageBudget) -> Self {
        ZlibReader {
            inner: reader,
            inflate: Decompress::new(true),
            input: vec![0; buffer.max(64)].into_boxed_slice(),
            start: 0,
            end: 0,
            budget,
            max_message_size,
        }
    }

    /// Inflates what is buffered into `buf`: (input consumed, output made,
    /// whether the stream ended).
    fn inflate_buffered(&mut self, buf: &mut [u8]) -> io::Result<(usize, usize, bool)> {
        let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
        let status = self
            .inflate
            .decompress(
                &self.input[self.start..self.end],
                buf,
                FlushDecompress::None,
            )
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zlib: {e}")))?;
        let consumed = usize::try_from(self.inflate.total_in() - before_in).unwrap_or(usize::MAX);
        let produced = usize::try_from(self.inflate.total_out() - before_out).unwrap_or(usize::MAX);
        self.start = self.start.saturating_add(consumed).min(self.end);
        Ok((consumed, produced, status == Status::StreamEnd))
    }

    /// Reads more compressed input after what is left; false at end of file.
    fn refill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.input.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "zlib: no progress on a full input buffer",
            ));
        }
        let n = self.inner.read(&mut self.input[self.end..])?;
        self.end += n;
        Ok(n > 0)
    }
}

impl<R: Read> Read for ZlibReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            // Output the decoder already holds comes first, before any
            // read that could block.
            let (consumed, produced, ended) = self.inflate_buffered(buf)?;
            if produced > 0 {
                if self.budget.spend(produced) > self.max_message_size {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "zlib: a message inflates to more than {} bytes (max_message_size)",
                            self.max_message_size
                        ),
                    ));
                }
                return Ok(produced);
            }
            if ended {
                return Ok(0);
            }
            if consumed > 0 && self.start < self.end {
                continue;
            }
            if !self.refill()? {
                // Between messages the peer may close; inside one it may not.
                if self.start == self.end {
                    return Ok(0);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "zlib: the stream ended mid-message",
                ));
            }
        }
    }
}

/// The write side: deflates into one zlib stream, sync-flushed by `flush`.
///
/// On `flate2::Compress` rather than its `write` encoder, whose drop ends
/// the stream (final block and checksum): a server closing an idle
/// connection would send bytes its client's idle check takes for a live
/// connection. Like the C++ and Python transports, we never end the
/// stream; closing the socket is the end.
pub struct ZlibWriter<W: Write> {
    inner: BufWriter<W>,
    deflate: Compress,
    output: Vec<u8>,
}

impl<W: Write> ZlibWriter<W> {
    /// Deflates into `writer` at zlib's default level, sending at most
    /// `buffer` compressed bytes per write.
    pub fn new(writer: W, buffer: usize) -> Self {
        let buffer = buffer.max(64);
        ZlibWriter {
            inner: BufWriter::with_capacity(buffer, writer),
            deflate: Compress::new(Compression::default(), true),
            output: Vec::with_capacity(buffer),
        }
    }

    /// Runs deflate over `input` once; returns the input bytes it took and
    /// whether the output buffer filled up (more output may be pending).
    fn deflate_once(&mut self, input: &[u8], flush: FlushCompress) -> io::Result<(usize, bool)> {
        self.output.clear();
        let before = self.deflate.total_in();
        self.deflate
            .compress_vec(input, &mut self.output, flush)
            .map_err(|e| io::Error::other(format!("zlib: {e}")))?;
        self.inner.write_all(&self.output)?;
        let taken = usize::try_from(self.deflate.total_in() - before).unwrap_or(usize::MAX);
        Ok((taken, self.output.len() == self.output.capacity()))
    }
}

impl<W: Write> Write for ZlibWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let (taken, full) = self.deflate_once(buf, FlushCompress::None)?;
            if taken > 0 || !full {
                return Ok(taken);
            }
        }
    }

    /// A sync flush: everything written so far can be inflated by the peer.
    fn flush(&mut self) -> io::Result<()> {
        while self.deflate_once(&[], FlushCompress::Sync)?.1 {}
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn compress(chunks: &[&[u8]]) -> Vec<u8> {
        let mut writer = ZlibWriter::new(Vec::new(), 1024);
        for chunk in chunks {
            writer.write_all(chunk).unwrap();
            writer.flush().unwrap();
        }
        writer.inner.get_ref().clone()
    }

    #[test]
    fn each_flush_makes_everything_so_far_readable() {
        let first = compress(&[b"hello "]);
        let both = compress(&[b"hello ", b"world"]);
        // The first message's bytes are a prefix of the stream, and they
        // alone inflate to the first message.
        assert_eq!(&both[..first.len()], &first[..]);
        let mut reader = ZlibReader::new(Cursor::new(first), 64, 1 << 20, MessageBudget::default());
        let mut out = [0u8; 6];
        reader.read_exact(&mut out).unwrap();
        assert_eq!(&out, b"hello ");
    }

    #[test]
    fn a_bomb_is_cut_at_the_message_limit() {
        let zeros = vec![0u8; 4 << 20];
        let bomb = compress(&[&zeros]);
        assert!(
            bomb.len() < 10_000,
            "4 MiB of zeros deflate to {} bytes",
            bomb.len()
        );
        let budget = MessageBudget::default();
        let mut reader = ZlibReader::new(Cursor::new(bomb), 1024, 1 << 20, budget.clone());
        let mut sink = Vec::new();
        let error = reader.read_to_end(&mut sink).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            sink.len() <= (1 << 20) + 64 * 1024,
            "{} bytes read",
            sink.len()
        );
        // A new message gets a fresh budget.
        budget.start_message();
        assert!(reader.read(&mut [0u8; 16]).is_ok());
    }
}
