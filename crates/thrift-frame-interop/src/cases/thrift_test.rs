//! `thrift_test` and `thrift_test_multiplexed`: Apache Thrift's cross-test
//! suite (every base type, struct, container, enum, exception and the
//! oneway call) between a `thrifttest-client` and a `thrifttest-server`,
//! plain or through the multiplexed protocol with `SecondService` beside
//! `ThriftTest`.

use std::collections::BTreeSet;
use std::fs;

use thrift_frame_harness::{
    describe_exit, shorten, CommandLine, LineClient, LineRun, ServerProcess, HOST,
};

use super::steps::{launch_server, stop_server};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

/// Every `ThriftTest` method the client must report on (interop/SPEC.md,
/// "ThriftTest"): a client that skips one fails the cell.
pub(crate) const THRIFT_TEST_METHODS: [&str; 22] = [
    "testBinary",
    "testBool",
    "testByte",
    "testDouble",
    "testEnum",
    "testException",
    "testI32",
    "testI64",
    "testInsanity",
    "testList",
    "testMap",
    "testMapMap",
    "testMulti",
    "testMultiException",
    "testNest",
    "testOneway",
    "testSet",
    "testString",
    "testStringMap",
    "testStruct",
    "testTypedef",
    "testVoid",
];

/// The `SecondService` method a multiplexed run adds.
pub(crate) const SECOND_SERVICE_METHOD: &str = "secondtestString";

/// The exit-code bits of upstream's cross test, as the client sets them.
const GROUP_BITS: [(i32, &str); 6] = [
    (1, "base types"),
    (2, "structs"),
    (4, "containers"),
    (8, "exceptions"),
    (64, "unknown: the suite could not run"),
    (128, "a call timed out"),
];

/// How many of the client's failure lines a failing cell shows.
const FAILURE_LINES_SHOWN: usize = 4;

/// The case; `multiplexed` runs it through `TMultiplexedProtocol`.
pub(crate) struct ThriftTest {
    pub multiplexed: bool,
}

impl InteropCase for ThriftTest {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        let server = start_server(plan, 0, self.multiplexed, "server")?;
        let client = start_client(plan, server.port, self.multiplexed, &[])?;
        let run = client.finish(&plan.deadline)?;
        let verdict = judge(&run, self.multiplexed, 1)?;
        stop_server(plan, server);
        Ok(Observed {
            reconnects: Some(verdict.reconnects),
            recovery_ms: None,
            summary: verdict.summary(),
        })
    }
}

/// The `--protocol` of both sides: upstream names the multiplexed
/// protocols `multi` (binary), `multic` (compact) and `multij` (JSON).
fn protocol_flag(protocol: &str, multiplexed: bool) -> String {
    match (protocol, multiplexed) {
        ("binary", true) => "multi".to_owned(),
        ("compact", true) => "multic".to_owned(),
        ("json", true) => "multij".to_owned(),
        (other, _) => other.to_owned(),
    }
}

fn wire_args(plan: &CellPlan, port: u16, multiplexed: bool) -> Vec<String> {
    let cell = plan.cell;
    [
        "--host".to_owned(),
        HOST.to_string(),
        "--port".to_owned(),
        port.to_string(),
        "--protocol".to_owned(),
        protocol_flag(&cell.protocol, multiplexed),
        "--transport".to_owned(),
        cell.transport.clone(),
    ]
    .into()
}

/// The `thrifttest-server` of the cell on `port` (0: a fresh one).
pub(crate) fn server_command(plan: &CellPlan, port: u16, multiplexed: bool) -> CommandLine {
    let mut args = wire_args(plan, port, multiplexed);
    // The model may set its own transport (`auto`): it follows `--transport`.
    if let Some(at) = args.iter().position(|a| a == "--transport") {
        args[at + 1] = plan.server_transport.clone();
    }
    args.extend(["--server-type".to_owned(), plan.server_type.clone()]);
    CommandLine {
        program: plan.server_program.clone(),
        args,
    }
}

/// Starts the cell's `thrifttest-server`, logging to `server.log`.
pub(crate) fn start_server(
    plan: &CellPlan,
    port: u16,
    multiplexed: bool,
    label: &str,
) -> Result<ServerProcess, CaseError> {
    launch_server(plan, &server_command(plan, port, multiplexed), label)
}

