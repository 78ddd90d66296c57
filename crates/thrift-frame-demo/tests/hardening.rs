//! Defects an outside test found (issue 11), one test each: a trickling
//! peer, the descriptor budget, shutdown with a call in flight, a panicking
//! handler. Each failed on the server before its fix.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use support::{
    answered_connection, assert_closed_by_server, ping_call, send_raw, wait_until, TestServer,
};
use thrift_frame_client::{ClientConfig, ClientError};
use thrift_frame_demo::ping::{PingServiceSyncHandler, PingServiceSyncProcessor};
use thrift_frame_demo::{ping_client, PingCalls};
use thrift_frame_server::{Protocol, ServerConfig, ServerModel};

/// The first bytes of a compact `ping` whose string claims 1 MiB, so the
/// request never ends however long the peer keeps sending.
fn endless_ping() -> Vec<u8> {
    let mut bytes = ping_call(Protocol::Compact);
    // Keep the header up to the field header (type 8 = string, id 1), then
    // claim a 1 MiB string.
    let field = bytes.iter().position(|&b| b == 0x18).expect("field header");
    bytes.truncate(field + 1);
    bytes.extend_from_slice(&[0x80, 0x80, 0x40]);
    bytes
}

/// Sends `endless_ping` one byte per `gap`, then filler, until the server
/// closes the connection; returns how long after the first byte that was.
fn trickle(addr: SocketAddr, gap: Duration, give_up: Duration) -> Result<Duration> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let started = Instant::now();
    let mut bytes = endless_ping().into_iter().chain(std::iter::repeat(b'a'));
    while started.elapsed() < give_up {
        let byte = bytes.next().unwrap_or(b'a');
        match s.write(&[byte]) {
            Ok(_) => {}
            Err(_) => return Ok(started.elapsed()),
        }
        // The server's close shows as EOF on a non-blocking peek before a
        // write fails.
        s.set_nonblocking(true)?;
        let mut probe = [0u8; 1];
        let closed = match s.peek(&mut probe) {
            Ok(_) => true,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        };
        s.set_nonblocking(false)?;
        if closed {
            return Ok(started.elapsed());
        }
        thread::sleep(gap);
    }
    bail!("still connected after {} ms", give_up.as_millis())
}

#[test]
fn trickling_peers_cannot_hold_the_pool_beyond_the_request_deadline() -> Result<()> {
    let workers = 2;
    let request_timeout = Duration::from_millis(1500);
    let server = TestServer::start(ServerConfig {
        model: ServerModel::Pool { workers, queue: 16 },
        // Each gap (100 ms) is far inside the stall timeout: only the
        // request deadline can end these connections.
        stall_timeout: Some(Duration::from_secs(5)),
        request_timeout: Some(request_timeout),
        ..ServerConfig::default()
    })?;
    let addr = server.addr;
    let tricklers: Vec<_> = (0..workers + 1)
        .map(|_| {
            thread::spawn(move || {
                trickle(addr, Duration::from_millis(100), Duration::from_secs(20))
            })
        })
        .collect();
    wait_until(Duration::from_secs(5), "the pool is held", || {
        server.monitor.busy_connections() >= workers
    })?;

    // A normal client, one attempt with its usual timeout: it is queued
    // behind the tricklers and must be served once their deadline passes.
    let mut config = ClientConfig::new(addr.to_string());
    config.call_timeout = Duration::from_secs(4);
    config.max_call_attempts = 1;
    let mut client = ping_client(config, false)?;
    let reply = client
        .ping("hello")
        .context("a normal client behind trickling peers")?;
    ensure!(reply == "receive len: 5", "{reply}");

    for t in tricklers {
        let held = t.join().map_err(|_| anyhow!("trickler panicked"))??;
        // Cut at the deadline, not at the 20 s bound of the test.
        ensure!(
            held < Duration::from_secs(10),
            "held {} ms",
            held.as_millis()
        );
    }
    let report = server.stop()?;
    ensure!(report.bad_connections >= 3, "{report:?}");
    Ok(())
}

#[test]
fn connections_beyond_the_limit_are_refused_at_once_and_room_is_reused() -> Result<()> {
    for model in [ServerModel::Threaded, ServerModel::nonblocking()] {
        let limit = 4;
        let server = TestServer::start(ServerConfig {
            max_connections: Some(limit),
            model,
            ..ServerConfig::default()
        })?;
        let mut held = (0..limit)
            .map(|_| answered_connection(server.addr))
            .collect::<Result<Vec<_>>>()?;

        let extra = TcpStream::connect(server.addr)?;
        assert_closed_by_server(extra, Duration::from_secs(2))?;

        // Room frees up: once the server has seen the close, a fresh client is served.
        drop(held.pop());
        wait_until(Duration::from_secs(5), "a connection has left", || {
            server.monitor.open_connections() < limit
        })?;
        server.assert_serves("after")?;
        drop(held);
        let report = server.stop()?;
        ensure!(report.refused == 1, "{report:?}");
    }
    Ok(())
}

#[test]
fn shutdown_cuts_a_call_in_flight_after_the_grace_period() -> Result<()> {
    for model in [ServerModel::Threaded, ServerModel::nonblocking()] {
        let server = TestServer::start(ServerConfig {
            // Without a grace period, only these would end the half-sent call.
            stall_timeout: Some(Duration::from_secs(120)),
            request_timeout: Some(Duration::from_secs(120)),
            shutdown_grace: Duration::from_millis(300),
            model,
            ..ServerConfig::default()
        })?;
        let request = ping_call(Protocol::Compact);
        let half = send_raw(server.addr, &request[..request.len() / 2])?;
        wait_until(Duration::from_secs(5), "the call is in flight", || {
            server.monitor.busy_connections() == 1
        })?;
        server.trigger_shutdown();
        let report = server.join_within(Duration::from_secs(10))?;
        ensure!(report.cut_at_shutdown == 1, "{report:?}");
        assert_closed_by_server(half, Duration::from_secs(1))?;
    }
    Ok(())
}

