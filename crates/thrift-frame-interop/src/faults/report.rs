//! The fault suite's reports: `results.json` (the run, then one object per
//! cell with its figures) and `summary.md` (a table per case, the recovery
//! times against the target, every failure with its logs).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::recovery::{TARGET_MAX_MS, TARGET_MEDIAN_MS};
use super::{CellResult, FaultCase, Figures, Status};
use crate::Error;

/// About the run as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Seconds since the epoch when the run started.
    pub started_unix_s: u64,
    pub duration_ms: u64,
    pub jobs: usize,
    pub seed: u64,
    pub interrupted: bool,
    /// Namespaces an earlier, crashed run had left and this one removed.
    pub stale_removed: Vec<String>,
}

#[derive(Serialize)]
struct Results<'a> {
    run: &'a RunInfo,
    passed: usize,
    failed: usize,
    /// Cells of required cases that did not pass: the run's exit status.
    failing_the_run: usize,
    cells: &'a [CellResult],
}

pub fn results_json(results: &[CellResult], info: &RunInfo) -> Result<String, Error> {
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    Ok(serde_json::to_string_pretty(&Results {
        run: info,
        passed,
        failed: results.len() - passed,
        failing_the_run: results.iter().filter(|r| r.fails_the_run()).count(),
        cells: results,
    })?)
}

fn ms(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"))
}

/// The figures of a cell that matter for its case, in a few words.
fn figures_text(case: FaultCase, figures: &Figures) -> String {
    let calls = match (figures.calls, figures.failed_calls) {
        (Some(calls), Some(failed)) => format!("{calls} calls, {failed} failed"),
        _ => "-".to_owned(),
    };
    let exit = figures.client_exit.as_deref().unwrap_or("-");
    let reconnects = figures
        .reconnects
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    match case {
        FaultCase::BlackholeStream | FaultCase::HalfOpen => format!(
            "{calls}; {exit}; reconnects {reconnects}; recovery {}",
            ms(figures.recovery_ms)
        ),
        FaultCase::PutBlackhole => match &figures.puts {
            Some(puts) => format!(
                "{} puts, {} given up; server got {}: {} late, {} out of order",
                puts.sent, puts.failed, puts.received, puts.late, puts.out_of_order
            ),
            None => format!("{calls}; {exit}"),
        },
        FaultCase::OutageRecovery => {
            let recovered = figures
                .outages
                .iter()
                .filter(|o| o.recovery_ms.is_some())
                .count();
            format!(
                "{recovered}/{} outages recovered; median {}, max {}",
                figures.outages.len(),
                ms(figures.recovery_median_ms),
                ms(figures.recovery_max_ms)
            )
        }
    }
}

pub fn summary_markdown(results: &[CellResult], info: &RunInfo) -> String {
    let mut out = String::new();
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    let failing = results.iter().filter(|r| r.fails_the_run()).count();
    let _ = writeln!(out, "# Fault suite\n");
    let _ = writeln!(
        out,
        "{} cells, **{passed} pass, {} not**; {failing} of them in required cases \
         (blackhole_stream, half_open, put_blackhole), so the run {}. {:.1} s, {} jobs, \
         outage seed {}.{}\n",
        results.len(),
        results.len() - passed,
        if failing == 0 { "passes" } else { "fails" },
        info.duration_ms as f64 / 1000.0,
        info.jobs,
        info.seed,
        if info.interrupted {
            " **Interrupted**: cells that did not finish are missing."
        } else {
            ""
        }
    );
    for case in FaultCase::ALL {
        let cells: Vec<&CellResult> = results.iter().filter(|r| r.case == case).collect();
        if cells.is_empty() {
            continue;
        }
        let required = if case.required() {
            "required"
        } else {
            "measured, not required"
        };
        let _ = writeln!(out, "## `{}` ({required})\n", case.name());
        let _ = writeln!(out, "| client | server | status | figures | time |");
        let _ = writeln!(out, "|---|---|---|---|---:|");
        for cell in cells {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} s |",
                cell.client,
                cell.server,
                status_mark(cell.status),
                figures_text(case, &cell.figures),
                cell.duration_ms as f64 / 1000.0
            );
        }
        let _ = writeln!(out);
    }
    let recovery: Vec<&CellResult> = results
        .iter()
        .filter(|r| r.case == FaultCase::OutageRecovery)
        .collect();
    if !recovery.is_empty() {
        let _ = writeln!(
            out,
            "## Recovery after outages\n\nFrom the path coming back (the router's DROP rule \
             deleted) to the client's first good call read after it, over each cell's outages. \
             Target for the Rust client: median <= {TARGET_MEDIAN_MS} ms, max <= \
             {TARGET_MAX_MS} ms.\n"
        );
        let _ = writeln!(
            out,
            "| client -> server | outages (ms) | recoveries (ms) | median | max | target |"
        );
        let _ = writeln!(out, "|---|---|---|---:|---:|---|");
        for cell in recovery {
            let f = &cell.figures;
            let outages: Vec<String> = f.outages.iter().map(|o| o.outage_ms.to_string()).collect();
            let recoveries: Vec<String> = f
                .outages
                .iter()
                .map(|o| {
                    o.recovery_ms
                        .map_or_else(|| "none".to_owned(), |ms| ms.to_string())
                })
                .collect();
            let target = f
                .target
                .as_ref()
                .map_or("-", |target| target.verdict.name());
            let _ = writeln!(
                out,
                "| {} -> {} | {} | {} | {} | {} | {target} |",
                cell.client,
                cell.server,
                outages.join(", "),
                recoveries.join(", "),
                ms(f.recovery_median_ms),
                ms(f.recovery_max_ms)
            );
        }
        let _ = writeln!(out);
    }
    let failures: Vec<&CellResult> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "## Failures\n");
        for cell in failures {
            let _ = writeln!(
                out,
                "- `{}` ({}{}): {}\n  logs: `{}/` (server.log, client.log, client.jsonl, \
                 commands.txt, netns.log)",
                cell.id,
                cell.status.name(),
                if cell.required { "" } else { ", not required" },
                cell.message.replace('\n', " "),
                cell.logs.dir
            );
        }
    }
    out
}

fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "**FAIL**",
        Status::Timeout => "**TIMEOUT**",
    }
}

/// Writes results.json and summary.md into `dir`; returns their paths.
pub fn write_reports(
    dir: &Path,
    results: &[CellResult],
    info: &RunInfo,
) -> Result<[PathBuf; 2], Error> {
    fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
        path: dir.to_owned(),
        source,
    })?;
    let json = dir.join("results.json");
    let markdown = dir.join("summary.md");
    for (path, text) in [
        (&json, results_json(results, info)?),
        (&markdown, summary_markdown(results, info)),
    ] {
        fs::write(path, text).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
    }
    Ok([json, markdown])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{LogPaths, OutageFigure};

    fn cell(case: FaultCase, status: Status) -> CellResult {
        CellResult {
            id: format!("{}.rs-rs", case.name()),
            case,
            client: "rs".into(),
            server: "rs".into(),
            required: case.required(),
            status,
            duration_ms: 1500,
            message: "why".into(),
            figures: Figures::default(),
            logs: LogPaths {
                dir: "target/faults/logs/x".into(),
                ..LogPaths::default()
            },
        }
    }

    fn info() -> RunInfo {
        RunInfo {
            started_unix_s: 0,
            duration_ms: 1000,
            jobs: 2,
            seed: 7,
            interrupted: false,
            stale_removed: Vec::new(),
        }
    }

    #[test]
    fn failures_show_with_their_reason_and_logs() {
        let mut recovery = cell(FaultCase::OutageRecovery, Status::Pass);
        recovery.figures.outages = vec![OutageFigure {
            outage_ms: 1200,
            recovery_ms: Some(900),
        }];
        recovery.figures.recovery_median_ms = Some(900);
        let results = [cell(FaultCase::PutBlackhole, Status::Fail), recovery];
        let text = summary_markdown(&results, &info());
        assert!(text.contains("1 of them in required cases"), "{text}");
        assert!(text.contains("the run fails"), "{text}");
        assert!(text.contains("`put_blackhole.rs-rs` (fail): why"), "{text}");
        assert!(text.contains("target/faults/logs/x/"), "{text}");
        assert!(
            text.contains("| rs -> rs | 1200 | 900 | 900 ms |"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&results_json(&results, &info()).unwrap()).unwrap();
        assert_eq!(json["failing_the_run"], 1);
        assert_eq!(json["cells"][0]["status"], "fail");
        assert_eq!(
            json["cells"][1]["figures"]["outages"][0]["recovery_ms"],
            900
        );
    }

    #[test]
    fn a_failed_measurement_does_not_fail_the_run() {
        let results = [cell(FaultCase::OutageRecovery, Status::Fail)];
        assert!(!results[0].fails_the_run());
        assert!(summary_markdown(&results, &info()).contains("the run passes"));
    }
}