/// Starts the cell's `thrifttest-client` against `port` with `extra` flags,
/// logging to `client.log` (stderr) and `client.out` (stdout).
pub(crate) fn start_client(
    plan: &CellPlan,
    port: u16,
    multiplexed: bool,
    extra: &[&str],
) -> Result<LineClient, CaseError> {
    let mut args = wire_args(plan, port, multiplexed);
    args.extend(extra.iter().map(|flag| flag.to_string()));
    let command = CommandLine {
        program: plan.client_program.clone(),
        args,
    };
    plan.logs.note(&format!("start client: {command}"));
    Ok(LineClient::start(
        "client",
        &command,
        &plan.logs.path("client.log"),
        &plan.logs.path("client.out"),
    )?)
}

/// One `loop <n>: <checks> checks, <failed> failed, <reconnects> reconnects`
/// line of a `thrifttest-client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoopLine {
    pub number: u32,
    pub checks: u32,
    pub failed: u32,
    pub reconnects: u64,
}

impl LoopLine {
    pub(crate) fn parse(line: &str) -> Option<LoopLine> {
        let rest = line.trim().strip_prefix("loop ")?;
        let (number, rest) = rest.split_once(": ")?;
        let mut fields = rest.split(", ").map(|field| {
            let (value, name) = field.split_once(' ')?;
            Some((value.parse::<u64>().ok()?, name))
        });
        let mut next = |expected: &str| match fields.next() {
            Some(Some((value, name))) if name == expected => Some(value),
            _ => None,
        };
        let checks = u32::try_from(next("checks")?).ok()?;
        let failed = u32::try_from(next("failed")?).ok()?;
        let reconnects = next("reconnects")?;
        Some(LoopLine {
            number: number.parse().ok()?,
            checks,
            failed,
            reconnects,
        })
    }
}

/// One `<method>: <n> checks, <m> failed: ok|FAILED` line.
fn parse_method_line(line: &str) -> Option<(&str, u32, bool)> {
    let (method, rest) = line.trim().split_once(": ")?;
    let (checks, rest) = rest.split_once(" checks, ")?;
    let (_, verdict) = rest.split_once(" failed: ")?;
    Some((method, checks.parse().ok()?, verdict == "ok"))
}

/// What a passing run showed.
pub(crate) struct Verdict {
    pub loops: usize,
    pub checks: u32,
    pub methods: usize,
    pub reconnects: u64,
    pub unknown: usize,
}

impl Verdict {
    pub(crate) fn summary(&self) -> String {
        let mut text = format!(
            "{} checks of {} methods ok in {} loop(s)",
            self.checks, self.methods, self.loops
        );
        if self.reconnects > 0 {
            text.push_str(&format!("; {} reconnects", self.reconnects));
        }
        if self.unknown > 0 {
            text.push_str(&format!(
                "; {} testOneway outcome(s) unknown, as the policy allows",
                self.unknown
            ));
        }
        text
    }
}

/// The groups an exit code names, for a failing cell's message.
fn failed_groups(code: i32) -> String {
    let groups: Vec<&str> = GROUP_BITS
        .iter()
        .filter(|(bit, _)| code & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if groups.is_empty() {
        "no group bit set".to_owned()
    } else {
        groups.join(", ")
    }
}

/// The client's last failure lines on stderr (`FAILED ...`, or its last
/// lines when it printed none), joined for a message.
fn last_failures(run: &LineRun) -> String {
    let text = fs::read(&run.stderr_log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let failed: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("FAILED") || l.contains("could not run"))
        .collect();
    let chosen = if failed.is_empty() { &lines } else { &failed };
    let start = chosen.len().saturating_sub(FAILURE_LINES_SHOWN);
    let shown: Vec<String> = chosen[start..]
        .iter()
        .map(|l| shorten(l.trim(), 240))
        .collect();
    if shown.is_empty() {
        "(nothing on stderr)".to_owned()
    } else {
        shown.join(" | ")
    }
}

fn unknown_lines(run: &LineRun) -> usize {
    let text = fs::read(&run.stderr_log).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains("UNKNOWN [") && l.contains("outcome unknown"))
        .count()
}

fn expected_methods(multiplexed: bool) -> BTreeSet<&'static str> {
    let mut expected: BTreeSet<&str> = THRIFT_TEST_METHODS.into_iter().collect();
    if multiplexed {
        expected.insert(SECOND_SERVICE_METHOD);
    }
    expected
}

