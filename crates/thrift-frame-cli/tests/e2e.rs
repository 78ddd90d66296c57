//! The `ping-server` and `ping-client` binaries as separate processes, with
//! real signals: SIGKILL and restart, a late server, SIGSTOP/SIGCONT, SIGTERM.
//! Readiness always comes from the server's `LISTENING <port>` line or the
//! client's own output, never from a sleep.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use assert_cmd::Command as AssertCommand;
use serde_json::Value;
use tempfile::TempDir;

const SERVER: &str = env!("CARGO_BIN_EXE_ping-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_ping-client");

/// A `ping-server` process; killed on drop. Its stderr goes to a file.
struct ServerProcess {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ServerProcess {
    fn start(dir: &TempDir, port: u16, args: &[&str]) -> Result<ServerProcess> {
        let log = dir.path().join(format!("server-{port}-{}.log", unique()));
        let mut child = Command::new(SERVER)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting ping-server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow!("no LISTENING line, got {line:?}"))?;
        Ok(ServerProcess { child, port, log })
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()?;
        ensure!(status.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits for the process to exit, at most `limit`.
    fn wait(&mut self, limit: Duration) -> Result<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            ensure!(
                start.elapsed() < limit,
                "server still running after {limit:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `ping-client --json` process whose calls are read as they happen.
struct ClientProcess {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    log: PathBuf,
}

impl ClientProcess {
    fn start(dir: &TempDir, args: &[&str]) -> Result<ClientProcess> {
        let log = dir.path().join(format!("client-{}.log", unique()));
        let mut child = Command::new(CLIENT)
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting ping-client")?;
        let stdout = child.stdout.take().context("client stdout")?;
        Ok(ClientProcess {
            child,
            lines: BufReader::new(stdout).lines(),
            log,
        })
    }

    /// The next call's JSON record, or None once the client has exited.
    fn next_call(&mut self) -> Result<Option<Value>> {
        match self.lines.next() {
            None => Ok(None),
            Some(line) => Ok(Some(serde_json::from_str(&line?)?)),
        }
    }

    /// Reads the remaining calls and the exit status.
    fn finish(mut self) -> Result<(Vec<Value>, ExitStatus)> {
        let mut calls = Vec::new();
        while let Some(call) = self.next_call()? {
            calls.push(call);
        }
        Ok((calls, self.child.wait()?))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn ok(call: &Value) -> bool {
    call["ok"] == Value::Bool(true)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[test]
fn client_survives_sigkill_and_restart_of_the_server() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, 0, &[])?;
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
    server.child.kill()?; // SIGKILL: no goodbye to the client
    server.child.wait()?;
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
    let port = free_port()?;
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
    let _server = ServerProcess::start(&dir, port, &[])?;
    let (calls, status) = client.finish()?;
    ensure!(calls.len() == 6 && calls.iter().all(ok), "{calls:?}");
    ensure!(status.success());
    Ok(())
}

#[test]
fn frozen_server_times_out_then_recovers_after_sigcont() -> Result<()> {
    let dir = TempDir::new()?;
    let server = ServerProcess::start(&dir, 0, &[])?;
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
    server.signal("STOP")?;
    // Every attempt of one call times out: the call fails with a clear error.
    let failed = loop {
        let call = client.next_call()?.context("client exited while frozen")?;
        if !ok(&call) {
            break call;
        }
    };
    server.signal("CONT")?;
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
    server.signal("TERM")?;
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
    server.signal("TERM")?;
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
        (SERVER, &["--protocol", "json"]),
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
