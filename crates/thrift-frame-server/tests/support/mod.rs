//! An in-process server on an ephemeral port, and the probes tests use on it.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use thrift_frame_client::{ClientConfig, PingClient};
use thrift_frame_server::{serve, ServeReport, ServerConfig, ServerError, ShutdownSignal};

pub struct TestServer {
    pub addr: SocketAddr,
    pub config: ServerConfig,
    shutdown: ShutdownSignal,
    handle: JoinHandle<Result<ServeReport, ServerError>>,
}

impl TestServer {
    /// Binds port 0 before the server thread starts, so the port accepts
    /// connections (into the backlog) from the moment this returns.
    pub fn start(config: ServerConfig) -> Result<TestServer> {
        let _ = env_logger::builder().is_test(true).try_init();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shutdown = ShutdownSignal::new();
        let (signal, cfg) = (shutdown.clone(), config.clone());
        let handle = thread::spawn(move || serve(listener, signal, cfg));
        Ok(TestServer {
            addr,
            config,
            shutdown,
            handle,
        })
    }

    /// A fresh client pings once and disconnects: proves the server serves.
    pub fn assert_serves(&self, msg: &str) -> Result<()> {
        let mut config = ClientConfig::new(self.addr.to_string());
        config.wire = self.config.wire.clone();
        let mut client = PingClient::new(config)?;
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
