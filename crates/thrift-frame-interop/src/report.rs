//! The results of a run and the three files written from them under
//! target/interop/: `results.json` (one object per cell), `summary.md` (per
//! case a client x server table of passes, then the failures) and
//! `index.html` (the same tables, coloured, self-contained).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::known::{KnownFailure, KnownFailures};
use crate::model::Case;
use crate::model::Cell;
use crate::Error;
use thrift_frame_harness::shorten;

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

fn duration_text(ms: u64) -> String {
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
struct Square<'a> {
    results: Vec<&'a CellResult>,
}

impl Square<'_> {
    fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Cells that were actually run: everything but `unsupported`.
    fn ran(&self) -> usize {
        self.results.len() - self.count(Status::Unsupported)
    }

    fn worst(&self) -> Option<Status> {
        self.results
            .iter()
            .map(|r| r.status)
            .max_by_key(|s| s.severity())
    }

    /// "11/12", or "n/a" when nothing could run.
    fn pass_text(&self) -> String {
        if self.ran() == 0 {
            "n/a".into()
        } else {
            format!("{}/{}", self.count(Status::Pass), self.ran())
        }
    }
}

/// One case's squares, keyed by (client, server).
type CaseTable<'a> = BTreeMap<(String, String), Square<'a>>;

/// Per case, per (client, server), the results in matrix order.
struct Tables<'a> {
    clients: Vec<String>,
    servers: Vec<String>,
    cases: Vec<(Case, CaseTable<'a>)>,
}

impl<'a> Tables<'a> {
    fn new(results: &'a [CellResult]) -> Self {
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

fn headline(results: &[CellResult], info: &RunInfo) -> String {
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

/// The page skeleton; every value it prints goes through [`html_escape`].
const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");

/// Escapes text for HTML element content and attribute values; line breaks
/// become `&#10;` so hover titles keep one line per cell.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            _ => out.push(c),
        }
    }
    out
}

/// One client x server square as the page shows it.
#[derive(Serialize)]
struct SquareView {
    /// The CSS class: the worst status.
    worst: &'static str,
    /// Hover text: every cell's variant and status, failures with why.
    title: String,
    /// "passed/ran", or "n/a".
    text: String,
    /// The counts of the statuses other than `pass`.
    others: String,
}

#[derive(Serialize)]
struct RowView {
    client: String,
    squares: Vec<Option<SquareView>>,
}

#[derive(Serialize)]
struct CaseView {
    name: &'static str,
    rows: Vec<RowView>,
}

#[derive(Serialize)]
struct FailureView<'a> {
    id: &'a str,
    status: &'static str,
    message: &'a str,
}

fn square_view(square: &Square) -> Option<SquareView> {
    let worst = square.worst()?;
    let others: Vec<String> = Status::ALL
        .iter()
        .filter(|&&status| status != Status::Pass)
        .filter_map(|&status| {
            let count = square.count(status);
            (count > 0).then(|| format!("{count} {}", status.name()))
        })
        .collect();
    let details: Vec<String> = square
        .results
        .iter()
        .map(|r| {
            let mut line = format!("{}: {}", r.variant(), r.status.name());
            if r.status != Status::Pass {
                let _ = write!(line, ": {}", shorten(&r.message, 240));
            }
            line
        })
        .collect();
    Some(SquareView {
        worst: worst.name(),
        title: details.join("\n"),
        text: square.pass_text(),
        others: others.join(", "),
    })
}

