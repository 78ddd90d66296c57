//! Making socket timeouts say what they are.

use std::io::{self, Read, Write};
use std::time::Duration;

/// Wraps a socket so that an expired read or write timeout is reported as
/// `TimedOut` with the timeout in the message. On Linux the kernel reports an
/// expired `SO_RCVTIMEO` as `EAGAIN` ("Resource temporarily unavailable"),
/// which the thrift crate turns into an anonymous "transport error".
#[derive(Debug)]
pub struct TimeoutReporting<S> {
    inner: S,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl<S> TimeoutReporting<S> {
    /// Wraps `inner`, whose own timeouts are the ones given (for messages).
    pub fn new(inner: S, read_timeout: Option<Duration>, write_timeout: Option<Duration>) -> Self {
        TimeoutReporting {
            inner,
            read_timeout,
            write_timeout,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Updates the timeout named in errors (the caller sets the socket's own).
    pub fn set_read_timeout_label(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn timed_out(what: &str, timeout: Option<Duration>) -> io::Error {
    let after = timeout
        .map(|t| format!(" after {} ms", t.as_millis()))
        .unwrap_or_default();
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out{after}"))
}

impl<S: Read> Read for TimeoutReporting<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| self.reported(e))
    }
}

impl<S: crate::ReadToVec> crate::ReadToVec for TimeoutReporting<S> {
    const APPENDS_IN_PLACE: bool = S::APPENDS_IN_PLACE;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.inner
            .read_to_vec(buf, max)
            .map_err(|e| self.reported(e))
    }

    fn read_to_vec_then(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        after: &mut [u8],
    ) -> io::Result<(usize, usize)> {
        self.inner
            .read_to_vec_then(buf, max, after)
            .map_err(|e| self.reported(e))
    }
}

impl<S> TimeoutReporting<S> {
    /// A read timeout named as one.
    fn reported(&self, e: io::Error) -> io::Error {
        if is_timeout(&e) {
            timed_out("read", self.read_timeout)
        } else {
            e
        }
    }
}

impl<S: Write> Write for TimeoutReporting<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| {
            if is_timeout(&e) {
                timed_out("write", self.write_timeout)
            } else {
                e
            }
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One line describing a thrift error, with its kind, for logs and reports.
/// The crate's own `Display` says little more than "transport error".
pub fn describe(e: &thrift::Error) -> String {
    match e {
        thrift::Error::Transport(t) => format!("transport error ({:?}): {}", t.kind, t.message),
        thrift::Error::Protocol(p) => format!("protocol error ({:?}): {}", p.kind, p.message),
        thrift::Error::Application(a) => {
            format!("application error ({:?}): {}", a.kind, a.message)
        }
        thrift::Error::User(u) => format!("error: {u}"),
    }
}
