//! The results of a run and the three files written from them under
//! target/interop/: `results.json` (one object per cell), `summary.md` (per
//! case a client x server table of passes, then the failures) and
//! `index.html` (the same tables, coloured, self-contained).

mod html;
mod summary;
mod tables;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::known::{KnownFailure, KnownFailures};
use crate::model::{Case, Cell};
use crate::Error;

pub use html::{html_escape, index_html};
pub use summary::summary_markdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Timeout,
    Unsupported,
    KnownFailure,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Fail,
        Status::Timeout,
        Status::Unsupported,
        Status::KnownFailure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
            Status::Unsupported => "unsupported",
            Status::KnownFailure => "known_failure",
        }
    }

    /// The statuses that fail a run.
    pub fn is_unexpected(self) -> bool {
        matches!(self, Status::Fail | Status::Timeout)
    }

    /// Which status colours a table cell that aggregates several: the most
    /// alarming one present.
    fn severity(self) -> u8 {
        match self {
            Status::Unsupported => 0,
            Status::Pass => 1,
            Status::KnownFailure => 2,
            Status::Timeout => 3,
            Status::Fail => 4,
        }
    }
}

/// One cell's outcome: one element of results.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellResult {
    pub id: String,
    pub client: String,
    pub server: String,
    pub protocol: String,
    pub transport: String,
    pub server_model: String,
    pub case: Case,
    pub status: Status,
    pub duration_ms: u64,
    /// The client's `reconnects` on its last line (the largest over clients).
    pub reconnects: Option<u64>,
    /// `server_restart`: restarted server ready (its LISTENING line; remote: its
    /// first accepted connection) to the first ok call.
    pub recovery_ms: Option<u64>,
    pub message: String,
    pub server_log: Option<String>,
    pub client_log: Option<String>,
}

impl CellResult {
    /// A result for `cell` with nothing measured yet.
    pub fn new(cell: &Cell) -> Self {
        Self {
            id: cell.id(),
            client: cell.client.clone(),
            server: cell.server.clone(),
            protocol: cell.protocol.clone(),
            transport: cell.transport.clone(),
            server_model: cell.server_model.clone(),
            case: cell.case,
            status: Status::Fail,
            duration_ms: 0,
            reconnects: None,
            recovery_ms: None,
            message: String::new(),
            server_log: None,
            client_log: None,
        }
    }

    /// The result of a cell the matrix already rules out, or `None` if it
    /// can run.
    pub fn unsupported(cell: &Cell) -> Option<Self> {
        let why = cell.unsupported.as_ref()?;
        let mut result = Self::new(cell);
        result.status = Status::Unsupported;
        result.message = why.clone();
        Some(result)
    }

    /// `binary/framed/threaded`: what distinguishes results within one
    /// client x server square.
    fn variant(&self) -> String {
        format!("{}/{}/{}", self.protocol, self.transport, self.server_model)
    }

    fn cell(&self) -> Cell {
        Cell {
            client: self.client.clone(),
            server: self.server.clone(),
            protocol: self.protocol.clone(),
            transport: self.transport.clone(),
            server_model: self.server_model.clone(),
            case: self.case,
            unsupported: None,
        }
    }
}

/// Facts about the run as a whole, for the report headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// Cells selected; more than the results when the run was interrupted.
    pub selected: usize,
    pub jobs: usize,
    pub wall_ms: u64,
    pub interrupted: bool,
    /// Shown under the headline (remote mode: which servers, how reached).
    pub note: Option<String>,
}

/// Known-failure entries whose cells all ran and none failed: probably fixed.
pub fn stale_known_failures<'a>(
    known: &'a KnownFailures,
    results: &[CellResult],
) -> Vec<&'a KnownFailure> {
    known
        .entries()
        .iter()
        .filter(|entry| {
            let matched: Vec<&CellResult> = (results.iter())
                .filter(|result| result.status != Status::Unsupported)
                .filter(|result| entry.matches(&result.cell()))
                .collect();
            !matched.is_empty()
                && matched
                    .iter()
                    .all(|result| result.status != Status::KnownFailure)
        })
        .collect()
}

/// Count of each status in `results`.
pub fn status_counts<'a>(
    results: impl IntoIterator<Item = &'a CellResult>,
) -> BTreeMap<Status, usize> {
    let mut counts = BTreeMap::new();
    for result in results {
        *counts.entry(result.status).or_insert(0) += 1;
    }
    counts
}

/// "700 pass, 2 fail, ..." over every status, zeros included.
pub fn describe_counts(counts: &BTreeMap<Status, usize>) -> String {
    Status::ALL
        .iter()
        .map(|status| {
            format!(
                "{} {}",
                counts.get(status).copied().unwrap_or(0),
                status.name()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the report files were written.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub results_json: PathBuf,
    pub summary_md: PathBuf,
    pub index_html: PathBuf,
}

/// Writes results.json, summary.md and index.html into `out_dir`.
pub fn write_reports(
    out_dir: &Path,
    results: &[CellResult],
    info: &RunInfo,
    stale: &[&KnownFailure],
) -> Result<ReportFiles, Error> {
    let files = ReportFiles {
        results_json: out_dir.join("results.json"),
        summary_md: out_dir.join("summary.md"),
        index_html: out_dir.join("index.html"),
    };
    let write = |path: &Path, text: String| {
        fs::write(path, text).map_err(|source| Error::WriteFile {
            path: path.to_owned(),
            source,
        })
    };
    write(
        &files.results_json,
        serde_json::to_string_pretty(results)? + "\n",
    )?;
    write(&files.summary_md, summary_markdown(results, info, stale))?;
    write(&files.index_html, index_html(results, info)?)?;
    Ok(files)
}
