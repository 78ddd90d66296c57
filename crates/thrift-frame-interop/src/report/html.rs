//! index.html, rendered from templates/index.html: the summary's tables,
//! coloured, with every cell on hover.

use std::fmt::Write as _;

use serde::Serialize;
use thrift_frame_harness::shorten;

use super::tables::{headline, Square, Tables};
use super::{CellResult, RunInfo, Status};
use crate::Error;

/// The page skeleton; every value it prints goes through [`html_escape`].
const INDEX_TEMPLATE: &str = include_str!("../../templates/index.html");

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
