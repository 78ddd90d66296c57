//! The descriptor budget: a connection costs the server one descriptor. In
//! a test binary of its own, because it counts the descriptors of the whole
//! process and other tests would open some meanwhile.

mod support;

use std::time::Duration;

use anyhow::{ensure, Result};
use support::{answered_connection, wait_until, TestServer};
use thrift_frame_server::ServerConfig;

/// Descriptors this process has open.
fn open_descriptors() -> Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?.count())
}

#[test]
fn a_connection_costs_the_server_one_descriptor() -> Result<()> {
    let server = TestServer::start(ServerConfig::default())?;
    let n = 20;
    // One connection first, so the server has opened everything it opens once.
    let first = answered_connection(server.addr)?;
    wait_until(
        Duration::from_secs(5),
        "the first connection is open",
        || server.monitor.open_connections() == 1,
    )?;
    let before = open_descriptors()?;
    let clients = (0..n)
        .map(|_| answered_connection(server.addr))
        .collect::<Result<Vec<_>>>()?;
    wait_until(Duration::from_secs(5), "all connections are open", || {
        server.monitor.open_connections() == n + 1
    })?;
    // Each client socket is one descriptor of this process too.
    let on_server = open_descriptors()? - before - n;
    ensure!(
        on_server <= n,
        "{on_server} descriptors for {n} server connections"
    );
    drop((first, clients));
    server.stop()?;
    Ok(())
}
