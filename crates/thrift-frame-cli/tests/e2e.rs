//! The `ping-server` and `ping-client` binaries as separate processes, with
//! real signals: SIGKILL and restart, a late server, SIGSTOP/SIGCONT, SIGTERM.
//! Readiness always comes from the server's `LISTENING <port>` line or the
//! client's own output, never from a sleep.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use assert_cmd::Command as AssertCommand;
use support::{
    ok, restartable_port, ClientProcess, PortReservation, ServerProcess, Signal, CLIENT, SERVER,
};
use tempfile::TempDir;

#[test]
fn client_survives_sigkill_and_restart_of_the_server() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, restartable_port()?, &[])?;
    let port = server.port.to_string();
    let mut client = ClientProcess::start(
        &dir,
        &[
            "--port",
            &port,
            "--rounds",
            "50",
            "--interval-ms",
            "40",
            "--sizes",
            "1K",
        ],
    )?;
    let mut calls = Vec::new();
    while calls.len() < 10 {
        let call = client.next_call()?.context("client exited early")?;
        ensure!(ok(&call), "call failed before the kill: {call}");
        calls.push(call);
    }
    server.kill(); // SIGKILL: no goodbye to the client
    thread::sleep(Duration::from_secs(1)); // the outage the issue asks for
    let _server = ServerProcess::start(&dir, server.port, &[])?;

    let client_log = client.log();
    let (rest, status) = client.finish()?;
    calls.extend(rest);
    ensure!(calls.len() == 50, "{} calls reported", calls.len());
    for call in &calls {
        ensure!(ok(call), "failed call: {call}\nclient log:\n{client_log}");
        ensure!(call["size"] == 1024);
    }
    let reconnects = calls[49]["reconnects"].as_u64().unwrap_or(0);
    ensure!(reconnects >= 1, "no reconnect recorded: {}", calls[49]);
    ensure!(status.success(), "client exited with {status}");
    Ok(())
}

#[test]
fn client_started_before_the_server_waits_for_it() -> Result<()> {
    let dir = TempDir::new()?;
    // Bound, not listening: connects are refused and nobody else takes it.
    let reservation = PortReservation::new()?;
    let port = reservation.port();
    let client = ClientProcess::start(
        &dir,
        &[
            "--port",
            &port.to_string(),
            "--rounds",
            "3",
            "--sizes",
            "0,1K",
        ],
    )?;
    // Readiness of the *client*: it has logged at least one refused attempt.
    let start = Instant::now();
    while !client.log().contains("connect attempt 1 failed") {
        ensure!(
            start.elapsed() < Duration::from_secs(10),
            "client never tried"
        );
        thread::sleep(Duration::from_millis(10));
    }
    reservation.release();
    let _server = ServerProcess::start(&dir, port, &[])?;
    let (calls, status) = client.finish()?;
    ensure!(calls.len() == 6 && calls.iter().all(ok), "{calls:?}");
    ensure!(status.success());
    Ok(())
}

#[test]
fn frozen_server_times_out_then_recovers_after_sigcont() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, 0, &[])?;
    let mut client = ClientProcess::start(
        &dir,
        &[
            "--port",
            &server.port.to_string(),
            "--rounds",
            "40",
            "--interval-ms",
            "20",
            "--sizes",
            "1K",
            "--timeout-ms",
            "300",
        ],
    )?;
    for _ in 0..3 {
        let call = client.next_call()?.context("client exited early")?;
        ensure!(ok(&call), "{call}");
    }
    server.signal(Signal::Stop)?;
    // Every attempt of one call times out: the call fails with a clear error.
    let failed = loop {
        let call = client.next_call()?.context("client exited while frozen")?;
        if !ok(&call) {
            break call;
        }
    };
    server.signal(Signal::Cont)?;
    let error = failed["error"].as_str().unwrap_or_default().to_string();
    ensure!(error.contains("timed out"), "unclear error: {error}");

    let (rest, status) = client.finish()?;
    let last = rest.last().context("no calls after SIGCONT")?;
    ensure!(ok(last), "not recovered: {last}");
    ensure!(last["reconnects"].as_u64() >= Some(1), "{last}");
    // One call failed, so the client reports failure.
    ensure!(status.code() == Some(1), "exit status {status}");
    Ok(())
}

#[test]
fn sigterm_stops_the_server_cleanly_while_a_client_is_connected() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, 0, &[])?;
    let mut client = ClientProcess::start(
        &dir,
        &[
            "--port",
            &server.port.to_string(),
            "--rounds",
            "0",
            "--interval-ms",
            "10",
            "--sizes",
            "64K",
        ],
    )?;
    client.next_call()?.context("no first call")?;
    server.signal(Signal::Term)?;
    let status = server.wait(Duration::from_secs(10))?;
    ensure!(status.success(), "server exited with {status}");
    ensure!(server.log().contains("stopped"), "{}", server.log());
    ensure!(!server.log().contains("panicked"));
    Ok(())
}

#[test]
fn garbage_gets_one_clear_log_line_and_the_server_keeps_serving() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, 0, &[])?;
    let mut conn = TcpStream::connect(("127.0.0.1", server.port))?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut sink = Vec::new();
    let _ = conn.read_to_end(&mut sink); // returns once the server closes it

    AssertCommand::new(CLIENT)
        .args(["--port", &server.port.to_string(), "--sizes", "1M"])
        .assert()
        .success();
    server.signal(Signal::Term)?;
    ensure!(server.wait(Duration::from_secs(10))?.success());
    let log = server.log();
    let complaints: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    ensure!(complaints.len() == 1, "expected one warning, got:\n{log}");
    ensure!(
        complaints[0].contains("closing after 0 calls")
            && complaints[0].contains("compact protocol"),
        "unclear: {}",
        complaints[0]
    );
    Ok(())
}

