//! Server and client processes for the end-to-end tests: any peer's
//! binaries that follow interop/SPEC.md. Readiness comes from the server's
//! `LISTENING <port>` line, never from a sleep.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Lines};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use serde_json::Value;
use tempfile::TempDir;

pub const SERVER: &str = env!("CARGO_BIN_EXE_ping-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_ping-client");

/// A peer's binaries under interop/<lang>/bin, built by `make peers`.
pub fn peer_bin(lang: &str, name: &str) -> Result<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop")
        .join(lang)
        .join("bin")
        .join(name);
    ensure!(
        path.exists(),
        "{} is missing: run `make peers` first",
        path.display()
    );
    Ok(path)
}

/// Whether `make peers` has built `lang`'s peer. Without it the peer tests
/// are skipped with a note, so `cargo test` passes on a clean clone; `make
/// test` builds the peers first and sets THRIFT_FRAME_REQUIRE_PEERS=1, which
/// turns a missing peer into a failure.
pub fn peer_built(lang: &str) -> Result<bool> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop")
        .join(lang);
    let built = match lang {
        // The scripts in bin/ are committed; the venv and the bindings are built.
        "python" => root.join(".venv/bin/python").exists() && root.join("gen-py").exists(),
        _ => root.join("bin/ping-server").exists() && root.join("bin/ping-client").exists(),
    };
    if built {
        return Ok(true);
    }
    ensure!(
        std::env::var_os("THRIFT_FRAME_REQUIRE_PEERS").is_none(),
        "the {lang} peer is not built: run `make peers` first"
    );
    eprintln!("skipped: the {lang} peer is not built (run `make peers`)");
    Ok(false)
}

/// A `ping-server` process; killed on drop. Its stderr goes to a file.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    log: PathBuf,
}

impl ServerProcess {
    /// The Rust `ping-server`.
    pub fn start(dir: &TempDir, port: u16, args: &[&str]) -> Result<ServerProcess> {
        Self::start_bin(Path::new(SERVER), dir, port, args)
    }

    pub fn start_bin(bin: &Path, dir: &TempDir, port: u16, args: &[&str]) -> Result<ServerProcess> {
        Self::start_command(Command::new(bin), dir, port, args)
    }

    /// The Rust `ping-server` with at most `descriptors` open files (prlimit).
    pub fn start_with_descriptor_limit(
        dir: &TempDir,
        descriptors: u32,
        args: &[&str],
    ) -> Result<ServerProcess> {
        let mut command = Command::new("prlimit");
        command.arg(format!("--nofile={descriptors}:{descriptors}"));
        command.args(["--", SERVER]);
        Self::start_command(command, dir, 0, args)
    }

    fn start_command(
        mut command: Command,
        dir: &TempDir,
        port: u16,
        args: &[&str],
    ) -> Result<ServerProcess> {
        let log = dir.path().join(format!("server-{port}-{}.log", unique()));
        let mut child = command
            .args(["--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| {
                let stderr = std::fs::read_to_string(&log).unwrap_or_default();
                anyhow!("no LISTENING line, got {line:?}; server stderr:\n{stderr}")
            })?;
        Ok(ServerProcess { child, port, log })
    }

    pub fn signal(&self, signal: &str) -> Result<()> {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()?;
        ensure!(status.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Result<ExitStatus> {
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

    pub fn log(&self) -> String {
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
pub struct ClientProcess {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    log: PathBuf,
}

impl ClientProcess {
    /// The Rust `ping-client`.
    pub fn start(dir: &TempDir, args: &[&str]) -> Result<ClientProcess> {
        Self::start_bin(Path::new(CLIENT), dir, args)
    }

    pub fn start_bin(bin: &Path, dir: &TempDir, args: &[&str]) -> Result<ClientProcess> {
        let log = dir.path().join(format!("client-{}.log", unique()));
        let mut child = Command::new(bin)
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("client stdout")?;
        Ok(ClientProcess {
            child,
            lines: BufReader::new(stdout).lines(),
            log,
        })
    }

    /// The next call's JSON record, or None once the client has exited.
    pub fn next_call(&mut self) -> Result<Option<Value>> {
        match self.lines.next() {
            None => Ok(None),
            Some(line) => Ok(Some(serde_json::from_str(&line?)?)),
        }
    }

    /// Reads the remaining calls and the exit status.
    pub fn finish(mut self) -> Result<(Vec<Value>, ExitStatus)> {
        let mut calls = Vec::new();
        while let Some(call) = self.next_call()? {
            calls.push(call);
        }
        Ok((calls, self.child.wait()?))
    }

    pub fn log(&self) -> String {
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

pub fn ok(call: &Value) -> bool {
    call["ok"] == Value::Bool(true)
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A free port for a server that will be killed and restarted on it. Not
/// from the ephemeral range: there, any client socket of a test running
/// meanwhile may take the port as its local one while the server is down,
/// and the restart fails to bind (seen once in `make test`).
pub fn restartable_port() -> Result<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let low: u16 = range
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(32768);
    // Spread parallel tests over the range below the ephemeral ports.
    let (first, span) = (10_000u32, u32::from(low).saturating_sub(10_000).max(1));
    let seed =
        std::process::id().wrapping_mul(2_654_435_761) ^ (unique() as u32).wrapping_mul(7919);
    for offset in 0..span.min(10_000) {
        let port = first + (seed.wrapping_add(offset)) % span;
        let port = u16::try_from(port).unwrap_or(u16::MAX);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(anyhow!("no free port below {low}"))
}

/// Polls `condition` every 5 ms until it holds; fails after `limit`.
pub fn wait_until(limit: Duration, what: &str, condition: impl Fn() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !condition() {
        ensure!(
            Instant::now() < deadline,
            "timed out after {} ms waiting until {what}",
            limit.as_millis()
        );
        thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}
