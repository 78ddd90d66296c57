//! The peers' servers and clients as processes, found through
//! interop/matrix.toml and handled by the interop runner's process code.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use thrift_frame_harness::{ClientProcess, CommandLine, Deadline, ServerProcess, Signal};
use thrift_frame_interop::model::Matrix;

use crate::pinning::Pinning;
use crate::BenchError;

/// How long any one peer process may take to start or to finish its run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(300);

/// The peers of the matrix and where their logs go.
pub struct Peers {
    root: PathBuf,
    matrix: Matrix,
    logs: PathBuf,
    interrupted: Arc<AtomicBool>,
}

impl Peers {
    /// Reads `interop/matrix.toml` under the repository `root`; logs go to `logs`.
    pub fn load(
        root: &Path,
        logs: &Path,
        interrupted: Arc<AtomicBool>,
    ) -> Result<Peers, BenchError> {
        let matrix = Matrix::load(&root.join("interop/matrix.toml"))
            .map_err(|e| BenchError::Invalid(format!("reading the matrix: {e}")))?;
        fs::create_dir_all(logs)
            .map_err(|e| BenchError::io(format!("creating {}", logs.display()), e))?;
        Ok(Peers {
            root: root.to_owned(),
            matrix,
            logs: logs.to_owned(),
            interrupted,
        })
    }

    fn program(&self, peer: &str, server: bool) -> Result<PathBuf, BenchError> {
        let entry = self.matrix.peer(peer).ok_or_else(|| {
            BenchError::Invalid(format!("no peer `{peer}` in interop/matrix.toml"))
        })?;
        let path = self
            .root
            .join(if server { &entry.server } else { &entry.client });
        if !path.exists() {
            return Err(BenchError::Invalid(format!(
                "{} is missing: run `{}`",
                path.display(),
                entry.build
            )));
        }
        Ok(path)
    }

    fn deadline(&self) -> Deadline {
        Deadline::after(PROCESS_TIMEOUT, self.interrupted.clone())
    }

    /// Starts `peer`'s server on `port` (0: any) and waits until it accepts.
    pub fn start_server(
        &self,
        peer: &str,
        model: &str,
        port: u16,
        args: &[&str],
    ) -> Result<PeerServer, BenchError> {
        self.start_server_on(None, peer, model, port, args)
    }

    /// [`Peers::start_server`], on `cpu` alone when given (see [`crate::pinning`]).
    pub fn start_server_on(
        &self,
        cpu: Option<usize>,
        peer: &str,
        model: &str,
        port: u16,
        args: &[&str],
    ) -> Result<PeerServer, BenchError> {
        let command = Pinning::on_cpu(cpu, self.server_command(peer, model, port, args)?);
        self.start_command(
            format!("{peer} {model} server"),
            &format!("server-{peer}-{model}.log"),
            &command,
            PROCESS_TIMEOUT,
        )
    }

