//! The floor: the same bytes over a raw TCP loopback connection, no Thrift.
//!
//! The client writes a 4-byte length and the payload; the server reads all of
//! it and answers with a short line, as `ping` does. Both ends use
//! TCP_NODELAY. No Thrift stack can beat this on the same machine.
//!
//! The server runs either on a thread of this process or as a process of its
//! own. The second is the like-for-like floor for a server process such as
//! `ping-server`: crossing between processes costs more than between threads
//! (context switches, caches), and that cost is not Thrift's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::BenchError;

/// A raw TCP server and a client connected to it.
pub struct RawTcp {
    stream: TcpStream,
    frame: Vec<u8>,
    /// The server's process, when it has one; killed on drop.
    server: Option<Child>,
}

impl Drop for RawTcp {
    fn drop(&mut self) {
        if let Some(child) = &mut self.server {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Binds loopback, prints `LISTENING <port>` on stdout and serves one
/// connection: the body of the raw server process.
pub fn serve_announced(max_payload: usize) -> Result<(), BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| BenchError::io("binding", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| BenchError::io("address", e))?
        .port();
    let mut out = std::io::stdout();
    writeln!(out, "LISTENING {port}")
        .and_then(|()| out.flush())
        .map_err(|e| BenchError::io("announcing the port", e))?;
    serve_one(listener, max_payload);
    Ok(())
}

impl RawTcp {
    /// Starts `program args...`, which must behave like [`serve_announced`],
    /// and connects to it.
    pub fn start_process(program: &Path, args: &[&str]) -> Result<RawTcp, BenchError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| BenchError::io(format!("starting {}", program.display()), e))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| BenchError::io("reading the raw server's port", e))?;
        }
        let port: u16 = match line.trim().strip_prefix("LISTENING ").map(str::parse) {
            Some(Ok(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BenchError::Invalid(format!("raw server said {line:?}")));
            }
        };
        let mut raw = Self::connect(("127.0.0.1", port))?;
        raw.server = Some(child);
        Ok(raw)
    }

    fn connect(addr: impl std::net::ToSocketAddrs) -> Result<RawTcp, BenchError> {
        let stream = TcpStream::connect(addr)
            .map_err(|e| BenchError::io("connecting to the raw TCP server", e))?;
        stream
            .set_nodelay(true)
            .map_err(|e| BenchError::io("TCP_NODELAY", e))?;
        Ok(RawTcp {
            stream,
            frame: Vec::new(),
            server: None,
        })
    }

    /// The server's process id, when it runs in a process of its own.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Starts the server on a thread; it accepts payloads of at most `max_payload` bytes.
    pub fn start(max_payload: usize) -> Result<RawTcp, BenchError> {
        let io = |what: &'static str| move |e| BenchError::io(what, e);
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(io("binding the raw TCP server"))?;
        let addr = listener
            .local_addr()
            .map_err(io("raw TCP server address"))?;
        thread::Builder::new()
            .name("raw-tcp-server".into())
            .spawn(move || serve_one(listener, max_payload))
            .map_err(io("starting the raw TCP server"))?;
        Self::connect(addr)
    }

    /// Sends `payload`, waits for the reply line; returns the round-trip time.
    pub fn exchange(&mut self, payload: &[u8]) -> Result<Duration, BenchError> {
        let len = u32::try_from(payload.len())
            .map_err(|_| BenchError::Invalid("raw payload over 4 GiB".into()))?;
        // Framing outside the timed section; the copy is part of neither side.
        self.frame.clear();
        self.frame.extend_from_slice(&len.to_be_bytes());
        self.frame.extend_from_slice(payload);
        let start = Instant::now();
        self.stream
            .write_all(&self.frame)
            .map_err(|e| BenchError::io("raw TCP send", e))?;
        let mut reply = [0u8; 64];
        let mut got = 0;
        while got == 0 || reply[got - 1] != b'\n' {
            if got == reply.len() {
                return Err(BenchError::Invalid("raw TCP reply too long".into()));
            }
            let n = self
                .stream
                .read(&mut reply[got..])
                .map_err(|e| BenchError::io("raw TCP receive", e))?;
            if n == 0 {
                return Err(BenchError::Invalid("raw TCP server closed".into()));
            }
            got += n;
        }
        let elapsed = start.elapsed();
        let expected = format!("receive len: {}\n", payload.len());
        if &reply[..got] != expected.as_bytes() {
            return Err(BenchError::Invalid(format!(
                "raw TCP reply {:?}",
                String::from_utf8_lossy(&reply[..got])
            )));
        }
        Ok(elapsed)
    }
}

/// Serves one connection until it closes.
fn serve_one(listener: TcpListener, max_payload: usize) {
    let Ok((mut conn, _)) = listener.accept() else {
        return;
    };
    if conn.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = vec![0u8; max_payload];
    loop {
        let mut len = [0u8; 4];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > buf.len() || conn.read_exact(&mut buf[..n]).is_err() {
            return;
        }
        if conn
            .write_all(format!("receive len: {n}\n").as_bytes())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_payloads_of_any_size_up_to_the_maximum() {
        let mut raw = RawTcp::start(1 << 20).expect("start");
        for size in [0, 1, 4096, 1 << 20] {
            raw.exchange(&vec![b'x'; size]).expect("exchange");
        }
        assert!(raw.exchange(&vec![b'x'; (1 << 20) + 1]).is_err());
    }
}
