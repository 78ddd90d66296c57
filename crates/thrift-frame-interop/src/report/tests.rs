//! The report files from sample results.
use std::path::Path;

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
        text.contains("Wall time 1m 23s with --jobs 4.\n\nRemote servers cpp=cpp:9090 <mux>.\n"),
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
