//! summary.md: per case a client x server table of passes, recovery
//! times, then the failures and stale known failures.

use std::fmt::Write as _;
use std::path::Path;

use super::tables::{headline, Tables};
use super::{CellResult, RunInfo, Status};
use crate::known::KnownFailure;
use crate::model::Case;

/// "recovery_ms ... min 12, median 60, max 180 over 64 cells" for the case
/// that measures it.
fn recovery_text(results: &[CellResult], case: Case) -> Option<String> {
    let mut values: Vec<u64> = (results.iter())
        .filter(|r| r.case == case)
        .filter_map(|r| r.recovery_ms)
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(format!(
        "recovery_ms (restarted server ready, by its LISTENING line or, for a remote server, \
         its first accepted connection, to the first ok call): min {}, median {}, max {} over {} \
         cells.",
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
        values.len()
    ))
}

/// summary.md: per case a client x server table of passes, then failures.
pub fn summary_markdown(results: &[CellResult], info: &RunInfo, stale: &[&KnownFailure]) -> String {
    let tables = Tables::new(results);
    let mut out = String::from("# thrift-frame interop results\n\n");
    let _ = writeln!(out, "{}\n", headline(results, info));
    if let Some(note) = &info.note {
        let _ = writeln!(out, "{note}\n");
    }
    out.push_str(
        "Each entry: passed / cells run, over protocols x transports x server models \
         (unsupported cells are not counted; `n/a`: none could run; `-`: not selected). \
         **Bold**: a cell failed or timed out; `+k known`: known failures.\n",
    );
    for (case, squares) in &tables.cases {
        let _ = write!(out, "\n## {}\n\n| client \\ server |", case.name());
        for server in &tables.servers {
            let _ = write!(out, " {server} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(tables.servers.len()));
        out.push('\n');
        for client in &tables.clients {
            let _ = write!(out, "| **{client}** |");
            for server in &tables.servers {
                let text = match squares.get(&(client.clone(), server.clone())) {
                    None => "-".to_owned(),
                    Some(square) => {
                        let mut text = square.pass_text();
                        let known = square.count(Status::KnownFailure);
                        if known > 0 {
                            let _ = write!(text, " +{known} known");
                        }
                        if square.worst().is_some_and(Status::is_unexpected) {
                            text = format!("**{text}**");
                        }
                        text
                    }
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
        if let Some(text) = recovery_text(results, *case) {
            let _ = writeln!(out, "\n{text}");
        }
    }
    let listed = |out: &mut String, title: &str, pick: fn(Status) -> bool| {
        let chosen: Vec<&CellResult> = results.iter().filter(|r| pick(r.status)).collect();
        if chosen.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n## {title}\n");
        for result in chosen {
            // Remote cells have no server log; their client's is in the same place.
            let logs = (result.server_log.as_deref())
                .or(result.client_log.as_deref())
                .and_then(|log| Path::new(log).parent())
                .map(|dir| format!(" (logs: `{}/`)", dir.display()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- `{}` **{}** ({} ms): {}{logs}",
                result.id,
                result.status.name(),
                result.duration_ms,
                result.message.replace('\n', " ")
            );
        }
    };
    listed(&mut out, "Failures", Status::is_unexpected);
    listed(&mut out, "Known failures", |s| s == Status::KnownFailure);
    if !stale.is_empty() {
        out.push_str("\n## Known-failure entries that did not fail\n\n");
        for entry in stale {
            let _ = writeln!(
                out,
                "- {} -> {} `{}`: {} (remove it from interop/known-failures.toml if fixed)",
                entry.client, entry.server, entry.case, entry.why
            );
        }
    }
    out
}
