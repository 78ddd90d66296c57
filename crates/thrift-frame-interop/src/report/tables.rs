//! The per-case client x server tables both summary.md and index.html
//! show, and the headline above them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{describe_counts, status_counts, CellResult, RunInfo, Status};
use crate::model::Case;

pub(super) fn duration_text(ms: u64) -> String {
    let seconds = ms / 1000;
    if seconds >= 60 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}.{}s", seconds, (ms % 1000) / 100)
    }
}

/// The peers in the order they first appear (results follow matrix order).
fn peers_in_order(results: &[CellResult], pick: fn(&CellResult) -> &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for result in results {
        let name = pick(result);
        if !names.iter().any(|known| known == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The results of one case for one client x server square.
pub(super) struct Square<'a> {
    pub(super) results: Vec<&'a CellResult>,
}

impl Square<'_> {
    pub(super) fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Cells that were actually run: everything but `unsupported`.
    pub(super) fn ran(&self) -> usize {
        self.results.len() - self.count(Status::Unsupported)
    }

    pub(super) fn worst(&self) -> Option<Status> {
        self.results
            .iter()
            .map(|r| r.status)
            .max_by_key(|s| s.severity())
    }

    /// "11/12", or "n/a" when nothing could run.
    pub(super) fn pass_text(&self) -> String {
        if self.ran() == 0 {
            "n/a".into()
        } else {
            format!("{}/{}", self.count(Status::Pass), self.ran())
        }
    }
}

/// One case's squares, keyed by (client, server).
pub(super) type CaseTable<'a> = BTreeMap<(String, String), Square<'a>>;

/// Per case, per (client, server), the results in matrix order.
pub(super) struct Tables<'a> {
    pub(super) clients: Vec<String>,
    pub(super) servers: Vec<String>,
    pub(super) cases: Vec<(Case, CaseTable<'a>)>,
}

impl<'a> Tables<'a> {
    pub(super) fn new(results: &'a [CellResult]) -> Self {
        let clients = peers_in_order(results, |r| &r.client);
        let servers = peers_in_order(results, |r| &r.server);
        let mut cases = Vec::new();
        for case in Case::ALL {
            let mut squares = CaseTable::new();
            for result in results.iter().filter(|r| r.case == case) {
                squares
                    .entry((result.client.clone(), result.server.clone()))
                    .or_insert_with(|| Square {
                        results: Vec::new(),
                    })
                    .results
                    .push(result);
            }
            if !squares.is_empty() {
                cases.push((case, squares));
            }
        }
        Self {
            clients,
            servers,
            cases,
        }
    }
}

pub(super) fn headline(results: &[CellResult], info: &RunInfo) -> String {
    let mut text = format!(
        "{} cells: {}. Wall time {} with --jobs {}.",
        results.len(),
        describe_counts(&status_counts(results)),
        duration_text(info.wall_ms),
        info.jobs
    );
    if info.interrupted {
        let _ = write!(
            text,
            " Interrupted: {} of {} selected cells ran.",
            results.len(),
            info.selected
        );
    }
    text
}
