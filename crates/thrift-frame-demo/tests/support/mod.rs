//! An in-process server on an ephemeral port, and the probes tests use on it.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TStructIdentifier, TType,
};
use thrift_frame_client::ClientConfig;
use thrift_frame_demo::Service;
use thrift_frame_demo::{ping_client, PingCalls};
use thrift_frame_server::{Protocol, Transport};
use thrift_frame_server::{
    ServeReport, Server, ServerConfig, ServerError, ServerMonitor, SharedProcessor, ShutdownSignal,
};

pub struct TestServer {
    pub addr: SocketAddr,
    pub config: ServerConfig,
    pub monitor: ServerMonitor,
    shutdown: ShutdownSignal,
    handle: JoinHandle<Result<ServeReport, ServerError>>,
}

impl TestServer {
    /// Binds port 0 before the server thread starts, so the port accepts
    /// connections (into the backlog) from the moment this returns.
    pub fn start(config: ServerConfig) -> Result<TestServer> {
        let processor = Service::Ping.processor()?;
        Self::start_with(config, processor)
    }

    /// The same with a processor of the test's own.
    pub fn start_with(config: ServerConfig, processor: SharedProcessor) -> Result<TestServer> {
        let _ = env_logger::builder().is_test(true).try_init();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = Server::with_processor(listener, config.clone(), processor)?;
        let monitor = server.monitor();
        let shutdown = ShutdownSignal::new();
        let signal = shutdown.clone();
        let handle = thread::spawn(move || server.serve(signal));
        Ok(TestServer {
            addr,
            config,
            monitor,
            shutdown,
            handle,
        })
    }

    /// Triggers shutdown without waiting for the server.
    pub fn trigger_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Waits for `serve` to return, at most `limit`.
    pub fn join_within(self, limit: Duration) -> Result<ServeReport> {
        let deadline = std::time::Instant::now() + limit;
        while !self.handle.is_finished() {
            if std::time::Instant::now() >= deadline {
                bail!("the server did not stop within {} ms", limit.as_millis());
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.handle
            .join()
            .map_err(|_| anyhow!("server thread panicked"))?
            .context("serve returned an error")
    }

    /// A fresh client pings once and disconnects: proves the server serves.
    pub fn assert_serves(&self, msg: &str) -> Result<()> {
        let mut config = ClientConfig::new(self.addr.to_string());
        config.wire = self.config.wire.clone();
        if config.wire.transport == Transport::Auto {
            // What auto detects first of all.
            config.wire.transport = Transport::Header;
        }
        let mut client = ping_client(config, false)?;
        let reply = client.ping(msg).context("a good client's ping")?;
        if reply != format!("receive len: {}", msg.len()) {
            bail!("wrong reply {reply:?}");
        }
        Ok(())
    }

    pub fn stop(self) -> Result<ServeReport> {
        self.shutdown.trigger();
        self.handle
            .join()
            .map_err(|_| anyhow!("server thread panicked"))?
            .context("serve returned an error")
    }
}

/// Opens a raw connection and writes `bytes` to it.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    s.write_all(bytes)?;
    Ok(s)
}

/// Reads until the server closes the connection (EOF or reset); fails if it
/// is still open after `within`. Any reply bytes (an exception) are skipped.
pub fn assert_closed_by_server(mut s: TcpStream, within: Duration) -> Result<()> {
    s.set_read_timeout(Some(within))?;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => bail!("the server did not close the connection: {e}"),
        }
    }
}

/// Polls `condition` every 5 ms until it holds; fails after `limit`.
pub fn wait_until(limit: Duration, what: &str, condition: impl Fn() -> bool) -> Result<()> {
    let deadline = std::time::Instant::now() + limit;
    while !condition() {
        if std::time::Instant::now() >= deadline {
            bail!(
                "timed out after {} ms waiting until {what}",
                limit.as_millis()
            );
        }
        thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// The start of a `ping` call up to the string's length prefix.
pub fn ping_header(out: &mut dyn TOutputProtocol) {
    out.write_message_begin(&TMessageIdentifier::new("ping", TMessageType::Call, 1))
        .expect("encode");
    out.write_struct_begin(&TStructIdentifier::new("ping_args"))
        .expect("encode");
    out.write_field_begin(&TFieldIdentifier::new("msg", TType::String, 1))
        .expect("encode");
}

/// A complete `ping("hello")` call in the given protocol, unframed.
pub fn ping_call(protocol: Protocol) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut out: Box<dyn TOutputProtocol> = match protocol {
            Protocol::Binary => Box::new(TBinaryOutputProtocol::new(&mut buf, true)),
            Protocol::Compact => Box::new(TCompactOutputProtocol::new(&mut buf)),
            Protocol::Json => Box::new(thrift_frame_wire::TJsonOutputProtocol::new(&mut buf)),
        };
        ping_header(out.as_mut());
        out.write_string("hello").expect("encode");
        out.write_field_end().expect("encode");
        out.write_field_stop().expect("encode");
        out.write_struct_end().expect("encode");
        out.write_message_end().expect("encode");
        out.flush().expect("encode");
    }
    buf
}

/// A raw connection that has had one `ping` answered: the server has set
/// the connection up completely.
pub fn answered_connection(addr: SocketAddr) -> Result<TcpStream> {
    let mut s = send_raw(addr, &ping_call(Protocol::Compact))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut first = [0u8; 1];
    s.read_exact(&mut first).context("reading the reply")?;
    Ok(s)
}
