//! Running cells: one at a time ([`run_cell`]) and many in parallel
//! ([`run_cells`]). Every cell starts its servers on port 0 (or a port it
//! reserved), so cells do not share anything and can run side by side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::cases::{self, CellLogs, CellPlan, Observed};
use crate::known::KnownFailures;
use crate::matrix::{Cell, Matrix};
use crate::process::Deadline;
use crate::report::{CellResult, Status};
use crate::{CaseError, Error};

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The repository root: peer paths in the matrix are relative to it.
    pub root: PathBuf,
    /// Where per-cell logs go: `<logs_dir>/<cell id>/`.
    pub logs_dir: PathBuf,
    pub jobs: usize,
    pub case_timeout: Duration,
    /// Set by SIGINT/SIGTERM; cells stop as soon as they see it.
    pub interrupted: Arc<AtomicBool>,
}

/// Paths in results are shown relative to the root, as a user would type them.
fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Runs one cell and judges it; `None` if the run was interrupted.
pub fn run_cell(
    matrix: &Matrix,
    known: &KnownFailures,
    cell: &Cell,
    config: &RunConfig,
) -> Option<CellResult> {
    let started = Instant::now();
    let mut result = CellResult::new(cell);
    if let Some(why) = &cell.unsupported {
        result.status = Status::Unsupported;
        result.message = why.clone();
        return Some(result);
    }
    let dir = config.logs_dir.join(cell.id());
    result.server_log = Some(display_path(&config.root, &dir.join("server.log")));
    result.client_log = Some(display_path(
        &config.root,
        &dir.join(match cell.case {
            cases::Case::ConcurrentClients => "client-*.log",
            _ => "client.log",
        }),
    ));
    let outcome = plan_cell(matrix, cell, config, dir).and_then(|plan| {
        let outcome = cases::run_case(&plan);
        plan.logs.note(&match &outcome {
            Ok(observed) => format!("pass: {}", observed.summary),
            Err(error) => format!("not passed: {error}"),
        });
        outcome
    });
    result.duration_ms = millis(started.elapsed());
    match outcome {
        Ok(Observed {
            reconnects,
            recovery_ms,
            summary,
        }) => {
            result.status = Status::Pass;
            result.reconnects = reconnects;
            result.recovery_ms = recovery_ms;
            result.message = summary;
        }
        Err(CaseError::Interrupted) => return None,
        Err(CaseError::Unsupported(why)) => {
            result.status = Status::Unsupported;
            result.message = why;
        }
        Err(error) => {
            result.status = match error {
                CaseError::TimedOut(_) => Status::Timeout,
                _ => Status::Fail,
            };
            result.message = error.to_string();
            if let Some(entry) = known.matching(cell) {
                result.message = format!(
                    "known failure ({}): {}; this run: {}",
                    result.status.name(),
                    entry.why,
                    result.message
                );
                result.status = Status::KnownFailure;
            }
        }
    }
    Some(result)
}

fn plan_cell<'a>(
    matrix: &Matrix,
    cell: &'a Cell,
    config: &RunConfig,
    dir: PathBuf,
) -> Result<CellPlan<'a>, CaseError> {
    // Cells come from this matrix, so a missing peer means a caller mixed
    // up matrices; still an error, not a panic.
    let peer = |name: &str| {
        matrix.peer(name).ok_or_else(|| {
            CaseError::Runner(Error::InvalidMatrix {
                path: PathBuf::from("interop/matrix.toml"),
                message: format!("no peer `{name}`"),
            })
        })
    };
    Ok(CellPlan {
        cell,
        server_program: config.root.join(&peer(&cell.server)?.server),
        client_program: config.root.join(&peer(&cell.client)?.client),
        logs: CellLogs::create(dir)?,
        deadline: Deadline::after(config.case_timeout, Arc::clone(&config.interrupted)),
    })
}

/// Where a run stands, for the progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// `fail` and `timeout` cells so far.
    pub unexpected: usize,
}

/// Runs `cells` on `config.jobs` threads, longest cases first, and calls
/// `on_result` on this thread as each finishes. Returns the results in the
/// order of `cells`, without the cells an interrupt cut off.
pub fn run_cells(
    matrix: &Matrix,
    known: &KnownFailures,
    cells: &[Cell],
    config: &RunConfig,
    mut on_result: impl FnMut(&CellResult, Progress),
) -> Vec<CellResult> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    // Stable sort: within one length the matrix order is kept.
    order.sort_by_key(|&index| std::cmp::Reverse(cells[index].case.expected_seconds()));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<CellResult>> = vec![None; cells.len()];
    let mut progress = Progress {
        total: cells.len(),
        ..Progress::default()
    };
    thread::scope(|scope| {
        let (sender, finished) = mpsc::channel();
        for _ in 0..config.jobs.max(1) {
            let sender = sender.clone();
            let (order, next) = (&order, &next);
            scope.spawn(move || loop {
                if config.interrupted.load(Ordering::Relaxed) {
                    break;
                }
                let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let result = run_cell(matrix, known, &cells[index], config);
                if sender.send((index, result)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for (index, result) in finished {
            let Some(result) = result else { continue };
            progress.done += 1;
            if result.status.is_unexpected() {
                progress.unexpected += 1;
            }
            on_result(&result, progress);
            results[index] = Some(result);
        }
    });
    results.into_iter().flatten().collect()
}
