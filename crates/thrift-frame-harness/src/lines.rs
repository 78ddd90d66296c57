//! A child's stdout as lines, each stamped when it was read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::{Deadline, HarnessError};

/// A line a child printed, stamped when the runner read it.
#[derive(Debug, Clone)]
pub struct Line {
    /// The line, without its line break.
    pub text: String,
    /// When it was read.
    pub at: Instant,
    /// The same moment on the wall clock, to line it up with other
    /// processes' logs (the fault suite compares it with the server's).
    pub wall: SystemTime,
}

/// A child's stdout, read line by line on a thread of its own (so a child
/// never blocks on a full pipe) and copied to a file as it arrives.
pub struct LineStream {
    lines: Receiver<Line>,
}

impl LineStream {
    /// Reads `source` on a thread of its own, copying every line to `copy`.
    pub fn spawn(source: impl Read + Send + 'static, mut copy: Option<File>) -> Self {
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let (at, wall) = (Instant::now(), SystemTime::now());
                if let Some(file) = copy.as_mut() {
                    // The copy is for people reading logs; losing it must
                    // not stop the case.
                    let _ = file.write_all(&raw);
                }
                let text = String::from_utf8_lossy(&raw).trim_end().to_owned();
                if sender.send(Line { text, at, wall }).is_err() {
                    break;
                }
            }
        });
        Self { lines }
    }

    /// The next line, or `None` once the child closed its stdout.
    pub fn next(
        &self,
        deadline: &Deadline,
        waiting_for: &str,
    ) -> Result<Option<Line>, HarnessError> {
        loop {
            deadline.check(waiting_for)?;
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => return Ok(Some(line)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }
}