    /// `peer`'s server with `--port <port> --server <model>` and `args`,
    /// for a caller that runs it under something (see [`crate::callgrind`]).
    pub fn server_command(
        &self,
        peer: &str,
        model: &str,
        port: u16,
        args: &[&str],
    ) -> Result<CommandLine, BenchError> {
        Ok(CommandLine {
            program: self.program(peer, true)?,
            args: [&["--port", &port.to_string(), "--server", model][..], args]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
    }

    /// Starts `command`, a server that prints `LISTENING <port>` when ready
    /// (stderr to `log_name` in the logs folder), and waits until it
    /// accepts, for up to `timeout`.
    pub fn start_command(
        &self,
        label: String,
        log_name: &str,
        command: &CommandLine,
        timeout: Duration,
    ) -> Result<PeerServer, BenchError> {
        let log = self.logs.join(log_name);
        let deadline = Deadline::after(timeout, self.interrupted.clone());
        let process = ServerProcess::start(&label, command, &log, &deadline)
            .map_err(|e| BenchError::peer(format!("starting the {label}"), e))?;
        Ok(PeerServer {
            label,
            port: process.port,
            process,
        })
    }

    /// Runs `peer`'s client with `--json` and the given flags to the end (on
    /// `cpu` alone when given) and returns each call's latency and CPU time
    /// (its `cpu_ns`, if the client reports it) by size, from round
    /// `first_round` on.
    pub fn client_latencies(
        &self,
        cpu: Option<usize>,
        peer: &str,
        args: &[&str],
        first_round: u64,
    ) -> Result<BTreeMap<usize, Vec<ClientCall>>, BenchError> {
        let label = format!("{peer} client");
        let command = CommandLine {
            program: self.program(peer, false)?,
            args: [&["--json"][..], args]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let command = Pinning::on_cpu(cpu, command);
        let stderr = self.logs.join(format!("client-{peer}.log"));
        let stdout = self.logs.join(format!("client-{peer}.jsonl"));
        let run = ClientProcess::start(&label, &command, &stderr, &stdout)
            .map_err(|e| BenchError::peer(format!("starting the {label}"), e))?
            .finish(&self.deadline())
            .map_err(|e| BenchError::peer(format!("running the {label}"), e))?;
        if !run.status.success() {
            return Err(BenchError::Invalid(format!(
                "{label} failed ({:?}): {}",
                run.status, run.last_words
            )));
        }
        let mut by_size: BTreeMap<usize, Vec<ClientCall>> = BTreeMap::new();
        for call in &run.calls {
            let r = &call.record;
            if !r.ok {
                return Err(BenchError::Invalid(format!(
                    "{label}: a call failed: {:?}",
                    r.error
                )));
            }
            if r.round.unwrap_or(0) < first_round {
                continue;
            }
            let (Some(size), Some(ns)) = (r.size, r.latency_ns) else {
                return Err(BenchError::Invalid(format!(
                    "{label}: call without size or latency_ns"
                )));
            };
            by_size.entry(size as usize).or_default().push(ClientCall {
                latency: Duration::from_nanos(ns),
                cpu: r.cpu_ns.map(Duration::from_nanos),
            });
        }
        Ok(by_size)
    }
}

/// One call of a peer client's run, as its `--json` record gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCall {
    pub latency: Duration,
    /// The client process's CPU time for the call; `None` from a client
    /// that does not report it.
    pub cpu: Option<Duration>,
}

/// A running peer server; killed when dropped.
pub struct PeerServer {
    pub label: String,
    pub port: u16,
    process: ServerProcess,
}

impl PeerServer {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The process the bench started: the server itself, as `taskset` and
    /// the peers' launch scripts exec it (see [`crate::cpu::snapshot`]).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A number field of the process's /proc status ("VmHWM", "Threads"),
    /// without its unit; None if unreadable.
    fn status_field(&self, field: &str) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.process.pid())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Peak resident memory so far (VmHWM), in KiB; None if unreadable.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_field("VmHWM")
    }

    /// Resident memory now (VmRSS), in KiB; None if unreadable.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_field("VmRSS")
    }

    /// The process's threads now; None if unreadable.
    pub fn threads(&self) -> Option<u64> {
        self.status_field("Threads")
    }

    /// How the process ended, if it has (a server that cannot hold its
    /// connections may have died of it).
    pub fn exited(&mut self) -> Option<String> {
        match self.process.try_exit() {
            Ok(None) => None,
            Ok(Some(status)) => Some(thrift_frame_harness::describe_exit(status)),
            Err(e) => Some(e.to_string()),
        }
    }

    /// SIGKILL: the server vanishes without closing its connections politely.
    pub fn kill(&mut self) -> Result<(), BenchError> {
        self.process
            .signal(Signal::Kill)
            .map_err(|e| BenchError::peer(format!("killing the {}", self.label), e))?;
        self.process.kill(); // reaps it
        Ok(())
    }

    pub fn listening_at(&self) -> std::time::Instant {
        self.process.listening_at
    }
}