#[test]
fn shutdown_lets_a_call_in_flight_finish_within_the_grace_period() -> Result<()> {
    for model in [ServerModel::Threaded, ServerModel::nonblocking()] {
        let server = TestServer::start(ServerConfig {
            shutdown_grace: Duration::from_secs(30),
            model,
            ..ServerConfig::default()
        })?;
        let request = ping_call(Protocol::Compact);
        let (first, rest) = request.split_at(request.len() / 2);
        let mut s = send_raw(server.addr, first)?;
        wait_until(Duration::from_secs(5), "the call is in flight", || {
            server.monitor.busy_connections() == 1
        })?;
        let monitor = server.monitor.clone();
        server.trigger_shutdown();
        s.write_all(rest)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reply = [0u8; 1];
        s.read_exact(&mut reply)
            .context("the call in flight is answered")?;
        let report = server.join_within(Duration::from_secs(10))?;
        ensure!(
            report.cut_at_shutdown == 0 && report.calls == 1,
            "{report:?}"
        );
        ensure!(monitor.open_connections() == 0);
    }
    Ok(())
}

/// Panics when asked to ping "boom".
struct PanickyPing;

impl PingServiceSyncHandler for PanickyPing {
    fn handle_ping(&self, msg: String) -> thrift::Result<String> {
        if msg == "boom" {
            panic!("the handler was asked to explode");
        }
        Ok(format!("receive len: {}", msg.len()))
    }

    fn handle_output(&self, msg: String) -> thrift::Result<String> {
        Ok(format!("You said: {msg}"))
    }
}

/// One worker each, or none: the non-blocking model on its I/O thread.
const PANIC_MODELS: [ServerModel; 3] = [
    ServerModel::Pool {
        workers: 1,
        queue: 4,
    },
    ServerModel::Nonblocking {
        io_threads: 1,
        workers: 1,
        max_buffered_bytes: 64 << 20,
    },
    ServerModel::Nonblocking {
        io_threads: 1,
        workers: 0,
        max_buffered_bytes: 64 << 20,
    },
];

#[test]
fn a_panicking_handler_costs_its_call_not_the_worker() -> Result<()> {
    for model in PANIC_MODELS {
        let server = TestServer::start_with(
            ServerConfig {
                model,
                ..ServerConfig::default()
            },
            Arc::new(PingServiceSyncProcessor::new(PanickyPing)),
        )?;
        let mut config = ClientConfig::new(server.addr.to_string());
        config.call_timeout = Duration::from_secs(5);
        let mut client = ping_client(config.clone(), false)?;
        match client.ping("boom") {
            Err(ClientError::Application {
                source: thrift::Error::Application(e),
                ..
            }) => ensure!(
                e.kind == thrift::ApplicationErrorKind::InternalError,
                "{e:?}"
            ),
            other => bail!("expected an INTERNAL_ERROR exception, got {other:?}"),
        }
        // The same connection, on the only worker, still serves.
        ensure!(client.ping("ok")? == "receive len: 2");
        ensure!(client.stats().reconnects == 0);
        // So does a new one, after the first has gone.
        drop(client);
        let mut another = ping_client(config, false)?;
        ensure!(another.ping("again")? == "receive len: 5");
        drop(another);
        wait_until(Duration::from_secs(5), "the connections have left", || {
            server.monitor.open_connections() == 0
        })?;
        let report = server.stop()?;
        ensure!(report.panics == 1 && report.calls == 2, "{report:?}");
    }
    Ok(())
}

/// The idle timeout and the stall timeout are told apart: a connection
/// idle for longer than the stall timeout (but not the idle timeout) between
/// calls is still served, and one idle for the idle timeout is closed.
#[test]
fn idle_connections_wait_for_the_idle_timeout_not_the_stall_timeout() -> Result<()> {
    let config = ServerConfig {
        stall_timeout: Some(Duration::from_millis(150)),
        idle_timeout: Some(Duration::from_millis(1200)),
        ..ServerConfig::default()
    };
    let server = TestServer::start(config)?;
    let mut s = answered_connection(server.addr)?;
    // Idle for four stall timeouts: being idle is not a stall.
    thread::sleep(Duration::from_millis(600));
    let mut rest = [0u8; 64];
    s.set_read_timeout(Some(Duration::from_millis(20)))?;
    while s.read(&mut rest).is_ok_and(|n| n > 0) {}
    s.write_all(&ping_call(Protocol::Compact))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut first = [0u8; 1];
    s.read_exact(&mut first)
        .context("a call after 600 ms idle was not answered")?;
    // Then idle for good: closed after the idle timeout, not before half
    // of it, not long after it.
    let idle_from = Instant::now();
    let mut rest = [0u8; 64];
    s.set_read_timeout(Some(Duration::from_millis(20)))?;
    while s.read(&mut rest).is_ok_and(|n| n > 0) {}
    assert_closed_by_server(s, Duration::from_secs(5))?;
    let idle = idle_from.elapsed();
    ensure!(
        idle >= Duration::from_millis(600),
        "closed after {idle:?} idle, before the idle timeout"
    );
    server.assert_serves("after")?;
    Ok(())
}
