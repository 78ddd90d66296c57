//! Ports and TCP readiness on loopback.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::process::FORK_LOCK;
use crate::{Deadline, HarnessError};

/// Every peer is driven on loopback only.
pub const HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Connect timeout of one readiness probe.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// Whether `host:port` accepts a TCP connection now. The name is resolved
/// on every call: a restarted container may come back on a new address.
pub fn accepts_tcp(host: &str, port: u16) -> bool {
    match (host, port).to_socket_addrs() {
        Ok(addresses) => addresses
            .into_iter()
            .any(|address| TcpStream::connect_timeout(&address, PROBE_TIMEOUT).is_ok()),
        Err(_) => false,
    }
}

/// Polls until `host:port` accepts a TCP connection; returns when it first
/// did. Readiness of a server the runner did not start (remote mode).
pub fn wait_for_tcp(
    host: &str,
    port: u16,
    deadline: &Deadline,
    waiting_for: &str,
) -> Result<Instant, HarnessError> {
    loop {
        if accepts_tcp(host, port) {
            return Ok(Instant::now());
        }
        deadline.nap(waiting_for)?;
    }
}

/// A port that is bound but not listening: connects to it are refused, and
/// no other process can take it until [`PortReservation::release`].
pub struct PortReservation {
    socket: socket2::Socket,
    port: u16,
}

impl PortReservation {
    /// Binds a free loopback port without listening on it.
    pub fn new() -> Result<Self, HarnessError> {
        let io_error = |source| HarnessError::Io {
            what: "reserving a free port".into(),
            source,
        };
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .map_err(io_error)?;
        let address = SocketAddr::V4(SocketAddrV4::new(HOST, 0));
        socket.bind(&address.into()).map_err(io_error)?;
        let port = socket
            .local_addr()
            .map_err(io_error)?
            .as_socket()
            .map(|address| address.port())
            .ok_or_else(|| io_error(io::Error::from(io::ErrorKind::AddrNotAvailable)))?;
        Ok(Self { socket, port })
    }

    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Frees the port for the server that is about to bind it.
    pub fn release(self) {
        let _no_child_forking = FORK_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.socket);
    }
}

/// The next candidate of [`restartable_port`] in this process.
static NEXT_RESTARTABLE: Mutex<Option<u32>> = Mutex::new(None);

/// A free port below the ephemeral range, for a server that will be killed
/// and restarted on it: inside the ephemeral range any client socket made
/// meanwhile may take the port as its local one while the server is down,
/// and the restart fails to bind (`Address already in use`). Successive
/// calls in one process never return the same port (until the range of
/// about 22,000 ports wraps), so parallel cells or tests do not collide;
/// the starting point depends on the pid, to spread processes too. The
/// port is checked free, not held (use [`PortReservation`] to hold one).
pub fn restartable_port() -> Result<u16, HarnessError> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let low: u16 = range
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(32768);
    let (first, span) = (10_000u32, u32::from(low).saturating_sub(10_000).max(1));
    let mut next = NEXT_RESTARTABLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let start = *next.get_or_insert_with(|| std::process::id().wrapping_mul(2_654_435_761) % span);
    for offset in 0..span.min(10_000) {
        let candidate = (start + offset) % span;
        let port = u16::try_from(first + candidate).unwrap_or(u16::MAX);
        if TcpListener::bind((HOST, port)).is_ok() {
            *next = Some((candidate + 1) % span);
            return Ok(port);
        }
    }
    Err(HarnessError::Io {
        what: format!("finding a free port below {low}"),
        source: io::Error::from(io::ErrorKind::AddrNotAvailable),
    })
}
