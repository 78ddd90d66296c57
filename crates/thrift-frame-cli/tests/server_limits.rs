//! `ping-server` at its limits, as a process: out of file descriptors, and
//! shutting down with a call that never ends (issue 11).

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use support::{ServerProcess, Signal};
use thrift_frame_client::ClientConfig;
use thrift_frame_demo::{ping_client, PingCalls};

/// A compact, buffered `ping("hello")`.
const PING: &[u8] = &[
    0x82, 0x21, 0x01, 0x04, b'p', b'i', b'n', b'g', 0x18, 0x05, b'h', b'e', b'l', b'l', b'o', 0x00,
];

/// What became of a connection that sent a ping.
enum Fate {
    Answered(TcpStream),
    Refused,
}

/// Connects, pings, and waits up to `within` for a reply or a close.
fn ping_raw(port: u16, within: Duration) -> Result<Fate> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(within))?;
    // A refused connection may already be closed: a failed write is a refusal.
    if s.write_all(PING).is_err() {
        return Ok(Fate::Refused);
    }
    let mut first = [0u8; 1];
    match s.read(&mut first) {
        Ok(0) => Ok(Fate::Refused),
        Ok(_) => Ok(Fate::Answered(s)),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(Fate::Refused),
        Err(e) => bail!(
            "neither answered nor refused within {} ms: {e}",
            within.as_millis()
        ),
    }
}

/// Opens `n` connections, one after another; returns the answered ones and
/// the number refused.
fn open_many(port: u16, n: usize) -> Result<(Vec<TcpStream>, usize)> {
    let mut answered = Vec::new();
    let mut refused = 0;
    for i in 0..n {
        match ping_raw(port, Duration::from_secs(3)).with_context(|| format!("connection {i}"))? {
            Fate::Answered(s) => answered.push(s),
            Fate::Refused => refused += 1,
        }
    }
    Ok((answered, refused))
}

/// Lines of the server's log that mention a refusal or running out.
fn refusal_lines(server: &ServerProcess) -> usize {
    server
        .log()
        .lines()
        .filter(|l| l.contains("refused") || l.contains("file descriptors"))
        .count()
}

/// A fresh client is served once the server has room again; the server
/// notices a closed connection within moments, so a few attempts suffice.
fn fresh_client_is_served(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut config = ClientConfig::new(format!("127.0.0.1:{port}"));
        config.max_call_attempts = 1;
        let result = ping_client(config, false)?.ping("fresh");
        match result {
            Ok(reply) if reply == "receive len: 5" => return Ok(()),
            Ok(reply) => bail!("wrong reply {reply:?}"),
            Err(e) if Instant::now() >= deadline => {
                return Err(e).context("no room for a fresh client after one left")
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn default_connection_limit_follows_the_descriptor_limit() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // 64 descriptors: the default limit is 64 less a quarter of them, 48.
    let mut server = ServerProcess::start_with_descriptor_limit(&dir, 64, &[])?;
    let (answered, refused) = open_many(server.port, 60)?;
    ensure!(
        answered.len() == 48 && refused == 12,
        "{} answered, {refused} refused",
        answered.len()
    );
    ensure!(server.log().contains("at most 48 connections"));
    let lines = refusal_lines(&server);
    ensure!(lines <= 5, "{lines} log lines for 12 refusals");

    drop(answered);
    fresh_client_is_served(server.port)?;
    server.signal(Signal::Term)?;
    ensure!(server.wait(Duration::from_secs(10))?.success());
    Ok(())
}

#[test]
fn out_of_descriptors_the_server_refuses_promptly_and_recovers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // A connection limit the descriptors cannot back: accept meets EMFILE.
    let mut server =
        ServerProcess::start_with_descriptor_limit(&dir, 64, &["--max-connections", "1000"])?;
    let (mut answered, refused) = open_many(server.port, 100)?;
    ensure!(
        answered.len() >= 40 && refused >= 30,
        "{} answered, {refused} refused",
        answered.len()
    );
    let lines = refusal_lines(&server);
    ensure!(lines <= 5, "{lines} log lines for {refused} refusals");

    drop(answered.pop());
    fresh_client_is_served(server.port)?;
    drop(answered);
    server.signal(Signal::Term)?;
    ensure!(server.wait(Duration::from_secs(10))?.success());
    Ok(())
}

/// Sends a request that never ends, a byte every 50 ms, until `stop`.
fn trickler(port: u16) -> Result<(TcpStream, thread::JoinHandle<()>)> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    let mut writer = s.try_clone()?;
    let handle = thread::spawn(move || {
        // The header of a ping whose string claims 1 MiB, then filler.
        let header = [
            0x82u8, 0x21, 0x01, 0x04, b'p', b'i', b'n', b'g', 0x18, 0x80, 0x80, 0x40,
        ];
        let bytes = header.into_iter().chain(std::iter::repeat(b'a')).take(2000);
        for b in bytes {
            if writer.write_all(&[b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    Ok((s, handle))
}

/// A `ping-server` whose only deadline is the shutdown grace period, and a
/// peer trickling a request that never ends into it, under way.
fn server_with_a_trickler(
    dir: &tempfile::TempDir,
    grace_ms: &str,
) -> Result<(ServerProcess, TcpStream, thread::JoinHandle<()>)> {
    let server = ServerProcess::start(
        dir,
        0,
        &[
            "--stall-timeout-ms",
            "60000",
            "--request-timeout-ms",
            "60000",
            "--shutdown-grace-ms",
            grace_ms,
        ],
    )?;
    let (conn, trickling) = trickler(server.port)?;
    // Let the request get under way: the trickle is the scenario itself.
    thread::sleep(Duration::from_millis(300));
    Ok((server, conn, trickling))
}

#[test]
fn sigterm_with_a_trickling_peer_exits_0_after_the_grace_period() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut server, _conn, trickling) = server_with_a_trickler(&dir, "500")?;
    server.signal(Signal::Term)?;
    let status = server.wait(Duration::from_secs(10))?;
    ensure!(status.success(), "{status:?}\n{}", server.log());
    ensure!(
        server.log().contains("cut 1 connection"),
        "{}",
        server.log()
    );
    let _ = trickling.join();
    Ok(())
}

#[test]
fn a_second_signal_exits_at_once() -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir()?;
    let (mut server, _conn, trickling) = server_with_a_trickler(&dir, "60000")?;
    server.signal(Signal::Term)?;
    support::wait_until(
        Duration::from_secs(10),
        "the server logs its shutdown",
        || server.log().contains("shutting down"),
    )?;
    server.signal(Signal::Term)?;
    let status = server.wait(Duration::from_secs(5))?;
    ensure!(
        status.code() == Some(143) && status.signal().is_none(),
        "{status:?}\n{}",
        server.log()
    );
    let _ = trickling.join();
    Ok(())
}
