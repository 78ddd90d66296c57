//! The fault suite (`make fault-test`, `fault-suite`; interop/SPEC.md
//! "Fault suite"): real peers in network namespaces ([`crate::netns`]),
//! faults applied in the router between them.
//!
//! - this module: the cases, the cells (every client against the Rust
//!   server, the Rust client against every other server), and running them
//!   a few at a time, each in a topology of its own;
//! - [`cases`]: what each case does and checks;
//! - [`puts`]: `put_blackhole`'s reading of the server log;
//! - [`recovery`]: `outage_recovery`'s schedule, statistics and target;
//! - [`report`]: target/faults/results.json and summary.md.

pub mod cases;
pub mod puts;
pub mod recovery;
pub mod report;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cases::CellLogs;
use crate::model::Matrix;
use crate::netns::Topology;
use crate::run::{display_path, millis};
use crate::{CaseError, Error};
use thrift_frame_harness::Deadline;

use puts::PutFigures;
use recovery::Target;

/// The peer whose client meets every server and whose server meets every client.
pub const REFERENCE_PEER: &str = "rs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultCase {
    BlackholeStream,
    HalfOpen,
    PutBlackhole,
    OutageRecovery,
}

impl FaultCase {
    pub const ALL: [FaultCase; 4] = [
        FaultCase::BlackholeStream,
        FaultCase::HalfOpen,
        FaultCase::PutBlackhole,
        FaultCase::OutageRecovery,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultCase::BlackholeStream => "blackhole_stream",
            FaultCase::HalfOpen => "half_open",
            FaultCase::PutBlackhole => "put_blackhole",
            FaultCase::OutageRecovery => "outage_recovery",
        }
    }

    pub fn from_name(name: &str) -> Option<FaultCase> {
        FaultCase::ALL.into_iter().find(|case| case.name() == name)
    }

    /// A failed cell of a required case fails the run. `outage_recovery`
    /// measures against a target and reports a verdict instead.
    pub fn required(self) -> bool {
        !matches!(self, FaultCase::OutageRecovery)
    }

    /// Whether the case runs against servers other than the Rust one
    /// (`put_blackhole` reads the Rust server's log).
    fn every_server(self) -> bool {
        !matches!(self, FaultCase::PutBlackhole)
    }

    /// Rough seconds a cell takes, so the long ones start first.
    fn expected_seconds(self) -> u32 {
        match self {
            FaultCase::OutageRecovery => 45,
            FaultCase::PutBlackhole => 14,
            FaultCase::BlackholeStream => 8,
            FaultCase::HalfOpen => 6,
        }
    }
}

/// One case with one client peer against one server peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultCell {
    pub case: FaultCase,
    pub client: String,
    pub server: String,
}

impl FaultCell {
    /// `put_blackhole.cpp-rs`: also the cell's log directory.
    pub fn id(&self) -> String {
        format!("{}.{}-{}", self.case.name(), self.client, self.server)
    }
}

/// The cells of `cases` for `peers` (matrix order): every client against
/// the Rust server, then the Rust client against every other server;
/// then narrowed to the clients and servers asked for (empty: all).
pub fn cells(
    peers: &[&str],
    cases: &[FaultCase],
    clients: &[String],
    servers: &[String],
) -> Vec<FaultCell> {
    let wanted = |list: &[String], name: &str| list.is_empty() || list.iter().any(|n| n == name);
    let mut cells = Vec::new();
    for &case in cases {
        let against_reference = peers.iter().map(|client| (*client, REFERENCE_PEER));
        let reference_against = peers
            .iter()
            .filter(|server| case.every_server() && **server != REFERENCE_PEER)
            .map(|server| (REFERENCE_PEER, *server));
        for (client, server) in against_reference.chain(reference_against) {
            if wanted(clients, client) && wanted(servers, server) {
                cells.push(FaultCell {
                    case,
                    client: client.to_owned(),
                    server: server.to_owned(),
                });
            }
        }
    }
    cells
}

