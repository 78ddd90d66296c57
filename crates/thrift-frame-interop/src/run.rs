//! Running cells: one at a time ([`run_cell`]) and many in parallel
//! ([`run_cells`], on [`run_scheduled`]). Every cell starts its servers on
//! port 0 (or a port it reserved), so cells do not share anything and can
//! run side by side. (Remote mode, where cells share servers, schedules them
//! with a key per server: see [`crate::remote`].)

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::cases::{self, CellLogs, CellPlan, Observed};
use crate::known::KnownFailures;
use crate::model::{Cell, Matrix, Side};
use crate::report::{CellResult, Status};
use crate::{CaseError, Error};
use thrift_frame_harness::Deadline;

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
pub(crate) fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Runs one cell and judges it; `None` if the run was interrupted.
pub fn run_cell(
    matrix: &Matrix,
    known: &KnownFailures,
    cell: &Cell,
    config: &RunConfig,
) -> Option<CellResult> {
    let client_log = match cell.case {
        crate::model::Case::ConcurrentClients => "client-*.log",
        _ => "client.log",
    };
    judge_cell(cell, known, config, Some("server.log"), client_log, |dir| {
        plan_cell(matrix, cell, config, dir).and_then(|plan| {
            let outcome = cases::run_case(&plan);
            note_outcome(&plan.logs, &outcome);
            outcome
        })
    })
}

/// What running a cell means in both modes (local and remote): a cell the
/// matrix rules out is reported without running; otherwise `run` gets the
/// cell's log directory, its outcome becomes the result, timed, with the
/// named logs (file names inside that directory). `None` if the run was
/// interrupted.
pub(crate) fn judge_cell(
    cell: &Cell,
    known: &KnownFailures,
    config: &RunConfig,
    server_log: Option<&str>,
    client_log: &str,
    run: impl FnOnce(PathBuf) -> Result<Observed, CaseError>,
) -> Option<CellResult> {
    if let Some(result) = CellResult::unsupported(cell) {
        return Some(result);
    }
    let started = Instant::now();
    let mut result = CellResult::new(cell);
    let dir = config.logs_dir.join(cell.id());
    result.server_log = server_log.map(|name| display_path(&config.root, &dir.join(name)));
    result.client_log = Some(display_path(&config.root, &dir.join(client_log)));
    let outcome = run(dir);
    result.duration_ms = millis(started.elapsed());
    record_outcome(result, cell, known, outcome)
}

/// The cell's journal gets the verdict as its last line.
pub(crate) fn note_outcome(logs: &CellLogs, outcome: &Result<Observed, CaseError>) {
    logs.note(&match outcome {
        Ok(observed) => format!("pass: {}", observed.summary),
        Err(error) => format!("not passed: {error}"),
    });
}

