//! [`TextBuffer`]: the in-memory text of one message, with a ceiling.

use std::io::{self, Write};

/// A `Vec<u8>` that refuses writes past `max` bytes, so that a message
/// cannot make its debug text grow without bound.
#[derive(Debug, Default)]
pub(crate) struct TextBuffer {
    bytes: Vec<u8>,
    max: usize,
    full: bool,
}

impl TextBuffer {
    pub(crate) fn new(max: usize) -> Self {
        TextBuffer {
            bytes: Vec::new(),
            max,
            full: false,
        }
    }

    /// Whether a write was refused.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// The text so far (lossy only if a name held invalid UTF-8, which
    /// `&str` names cannot).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub(crate) fn into_text(self) -> String {
        String::from_utf8(self.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Empties the buffer for the next message; a buffer grown large for
    /// one message does not stay large.
    pub(crate) fn clear(&mut self) {
        const KEEP: usize = 64 * 1024;
        self.bytes.clear();
        if self.bytes.capacity() > KEEP {
            self.bytes.shrink_to(KEEP);
        }
        self.full = false;
    }
}

impl Write for TextBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.max {
            self.full = true;
            return Err(io::Error::other(format!(
                "debug text over {} bytes",
                self.max
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
