//! Connecting quickly after a network outage: fresh SYNs instead of the
//! kernel's retransmission schedule.
//!
//! A connect whose SYN was dropped is retried by the kernel 1 s later, then
//! 3 s, 7 s...: a path that comes back 50 ms after the first SYN still
//! costs the caller about a second. While an attempt waits, this module
//! starts another one every `resend_interval`, each with a SYN of its own,
//! and keeps the first that completes. A refused attempt (the host answered
//! with RST) ends the whole connect at once, so a restarting server costs
//! no more than before and the caller's backoff decides when to try again.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// Attempts waiting at once, at most: bounds descriptors and ports used.
const MAX_WAITING: usize = 16;

/// Connects to `addr` within `timeout`, starting a new attempt every
/// `resend_interval` while earlier ones are still waiting for an answer.
pub(crate) fn connect(
    addr: &SocketAddr,
    timeout: Duration,
    resend_interval: Duration,
) -> io::Result<TcpStream> {
    let deadline = Instant::now() + timeout;
    let mut waiting: Vec<Socket> = Vec::new();
    let mut next_start = Instant::now();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer within {} ms ({} attempts)",
                    timeout.as_millis(),
                    waiting.len()
                ),
            ));
        }
        if now >= next_start && waiting.len() < MAX_WAITING {
            next_start = now + resend_interval;
            if let Some(stream) = start_attempt(addr, &mut waiting)? {
                return Ok(stream);
            }
        }
        let until = if waiting.len() < MAX_WAITING {
            next_start.min(deadline)
        } else {
            deadline
        };
        if let Some(stream) = wait_for_any(
            &mut waiting,
            until.saturating_duration_since(Instant::now()),
        )? {
            return Ok(stream);
        }
    }
}

/// Starts a non-blocking connect; a connection made at once is returned.
fn start_attempt(addr: &SocketAddr, waiting: &mut Vec<Socket>) -> io::Result<Option<TcpStream>> {
    let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    match socket.connect(&(*addr).into()) {
        Ok(()) => finish(socket).map(Some),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
            waiting.push(socket);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Waits up to `wait` for an attempt to complete. Returns the first that
/// connected; an attempt that failed fails the whole connect.
fn wait_for_any(waiting: &mut Vec<Socket>, wait: Duration) -> io::Result<Option<TcpStream>> {
    let mut fds: Vec<libc::pollfd> = waiting
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    // Round up, so a wait shorter than a millisecond does not spin.
    let millis = i32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    if ready < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(None)
        } else {
            Err(e)
        };
    }
    for (i, fd) in fds.iter().enumerate() {
        if fd.revents == 0 {
            continue;
        }
        let socket = waiting.swap_remove(i);
        if let Some(e) = socket.take_error()? {
            return Err(e);
        }
        return finish(socket).map(Some);
    }
    Ok(None)
}

/// A connected socket as a blocking `TcpStream`.
fn finish(socket: Socket) -> io::Result<TcpStream> {
    socket.set_nonblocking(false)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn connects_to_a_listening_port() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stream =
            connect(&addr, Duration::from_secs(2), Duration::from_millis(200)).expect("connect");
        assert_eq!(stream.peer_addr().expect("peer"), addr);
    }

    #[test]
    fn a_refusal_fails_at_once() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr");
        // The listener is gone: the port refuses.
        let started = Instant::now();
        let e = connect(&addr, Duration::from_secs(5), Duration::from_millis(200))
            .expect_err("nothing listens");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