/// What a cell measured; also kept when it fails. Absent figures are left
/// out of results.json.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_calls: Option<usize>,
    /// "exit 0", "signal 15", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_exit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconnects: Option<u64>,
    /// blackhole_stream, half_open: from the path coming back to the first
    /// ok call read after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_ms: Option<u64>,
    /// half_open: bytes of the 1 MiB call through the router when the
    /// blackhole started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_bytes_at_blackhole: Option<u64>,
    /// outage_recovery: each outage and the recovery after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<OutageFigure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_median_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_max_ms: Option<u64>,
    /// outage_recovery with the Rust client: the target and the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub puts: Option<PutFigures>,
    /// put_blackhole: bytes the client namespace still held for the server
    /// when the suite stopped waiting for them to drain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsent_bytes_at_end: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutageFigure {
    pub outage_ms: u64,
    /// `None`: no good call within the limit after the path came back.
    pub recovery_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Timeout,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
        }
    }
}

/// Where a cell's logs are, relative to the repository root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogPaths {
    pub dir: String,
    pub server: String,
    pub client: String,
    pub client_jsonl: String,
    pub commands: String,
    pub netns: String,
}

/// One cell's outcome: a line of results.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellResult {
    pub id: String,
    pub case: FaultCase,
    pub client: String,
    pub server: String,
    pub required: bool,
    pub status: Status,
    pub duration_ms: u64,
    /// What passed, or why not.
    pub message: String,
    pub figures: Figures,
    pub logs: LogPaths,
}

impl CellResult {
    /// A required case that did not pass: it fails the run.
    pub fn fails_the_run(&self) -> bool {
        self.required && self.status != Status::Pass
    }
}

/// How the suite runs.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The repository root: peer paths in the matrix are relative to it.
    pub root: PathBuf,
    /// `<logs_dir>/<cell id>/`.
    pub logs_dir: PathBuf,
    pub jobs: usize,
    /// outage_recovery's schedule.
    pub seed: u64,
    pub case_timeout: Duration,
    /// Set by SIGINT/SIGTERM: cells stop, clean up and are left out.
    pub interrupted: Arc<AtomicBool>,
}

/// Everything a case needs to run one cell.
pub struct FaultPlan<'a> {
    pub cell: &'a FaultCell,
    pub server_program: PathBuf,
    pub client_program: PathBuf,
    pub logs: CellLogs,
    pub deadline: Deadline,
    pub interrupted: Arc<AtomicBool>,
    pub seed: u64,
}

impl FaultPlan<'_> {
    /// A deadline `limit` from now, or the cell's, whichever comes first.
    pub fn deadline_within(&self, limit: Duration) -> Deadline {
        let sub = Deadline::after(limit, Arc::clone(&self.interrupted));
        if sub.at() < self.deadline.at() {
            sub
        } else {
            self.deadline.clone()
        }
    }
}

fn program(matrix: &Matrix, root: &Path, peer: &str, server: bool) -> Result<PathBuf, Error> {
    let found = matrix.peer(peer).ok_or_else(|| Error::InvalidMatrix {
        path: PathBuf::from("interop/matrix.toml"),
        message: format!("no peer `{peer}`"),
    })?;
    Ok(root.join(if server { &found.server } else { &found.client }))
}

/// Runs one cell in topology number `number`; `None` if interrupted.
pub fn run_cell(
    number: usize,
    cell: &FaultCell,
    matrix: &Matrix,
    config: &SuiteConfig,
) -> Option<CellResult> {
    let started = Instant::now();
    let dir = config.logs_dir.join(cell.id());
    let shown = |name: &str| display_path(&config.root, &dir.join(name));
    let logs = LogPaths {
        dir: display_path(&config.root, &dir),
        server: shown("server.log"),
        client: shown("client.log"),
        client_jsonl: shown("client.jsonl"),
        commands: shown("commands.txt"),
        netns: shown("netns.log"),
    };
    let mut figures = Figures::default();
    let outcome = (|| {
        // Logs of an earlier run would be appended to: start afresh.
        let _ = std::fs::remove_dir_all(&dir);
        let plan = FaultPlan {
            cell,
            server_program: program(matrix, &config.root, &cell.server, true)?,
            client_program: program(matrix, &config.root, &cell.client, false)?,
            logs: CellLogs::create(dir.clone())?,
            deadline: Deadline::after(config.case_timeout, Arc::clone(&config.interrupted)),
            interrupted: Arc::clone(&config.interrupted),
            seed: config.seed,
        };
        let mut topology = Topology::create(
            number,
            &plan.logs.path("netns.log"),
            Arc::clone(&config.interrupted),
        )?;
        plan.logs.note(&format!(
            "topology: {} / {} / {} (iptables: {})",
            topology.client.name(),
            topology.router.name(),
            topology.server.name(),
            topology.iptables_backend()
        ));
        // The case's processes are gone when it returns; the topology goes
        // at the end of this closure, whatever the outcome.
        let outcome = cases::run_case(&plan, &mut topology, &mut figures);
        plan.logs.note(&match &outcome {
            Ok(summary) => format!("pass: {summary}"),
            Err(error) => format!("not passed: {error}"),
        });
        outcome
    })();
    let (status, message) = match outcome {
        Ok(summary) => (Status::Pass, summary),
        Err(CaseError::Interrupted) => return None,
        Err(error @ CaseError::TimedOut(_)) => (Status::Timeout, error.to_string()),
        // In the fault suite a peer that exits 2 fails: every flag it gets
        // is in SPEC.md.
        Err(error) => (Status::Fail, error.to_string()),
    };
    Some(CellResult {
        id: cell.id(),
        case: cell.case,
        client: cell.client.clone(),
        server: cell.server.clone(),
        required: cell.case.required(),
        status,
        duration_ms: millis(started.elapsed()),
        message,
        figures,
        logs,
    })
}