/// index.html, from templates/index.html: one coloured client x server
/// table per case, failure messages on hover, then the failures with links
/// to their logs (relative, so the page works straight from the file system).
pub fn index_html(results: &[CellResult], info: &RunInfo) -> Result<String, Error> {
    let tables = Tables::new(results);
    let cases: Vec<CaseView> = tables
        .cases
        .iter()
        .map(|(case, squares)| CaseView {
            name: case.name(),
            rows: (tables.clients.iter())
                .map(|client| RowView {
                    client: client.clone(),
                    squares: (tables.servers.iter())
                        .map(|server| {
                            squares
                                .get(&(client.clone(), server.clone()))
                                .and_then(square_view)
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let failures: Vec<FailureView> = results
        .iter()
        .filter(|r| r.status.is_unexpected() || r.status == Status::KnownFailure)
        .map(|r| FailureView {
            id: &r.id,
            status: r.status.name(),
            message: &r.message,
        })
        .collect();
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
    let mut environment = minijinja::Environment::new();
    // Every value is escaped by html_escape, attribute or not.
    environment.set_formatter(|out, _state, value| {
        out.write_str(&html_escape(&value.to_string()))
            .map_err(minijinja::Error::from)
    });
    let template_error = |e: minijinja::Error| Error::Template(e.to_string());
    environment
        .add_template("index.html", INDEX_TEMPLATE)
        .map_err(template_error)?;
    let template = environment
        .get_template("index.html")
        .map_err(template_error)?;
    template
        .render(minijinja::context! {
            headline => headline(results, info),
            note => info.note,
            statuses,
            servers => tables.servers,
            cases,
            failures,
        })
        .map_err(template_error)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result(client: &str, server: &str, model: &str, case: Case, status: Status) -> CellResult {
        let cell = Cell {
            client: client.into(),
            server: server.into(),
            protocol: "binary".into(),
            transport: "framed".into(),
            server_model: model.into(),
            case,
            unsupported: None,
        };
        let mut result = CellResult::new(&cell);
        result.status = status;
        result.duration_ms = 120;
        result.message = match status {
            Status::Fail => "client: call 1 failed: <reset> & \"gone\"".into(),
            _ => "4 calls ok".into(),
        };
        result.server_log = Some(format!("target/interop/logs/{}/server.log", result.id));
        result
    }

    fn sample() -> Vec<CellResult> {
        vec![
            result("rs", "cpp", "threaded", Case::Echo, Status::Pass),
            result("rs", "cpp", "pool", Case::Echo, Status::Fail),
            result("rs", "cpp", "nonblocking", Case::Echo, Status::Unsupported),
            result("cpp", "rs", "threaded", Case::Echo, Status::Pass),
            result(
                "go",
                "cpp",
                "threaded",
                Case::ServerHang,
                Status::KnownFailure,
            ),
        ]
    }

    fn info() -> RunInfo {
        RunInfo {
            selected: 5,
            jobs: 4,
            wall_ms: 83_400,
            interrupted: false,
            note: None,
        }
    }

    #[test]
    fn results_json_has_the_named_fields() {
        let json = serde_json::to_value(sample()).unwrap();
        let first = &json[1];
        for field in [
            "client",
            "server",
            "protocol",
            "transport",
            "server_model",
            "case",
            "status",
            "duration_ms",
            "reconnects",
            "recovery_ms",
            "message",
            "server_log",
            "client_log",
        ] {
            assert!(first.get(field).is_some(), "missing {field}");
        }
        assert_eq!(first["status"], "fail");
        assert_eq!(first["case"], "echo");
        assert_eq!(json[4]["status"], "known_failure");
        let back: Vec<CellResult> = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn summary_counts_passes_per_square_and_lists_failures() {
        let text = summary_markdown(&sample(), &info(), &[]);
        assert!(text.contains("5 cells: 2 pass, 1 fail, 0 timeout, 1 unsupported, 1 known_failure"));
        assert!(text.contains("1m 23s with --jobs 4"));
        // rs -> cpp: 1 of 2 run cells passed (the unsupported one not counted), bold.
        assert!(text.contains("| **rs** | **1/2** | - |"), "{text}");
        assert!(text.contains("| **cpp** | - | 1/1 |"), "{text}");
        assert!(text.contains("## server_hang"));
        assert!(text.contains("0/1 +1 known"), "{text}");
        assert!(text.contains("- `echo.rs-cpp.binary-framed.pool` **fail**"));
        assert!(text.contains("(logs: `target/interop/logs/echo.rs-cpp.binary-framed.pool/`)"));
        assert!(text.contains("## Known failures"));
        assert!(!text.contains("did not fail"));
    }

    #[test]
    fn summary_reports_recovery_times() {
        let mut results = sample();
        for (model, ms) in [("threaded", 80), ("pool", 20), ("simple", 200)] {
            let mut restart = result("rs", "py", model, Case::ServerRestart, Status::Pass);
            restart.recovery_ms = Some(ms);
            results.push(restart);
        }
        let text = summary_markdown(&results, &info(), &[]);
        assert!(
            text.contains("min 20, median 80, max 200 over 3 cells"),
            "{text}"
        );
        assert_eq!(text.matches("recovery_ms").count(), 1);
    }

    #[test]
    fn html_colours_by_worst_status_and_escapes_messages() {
        let html = index_html(&sample(), &info()).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script") && !html.contains("http"));
        assert!(html.contains("<td class=\"fail\" title=\"binary/framed/threaded: pass&#10;binary/framed/pool: fail: client: call 1 failed: &lt;reset&gt; &amp; &quot;gone&quot;&#10;binary/framed/nonblocking: unsupported: 4 calls ok\">1/2<small>1 fail, 1 unsupported</small></td>"), "{html}");
        assert!(html.contains("<td class=\"known_failure\""));
        assert!(html.contains("<a href=\"logs/echo.rs-cpp.binary-framed.pool/\">logs</a>"));
        // One table per case present, none for absent cases.
        assert_eq!(html.matches("<table>").count(), 2);
        assert!(!html.contains("id=\"student_put\""));
    }

    #[test]
    fn the_note_follows_the_headline_and_remote_failures_link_their_logs() {
        let mut remote = result("py", "cpp", "remote", Case::Echo, Status::Fail);
        remote.server_log = None;
        remote.client_log = Some(format!("target/interop/logs/{}/client.log", remote.id));
        let info = RunInfo {
            note: Some("Remote servers cpp=cpp:9090 <mux>.".into()),
            ..info()
        };
        let text = summary_markdown(std::slice::from_ref(&remote), &info, &[]);
        assert!(
            text.contains(
                "Wall time 1m 23s with --jobs 4.\n\nRemote servers cpp=cpp:9090 <mux>.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("(logs: `target/interop/logs/echo.py-cpp.binary-framed.remote/`)"),
            "{text}"
        );
        let html = index_html(&[remote], &info).unwrap();
        assert!(html.contains("<p>Remote servers cpp=cpp:9090 &lt;mux&gt;.</p>"));
    }

    #[test]
    fn escaping_covers_attribute_breakers() {
        assert_eq!(
            html_escape("a\"b'c<d>&\n"),
            "a&quot;b&#39;c&lt;d&gt;&amp;&#10;"
        );
    }

    #[test]
    fn an_all_unsupported_square_is_grey_and_not_applicable() {
        let results = [result(
            "rs",
            "cpp",
            "nonblocking",
            Case::Echo,
            Status::Unsupported,
        )];
        let html = index_html(&results, &info()).unwrap();
        assert!(html.contains("<td class=\"unsupported\""));
        assert!(html.contains(">n/a<small>1 unsupported</small>"));
    }

    #[test]
    fn stale_known_failures_are_those_whose_cells_all_passed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/matrix.toml");
        let matrix = crate::model::Matrix::load(&path).unwrap();
        let text = r#"
            [[known_failure]]
            client = "go"
            server = "cpp"
            case = "server_hang"
            why = "still failing"

            [[known_failure]]
            client = "cpp"
            server = "go"
            case = "echo"
            why = "fixed meanwhile"

            [[known_failure]]
            client = "py"
            server = "go"
            case = "echo"
            why = "not run this time"
        "#;
        let known = KnownFailures::parse(text, Path::new("k.toml"), &matrix).unwrap();
        let mut results = sample();
        results.push(result("cpp", "go", "simple", Case::Echo, Status::Pass));
        let stale = stale_known_failures(&known, &results);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].why, "fixed meanwhile");
        let text = summary_markdown(&results, &info(), &stale);
        assert!(text.contains("cpp -> go `echo`: fixed meanwhile"));
    }
}
