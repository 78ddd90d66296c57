//! The non-blocking model holds connections without a thread each: its own
//! binary, so no other test's threads are counted.

mod support;

use std::fs;

use anyhow::{Context, Result};
use support::{answered_connection, TestServer};
use thrift_frame_server::{ServerConfig, ServerModel};

fn threads_of_this_process() -> Result<usize> {
    Ok(fs::read_dir("/proc/self/task")
        .context("listing /proc/self/task")?
        .count())
}

#[test]
fn three_hundred_connections_add_no_thread() -> anyhow::Result<()> {
    let server = TestServer::start(ServerConfig {
        model: ServerModel::Nonblocking {
            io_threads: 2,
            workers: 2,
            max_buffered_bytes: 64 << 20,
        },
        ..ServerConfig::default()
    })?;
    // Every thread the model starts is running once it has served a call.
    server.assert_serves("warm")?;
    let before = threads_of_this_process()?;
    let held = (0..300)
        .map(|_| answered_connection(server.addr))
        .collect::<Result<Vec<_>>>()?;
    let during = threads_of_this_process()?;
    anyhow::ensure!(
        server.monitor.open_connections() == held.len(),
        "{} open",
        server.monitor.open_connections()
    );
    anyhow::ensure!(
        during <= before,
        "{before} threads before, {during} with {} connections",
        held.len()
    );
    // (Dropped with the rest of their replies unread, they end in resets.)
    drop(held);
    let report = server.stop()?;
    anyhow::ensure!(report.calls == 301, "{report:?}");
    Ok(())
}