/// The methods whose line says FAILED, in any loop, if every method the
/// suite must call printed its line (so the failure is known to be in
/// those methods and nowhere else); `None` otherwise.
fn failed_methods(run: &LineRun, multiplexed: bool) -> Option<BTreeSet<String>> {
    let lines: Vec<(&str, u32, bool)> = run
        .lines
        .iter()
        .filter_map(|l| parse_method_line(&l.text))
        .collect();
    let seen: BTreeSet<&str> = lines.iter().map(|(method, ..)| *method).collect();
    if !expected_methods(multiplexed).is_subset(&seen) {
        return None;
    }
    let failed: BTreeSet<String> = lines
        .iter()
        .filter(|(_, _, ok)| !ok)
        .map(|(method, ..)| (*method).to_owned())
        .collect();
    (!failed.is_empty()).then_some(failed)
}

/// A failure, with the methods it is confined to when they are known.
fn with_methods(message: String, methods: Option<BTreeSet<String>>) -> CaseError {
    match methods {
        Some(methods) => CaseError::FailedMethods { message, methods },
        None => CaseError::Failed(message),
    }
}

/// Judges a finished client run: exit 0, `loops` loop lines with nothing
/// failed, and a passing line for every method the suite must call.
pub(crate) fn judge(run: &LineRun, multiplexed: bool, loops: usize) -> Result<Verdict, CaseError> {
    let code = run.status.code();
    if code == Some(2) {
        return Err(CaseError::Unsupported(format!(
            "{} exited 2: {}",
            run.label,
            last_failures(run)
        )));
    }
    let failed = failed_methods(run, multiplexed);
    if !run.status.success() {
        let groups = code.map_or_else(|| describe_exit(run.status), failed_groups);
        return Err(with_methods(
            format!(
                "{} {} (failed: {groups}); last lines: {}",
                run.label,
                describe_exit(run.status),
                last_failures(run)
            ),
            failed,
        ));
    }
    let loop_lines: Vec<LoopLine> = run
        .lines
        .iter()
        .filter_map(|line| LoopLine::parse(&line.text))
        .collect();
    if loop_lines.len() != loops {
        return Err(CaseError::Failed(format!(
            "{} exited 0 but printed {} loop lines, expected {loops}",
            run.label,
            loop_lines.len()
        )));
    }
    if let Some(bad) = loop_lines.iter().find(|l| l.failed > 0) {
        return Err(CaseError::Failed(format!(
            "{} exited 0 but loop {} says {} failed: {}",
            run.label,
            bad.number,
            bad.failed,
            last_failures(run)
        )));
    }
    let expected = expected_methods(multiplexed);
    let mut checks = 0;
    let mut seen = BTreeSet::new();
    for (method, method_checks, ok) in run.lines.iter().filter_map(|l| parse_method_line(&l.text)) {
        if !ok {
            return Err(with_methods(
                format!(
                    "{} exited 0 but reports {method} FAILED: {}",
                    run.label,
                    last_failures(run)
                ),
                failed,
            ));
        }
        checks += method_checks;
        seen.insert(method.to_owned());
    }
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|method| !seen.contains(*method))
        .collect();
    if !missing.is_empty() {
        return Err(CaseError::Failed(format!(
            "{} passed but never reported {}",
            run.label,
            missing.join(", ")
        )));
    }
    Ok(Verdict {
        loops,
        checks,
        methods: seen.len(),
        reconnects: loop_lines.last().map_or(0, |l| l.reconnects),
        unknown: unknown_lines(run),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    use std::time::{Instant, SystemTime};

    use thrift_frame_harness::Line;

    use super::*;

    fn run(code: i32, stdout: &[String], stderr: &str) -> LineRun {
        let stderr_log = std::env::temp_dir().join(format!(
            "thrift-test-judge-{}-{code}-{}.log",
            std::process::id(),
            stdout.len()
        ));
        fs::write(&stderr_log, stderr).unwrap();
        LineRun {
            label: "client".into(),
            lines: (stdout.iter())
                .map(|text| Line {
                    text: text.clone(),
                    at: Instant::now(),
                    wall: SystemTime::now(),
                })
                .collect(),
            status: ExitStatus::from_raw(code << 8),
            stderr_log,
        }
    }

    fn passing_output(skip: Option<&str>) -> Vec<String> {
        let mut lines = vec!["loop 1: 81 checks, 0 failed, 0 reconnects".to_owned()];
        for method in THRIFT_TEST_METHODS.iter().filter(|m| Some(**m) != skip) {
            lines.push(format!("{method}: 3 checks, 0 failed: ok"));
        }
        lines
    }

    #[test]
    fn a_failing_run_names_its_groups_and_last_failures() {
        let stderr = "thrifttest-client: FAILED [structs] testNest(..): expected 1, got 2\n\
                      thrifttest-client: FAILED [containers] testSet({}): got error: reset\n";
        let error = judge(&run(6, &[], stderr), false, 1)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("exit 6 (failed: structs, containers)"),
            "{error}"
        );
        assert!(error.contains("FAILED [containers] testSet"), "{error}");
        let error = judge(&run(2, &[], "error: --protocol json"), false, 1);
        assert!(matches!(error, Err(CaseError::Unsupported(_))));
    }

    #[test]
    fn a_failure_confined_to_some_methods_names_them_only_if_every_method_reported() {
        let mut lines = passing_output(None);
        for line in &mut lines {
            if line.starts_with("testString:") || line.starts_with("testStringMap:") {
                *line = line.replace("0 failed: ok", "1 failed: FAILED");
            }
        }
        match judge(&run(5, &lines, "FAILED [base types] testString"), false, 1) {
            Err(CaseError::FailedMethods { methods, message }) => {
                let names: Vec<&str> = methods.iter().map(String::as_str).collect();
                assert_eq!(names, ["testString", "testStringMap"]);
                assert!(message.contains("exit 5"), "{message}");
            }
            other => panic!("expected FailedMethods, got {:?}", other.err()),
        }
        // A method missing: the failure may be anywhere.
        lines.retain(|l| !l.starts_with("testNest:"));
        assert!(matches!(
            judge(&run(5, &lines, ""), false, 1),
            Err(CaseError::Failed(_))
        ));
    }

    #[test]
    fn a_passing_run_must_report_every_method() {
        let verdict = judge(&run(0, &passing_output(None), ""), false, 1).unwrap();
        assert_eq!((verdict.methods, verdict.checks), (22, 66));
        let error = judge(&run(0, &passing_output(Some("testMapMap")), ""), false, 1);
        let error = error.err().unwrap().to_string();
        assert!(error.contains("never reported testMapMap"), "{error}");
        // Multiplexed runs also owe secondtestString.
        let error = judge(&run(0, &passing_output(None), ""), true, 1);
        assert!(error
            .err()
            .unwrap()
            .to_string()
            .contains("secondtestString"));
        // Two loops asked, one printed.
        assert!(judge(&run(0, &passing_output(None), ""), false, 2).is_err());
    }

    #[test]
    fn loop_lines_parse_and_reject_other_lines() {
        assert_eq!(
            LoopLine::parse("loop 2: 81 checks, 0 failed, 1 reconnects"),
            Some(LoopLine {
                number: 2,
                checks: 81,
                failed: 0,
                reconnects: 1
            })
        );
        assert_eq!(LoopLine::parse("testI32: 8 checks, 0 failed: ok"), None);
        assert_eq!(LoopLine::parse("loop 1: 81 checks, 0 failed"), None);
        assert_eq!(
            LoopLine::parse("loop x: 1 checks, 0 failed, 0 reconnects"),
            None
        );
    }

    #[test]
    fn method_lines_parse() {
        assert_eq!(
            parse_method_line("testMapMap: 2 checks, 0 failed: ok"),
            Some(("testMapMap", 2, true))
        );
        assert_eq!(
            parse_method_line("testSet: 4 checks, 1 failed: FAILED"),
            Some(("testSet", 4, false))
        );
        assert_eq!(
            parse_method_line("loop 1: 81 checks, 0 failed, 0 reconnects"),
            None
        );
    }

    #[test]
    fn exit_bits_name_their_groups() {
        assert_eq!(failed_groups(6), "structs, containers");
        assert_eq!(
            failed_groups(79),
            "base types, structs, containers, exceptions, unknown: the suite could not run"
        );
        assert_eq!(failed_groups(129), "base types, a call timed out");
    }

    #[test]
    fn multiplexed_protocol_names_are_upstreams() {
        assert_eq!(protocol_flag("binary", true), "multi");
        assert_eq!(protocol_flag("compact", true), "multic");
        assert_eq!(protocol_flag("compact", false), "compact");
        assert_eq!(protocol_flag("json", true), "multij");
    }
}
