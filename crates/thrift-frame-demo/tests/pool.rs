//! The pool's policy when every worker is busy: queue up to `queue`
//! connections, refuse (close at once) the rest, serve the queued ones as
//! workers free up.

mod support;

use std::thread;
use std::time::Duration;

use anyhow::{anyhow, ensure, Result};
use support::{assert_closed_by_server, TestServer};
use thrift_frame_client::ClientConfig;
use thrift_frame_demo::{ping_client, PingCalls, PingClient};
use thrift_frame_server::{ServerConfig, ServerModel};

#[test]
fn busy_pool_queues_then_refuses_and_serves_the_queue_later() -> Result<()> {
    let server = TestServer::start(ServerConfig {
        model: ServerModel::Pool {
            workers: 1,
            queue: 1,
        },
        ..ServerConfig::default()
    })?;
    let client = || -> Result<PingClient> {
        let mut config = ClientConfig::new(server.addr.to_string());
        config.call_timeout = Duration::from_secs(10);
        Ok(ping_client(config, false)?)
    };

    // A holds the only worker: its answered ping proves a worker runs it.
    let mut a = client()?;
    ensure!(a.ping("a")? == "receive len: 1");

    // B is accepted next and waits in the queue; its ping blocks meanwhile.
    let mut b = client()?;
    b.connect()?;
    let b_call = thread::spawn(move || b.ping("bb"));

    // C finds worker and queue full: closed at once, not left hanging.
    let c = std::net::TcpStream::connect(server.addr)?;
    assert_closed_by_server(c, Duration::from_secs(10))?;

    // A leaves; the worker takes B from the queue and answers it.
    a.disconnect();
    let reply = b_call.join().map_err(|_| anyhow!("B panicked"))??;
    ensure!(reply == "receive len: 2", "{reply}");

    let report = server.stop()?;
    ensure!(report.refused == 1, "{report:?}");
    ensure!(report.calls == 2, "{report:?}");
    Ok(())
}