/// Runs `cells` on `config.jobs` threads, longest cases first, each in a
/// topology of its own, and calls `on_result` on this thread as each
/// finishes. Returns the results in the order of `cells`, without those an
/// interrupt cut off.
pub fn run_cells(
    matrix: &Matrix,
    cells: &[FaultCell],
    config: &SuiteConfig,
    mut on_result: impl FnMut(&CellResult),
) -> Vec<CellResult> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(cells[index].case.expected_seconds()));
    let queue = Mutex::new(VecDeque::from(order));
    let take = || {
        if config.interrupted.load(Ordering::Relaxed) {
            return None;
        }
        queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    };
    let mut results: Vec<Option<CellResult>> = vec![None; cells.len()];
    thread::scope(|scope| {
        let (sender, finished) = mpsc::channel();
        for _ in 0..config.jobs.clamp(1, cells.len().max(1)) {
            let sender = sender.clone();
            let take = &take;
            scope.spawn(move || {
                while let Some(index) = take() {
                    // The cell's index numbers its topology: unique in this run.
                    let result = run_cell(index, &cells[index], matrix, config);
                    if sender.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (index, result) in finished {
            if let Some(result) = result {
                on_result(&result);
                results[index] = Some(result);
            }
        }
    });
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEERS: [&str; 4] = ["rs", "cpp", "go", "py"];

    fn ids(cells: &[FaultCell]) -> Vec<String> {
        cells.iter().map(FaultCell::id).collect()
    }

    #[test]
    fn every_client_meets_the_rust_server_and_the_rust_client_every_server() {
        let all = cells(&PEERS, &FaultCase::ALL, &[], &[]);
        // 7 pairings for three cases, 4 (Rust server only) for put_blackhole.
        assert_eq!(all.len(), 7 * 3 + 4);
        let half_open: Vec<_> = all
            .iter()
            .filter(|c| c.case == FaultCase::HalfOpen)
            .cloned()
            .collect();
        assert_eq!(
            ids(&half_open),
            [
                "half_open.rs-rs",
                "half_open.cpp-rs",
                "half_open.go-rs",
                "half_open.py-rs",
                "half_open.rs-cpp",
                "half_open.rs-go",
                "half_open.rs-py"
            ]
        );
        assert!(all
            .iter()
            .filter(|c| c.case == FaultCase::PutBlackhole)
            .all(|c| c.server == "rs"));
    }

    #[test]
    fn selections_narrow_the_cells() {
        let go = cells(&PEERS, &[FaultCase::PutBlackhole], &["go".into()], &[]);
        assert_eq!(ids(&go), ["put_blackhole.go-rs"]);
        let py_server = cells(&PEERS, &[FaultCase::HalfOpen], &[], &["py".into()]);
        assert_eq!(ids(&py_server), ["half_open.rs-py"]);
    }

    #[test]
    fn only_the_first_three_cases_are_required() {
        let required: Vec<_> = FaultCase::ALL
            .into_iter()
            .filter(|c| c.required())
            .collect();
        assert_eq!(
            required,
            [
                FaultCase::BlackholeStream,
                FaultCase::HalfOpen,
                FaultCase::PutBlackhole
            ]
        );
        for case in FaultCase::ALL {
            assert_eq!(FaultCase::from_name(case.name()), Some(case));
        }
    }
}