/// Fills in `result` from how the case went; a failure that matches a known
/// failure becomes `known_failure`. `None` if the run was interrupted.
fn record_outcome(
    mut result: CellResult,
    cell: &Cell,
    known: &KnownFailures,
    outcome: Result<Observed, CaseError>,
) -> Option<CellResult> {
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
            if let Some(entry) = known.matching(cell, &error) {
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
    let suite = cell.case.suite();
    let program = |name: &str, side: Side| {
        peer(name)?;
        matrix.program(name, side, suite).ok_or_else(|| {
            CaseError::Unsupported(format!("the {name} peer has no program for {suite:?}"))
        })
    };
    let model = matrix.model(&cell.server, &cell.server_model);
    let server_type = model.map_or(cell.server_model.clone(), |m| m.server_type().to_owned());
    let server_flag = model.map_or(cell.server_model.clone(), |m| m.server_flag().to_owned());
    let server_transport = model
        .and_then(|m| m.server_transport.clone())
        .unwrap_or_else(|| cell.transport.clone());
    Ok(CellPlan {
        cell,
        server_program: config.root.join(program(&cell.server, Side::Server)?),
        client_program: config.root.join(program(&cell.client, Side::Client)?),
        server_type,
        server_flag,
        server_transport,
        echoes_request_id: peer(&cell.server)?.echoes_request_id,
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
    on_result: impl FnMut(&CellResult, Progress),
) -> Vec<CellResult> {
    run_scheduled(
        cells,
        config.jobs,
        &config.interrupted,
        |_| None,
        |cell| run_cell(matrix, known, cell, config),
        on_result,
    )
}

/// The cells still to run, and the keys of those running.
struct Queue {
    pending: Vec<usize>,
    busy: HashSet<String>,
}

/// Runs `cells` with `run` on `jobs` threads, longest cases first, never
/// two cells with the same `key` at the same time (cells with no key run
/// whenever a thread is free), and calls `on_result` on this thread as each
/// finishes. Returns the results in the order of `cells`, without the cells
/// `run` gave up on (`None`) or an interrupt cut off.
pub fn run_scheduled(
    cells: &[Cell],
    jobs: usize,
    interrupted: &AtomicBool,
    key: impl Fn(&Cell) -> Option<String> + Sync,
    run: impl Fn(&Cell) -> Option<CellResult> + Sync,
    mut on_result: impl FnMut(&CellResult, Progress),
) -> Vec<CellResult> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    // Stable sort: within one length the matrix order is kept.
    order.sort_by_key(|&index| std::cmp::Reverse(cells[index].case.expected_seconds()));
    let queue = Mutex::new(Queue {
        pending: order,
        busy: HashSet::new(),
    });
    let freed = Condvar::new();
    let mut results: Vec<Option<CellResult>> = vec![None; cells.len()];
    let mut progress = Progress {
        total: cells.len(),
        ..Progress::default()
    };
    // The next cell a free thread may take, or `None` when there is none left.
    let take = || -> Option<usize> {
        let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if interrupted.load(Ordering::Relaxed) || queue.pending.is_empty() {
                return None;
            }
            let free = queue.pending.iter().position(
                |&index| !matches!(key(&cells[index]), Some(key) if queue.busy.contains(&key)),
            );
            if let Some(position) = free {
                let index = queue.pending.remove(position);
                if let Some(key) = key(&cells[index]) {
                    queue.busy.insert(key);
                }
                return Some(index);
            }
            // Woken when a cell ends; the timeout keeps an eye on Ctrl-C.
            queue = freed
                .wait_timeout(queue, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    };
    let release = |index: usize| {
        if let Some(key) = key(&cells[index]) {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.busy.remove(&key);
        }
        freed.notify_all();
    };
    thread::scope(|scope| {
        let (sender, finished) = mpsc::channel();
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let (take, release, run) = (&take, &release, &run);
            scope.spawn(move || {
                while let Some(index) = take() {
                    let result = run(&cells[index]);
                    release(index);
                    if sender.send((index, result)).is_err() {
                        break;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Case;
    use std::collections::HashMap;

    fn cell(client: &str, server: &str, case: Case) -> Cell {
        Cell {
            client: client.into(),
            server: server.into(),
            protocol: "compact".into(),
            transport: "buffered".into(),
            server_model: "remote".into(),
            case,
            unsupported: None,
        }
    }

    fn passed(cell: &Cell) -> CellResult {
        let mut result = CellResult::new(cell);
        result.status = Status::Pass;
        result
    }

    #[test]
    fn cells_with_the_same_key_never_overlap() {
        let servers = ["a", "b", "c"];
        let cells: Vec<Cell> = (0..12)
            .map(|i| cell(&format!("c{i}"), servers[i % 3], Case::Echo))
            .collect();
        let running: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
        let most_per_key = Mutex::new(0usize);
        let most_at_once = Mutex::new(0usize);
        let run = |cell: &Cell| {
            {
                let mut running = running.lock().unwrap();
                *running.entry(cell.server.clone()).or_default() += 1;
                let per_key = running.values().copied().max().unwrap_or(0);
                let at_once: usize = running.values().sum();
                let mut most = most_per_key.lock().unwrap();
                *most = (*most).max(per_key);
                let mut most = most_at_once.lock().unwrap();
                *most = (*most).max(at_once);
            }
            thread::sleep(Duration::from_millis(20));
            *running.lock().unwrap().get_mut(&cell.server).unwrap() -= 1;
            Some(passed(cell))
        };
        let mut reported = 0;
        let results = run_scheduled(
            &cells,
            4,
            &AtomicBool::new(false),
            |cell| Some(cell.server.clone()),
            run,
            |_, progress| {
                reported += 1;
                assert_eq!(progress.done, reported);
                assert_eq!(progress.total, 12);
            },
        );
        assert_eq!(reported, 12);
        let ids: Vec<String> = results.iter().map(|r| r.id.clone()).collect();
        let expected: Vec<String> = cells.iter().map(Cell::id).collect();
        assert_eq!(ids, expected, "results come back in the order of the cells");
        assert_eq!(*most_per_key.lock().unwrap(), 1);
        assert!(
            *most_at_once.lock().unwrap() >= 2,
            "different keys run side by side"
        );
    }

    #[test]
    fn long_cases_start_first_and_interrupts_stop_the_queue() {
        let cells = vec![
            cell("rs", "a", Case::Echo),
            cell("rs", "a", Case::ServerRestart),
        ];
        let order = Mutex::new(Vec::new());
        run_scheduled(
            &cells,
            1,
            &AtomicBool::new(false),
            |_| None,
            |cell| {
                order.lock().unwrap().push(cell.case);
                Some(passed(cell))
            },
            |_, _| {},
        );
        assert_eq!(*order.lock().unwrap(), [Case::ServerRestart, Case::Echo]);

        let results = run_scheduled(
            &cells,
            2,
            &AtomicBool::new(true),
            |_| None,
            |cell| Some(passed(cell)),
            |_, _| {},
        );
        assert!(results.is_empty());
    }
}
