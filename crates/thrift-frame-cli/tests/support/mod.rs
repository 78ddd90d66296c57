//! Server and client processes for the end-to-end tests: any peer's
//! binaries that follow interop/SPEC.md. Servers come from the shared
//! harness (thrift-frame-harness): readiness is the `LISTENING <port>` line
//! and a connect, never a sleep. Clients are read here line by line, as
//! JSON values the tests pick fields from.
#![allow(dead_code, unused_imports)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use serde_json::Value;
use tempfile::TempDir;
use thrift_frame_harness::{self as harness, CommandLine, Deadline};

pub use thrift_frame_harness::{PortReservation, Signal};

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

/// How long a test waits for a server to announce itself or to exit.
const SERVER_DEADLINE: Duration = Duration::from_secs(30);

fn deadline(limit: Duration) -> Deadline {
    Deadline::after(limit, Arc::new(AtomicBool::new(false)))
}

/// A server process from the shared harness (ready once it printed
/// `LISTENING` and accepts a connection; killed and reaped on drop), with
/// its stderr in a file of the test's directory.
pub struct ServerProcess {
    inner: harness::ServerProcess,
    pub port: u16,
    log: PathBuf,
}

impl ServerProcess {
    /// The Rust `ping-server`.
    pub fn start(dir: &TempDir, port: u16, args: &[&str]) -> Result<ServerProcess> {
        Self::start_bin(Path::new(SERVER), dir, port, args)
    }

    pub fn start_bin(bin: &Path, dir: &TempDir, port: u16, args: &[&str]) -> Result<ServerProcess> {
        Self::start_command(CommandLine::new(bin, Vec::<String>::new()), dir, port, args)
    }

    /// The Rust `ping-server` with at most `descriptors` open files (prlimit).
    pub fn start_with_descriptor_limit(
        dir: &TempDir,
        descriptors: u32,
        args: &[&str],
    ) -> Result<ServerProcess> {
        let limit = format!("--nofile={descriptors}:{descriptors}");
        let command = CommandLine::new("prlimit", [limit.as_str(), "--", SERVER]);
        Self::start_command(command, dir, 0, args)
    }

    fn start_command(
        mut command: CommandLine,
        dir: &TempDir,
        port: u16,
        args: &[&str],
    ) -> Result<ServerProcess> {
        let log = dir.path().join(format!("server-{port}-{}.log", unique()));
        command.args.extend(["--port".to_owned(), port.to_string()]);
        command.args.extend(args.iter().map(|arg| arg.to_string()));
        let inner =
            harness::ServerProcess::start("server", &command, &log, &deadline(SERVER_DEADLINE))
                .map_err(|e| {
                    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
                    anyhow!("starting {command}: {e}; server stderr:\n{stderr}")
                })?;
        Ok(ServerProcess {
            port: inner.port,
            inner,
            log,
        })
    }

    pub fn signal(&mut self, signal: Signal) -> Result<()> {
        Ok(self.inner.signal(signal)?)
    }

    /// SIGKILL and reap: a crash, no goodbye to the clients.
    pub fn kill(&mut self) {
        self.inner.kill();
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Result<ExitStatus> {
        Ok(self.inner.wait(&deadline(limit))?)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// A free port for a server that will be killed and restarted on it, below
/// the ephemeral range (see [`harness::restartable_port`]).
pub fn restartable_port() -> Result<u16> {
    Ok(harness::restartable_port()?)
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