#[test]
fn every_protocol_transport_and_model_answers_correctly() -> Result<()> {
    let dir = TempDir::new()?;
    for protocol in ["binary", "compact"] {
        for transport in ["buffered", "framed"] {
            for model in ["simple", "threaded", "pool"] {
                let wire = ["--protocol", protocol, "--transport", transport];
                let server =
                    ServerProcess::start(&dir, 0, &[&wire[..], &["--server", model]].concat())?;
                let port = server.port.to_string();
                let (calls, status) = ClientProcess::start(
                    &dir,
                    &[
                        &wire[..],
                        &[
                            "--port",
                            &port,
                            "--call",
                            "output",
                            "--payload",
                            "utf8",
                            "--sizes",
                            "0,3,1M",
                        ],
                    ]
                    .concat(),
                )?
                .finish()?;
                let cell = format!("{protocol}/{transport}/{model}");
                ensure!(status.success() && calls.len() == 3, "{cell}: {calls:?}");
            }
        }
    }
    Ok(())
}

#[test]
fn multiplexed_server_answers_both_services() -> Result<()> {
    let dir = TempDir::new()?;
    let server = ServerProcess::start(&dir, 0, &["--multiplexed"])?;
    let port = server.port.to_string();
    for service in ["ping", "student"] {
        let (calls, status) = ClientProcess::start(
            &dir,
            &[
                "--port",
                &port,
                "--multiplexed",
                "--service",
                service,
                "--rounds",
                "5",
            ],
        )?
        .finish()?;
        ensure!(
            status.success() && calls.iter().all(ok),
            "{service}: {calls:?}"
        );
        ensure!(!calls.is_empty());
    }
    // A plain client against the multiplexed server gets a clear failure.
    let (calls, status) =
        ClientProcess::start(&dir, &["--port", &port, "--sizes", "1K"])?.finish()?;
    ensure!(status.code() == Some(1) && !ok(&calls[0]), "{calls:?}");
    Ok(())
}

#[test]
fn endpoints_are_called_in_turn() -> Result<()> {
    let dir = TempDir::new()?;
    let a = ServerProcess::start(&dir, 0, &[])?;
    let b = ServerProcess::start(&dir, 0, &[])?;
    let (ea, eb) = (
        format!("127.0.0.1:{}", a.port),
        format!("127.0.0.1:{}", b.port),
    );
    let endpoints = format!("{ea},{eb}");
    let (calls, status) = ClientProcess::start(
        &dir,
        &["--endpoints", &endpoints, "--rounds", "2", "--sizes", "1K"],
    )?
    .finish()?;
    ensure!(status.success() && calls.len() == 4, "{calls:?}");
    let seen: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["endpoint"].as_str())
        .collect();
    ensure!(seen == [&ea, &eb, &ea, &eb], "{seen:?}");
    Ok(())
}

#[test]
fn usage_errors_exit_2_with_one_line() -> Result<()> {
    let cases: [(&str, &[&str]); 6] = [
        (SERVER, &["--protocol", "header"]),
        (SERVER, &["--server", "pool", "--workers", "0"]),
        (SERVER, &["--max-string-size", "12Q"]),
        (CLIENT, &["--sizes", "12Q"]),
        (CLIENT, &["--port", "99999"]),
        (CLIENT, &["--no-such-flag"]),
    ];
    for (bin, args) in cases {
        let out = AssertCommand::new(bin).args(args).output()?;
        ensure!(out.status.code() == Some(2), "{args:?}: {:?}", out.status);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let reason = stderr.lines().next().unwrap_or_default();
        ensure!(reason.len() > 10, "{args:?}: no reason given: {stderr:?}");
    }
    Ok(())
}

#[test]
fn trace_wire_logs_every_message_both_ways_as_debug_text() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, 0, &["--trace-wire"])?;
    let output = AssertCommand::new(CLIENT)
        .args(["--port", &server.port.to_string(), "--sizes", "300"])
        .arg("--trace-wire")
        .output()?;
    ensure!(output.status.success(), "client failed: {output:?}");
    let client_log = String::from_utf8_lossy(&output.stderr);
    server.signal(Signal::Term)?;
    ensure!(server.wait(Duration::from_secs(10))?.success());
    let server_log = server.log();
    for (who, log, first, second) in [
        (
            "client",
            &*client_log,
            "-> (call) ping(",
            "<- (reply) ping(",
        ),
        (
            "server",
            &*server_log,
            "<- (call) ping(",
            "-> (reply) ping(",
        ),
    ] {
        let at = |what: &str| {
            log.find(what)
                .with_context(|| format!("{who}: no {what:?} in\n{log}"))
        };
        ensure!(at(first)? < at(second)?, "{who}: out of order:\n{log}");
        // A 300-byte string is cut as C++ TDebugProtocol cuts it.
        ensure!(
            log.contains("[...](300)\""),
            "{who}: string not cut:\n{log}"
        );
        ensure!(log.contains("TRACE thrift_frame::wire"), "{who}: {log}");
    }
    Ok(())
}
