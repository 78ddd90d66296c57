//! The steps the cases share: the command lines of the ping suite, starting
//! and stopping its processes, and judging its client's call records.

use std::path::Path;
use std::time::Duration;

use thrift_frame_harness::{
    describe_exit, ClientProcess, ClientRun, CommandLine, Deadline, ServerProcess, Signal, HOST,
};

use super::{CellLogs, CellPlan};
use crate::model::Cell;
use crate::CaseError;

/// Time a server gets to exit after SIGTERM at the end of a case before it
/// is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The processor a ping server serves.
pub(crate) enum Service {
    Ping,
    Student,
}

/// The flags both sides share: where, and how the bytes are framed.
pub(crate) fn wire_args(cell: &Cell, host: &str, port: u16) -> Vec<String> {
    let port = port.to_string();
    let pairs = [
        ("--host", host),
        ("--port", port.as_str()),
        ("--protocol", cell.protocol.as_str()),
        ("--transport", cell.transport.as_str()),
    ];
    pairs
        .iter()
        .flat_map(|(flag, value)| [flag.to_string(), value.to_string()])
        .collect()
}

pub(crate) fn server_command(plan: &CellPlan, port: u16, service: Service) -> CommandLine {
    let cell = Cell {
        transport: plan.server_transport.clone(),
        ..plan.cell.clone()
    };
    let mut args = wire_args(&cell, &HOST.to_string(), port);
    args.extend(["--server".to_owned(), plan.server_flag.clone()]);
    if service == Service::Student {
        args.extend(["--service".to_owned(), "student".to_owned()]);
    }
    CommandLine {
        program: plan.server_program.clone(),
        args,
    }
}

/// The client always runs with `--json`: the JSON lines are the contract,
/// the human-readable lines differ between peers.
pub(crate) fn client_command(plan: &CellPlan, port: u16, case_flags: &[&str]) -> CommandLine {
    remote_client_command(
        &plan.client_program,
        plan.cell,
        &HOST.to_string(),
        port,
        &[],
        case_flags,
    )
}

/// The call timeout of json cells' clients, unless the case sets one.
pub(crate) const JSON_CALL_TIMEOUT_MS: &str = "10000";

/// A client of `cell` against `host:port`: wire flags, `extra` (such as
/// `--multiplexed`), `--json`, then the case's flags.
pub(crate) fn remote_client_command(
    program: &Path,
    cell: &Cell,
    host: &str,
    port: u16,
    extra: &[String],
    case_flags: &[&str],
) -> CommandLine {
    let mut args = wire_args(cell, host, port);
    args.extend(extra.iter().cloned());
    args.push("--json".to_owned());
    // Python's TJSONProtocol is pure Python (no C accelerator): a 1 MiB
    // call, or 8 clients' 64 KiB calls, can take it longer than the
    // default 2 s call timeout on a loaded machine.
    if cell.protocol == "json" && !case_flags.contains(&"--timeout-ms") {
        args.extend(["--timeout-ms".to_owned(), JSON_CALL_TIMEOUT_MS.to_owned()]);
    }
    args.extend(case_flags.iter().map(|flag| flag.to_string()));
    CommandLine {
        program: program.to_owned(),
        args,
    }
}

/// Starts a server (port 0 for a fresh one) logging to `server.log`.
pub(crate) fn start_server(
    plan: &CellPlan,
    port: u16,
    service: Service,
    label: &str,
) -> Result<ServerProcess, CaseError> {
    launch_server(plan, &server_command(plan, port, service), label)
}

/// Starts `command` as the cell's server `label`, journalled, logging to
/// `server.log`, and waits until it is ready.
pub(crate) fn launch_server(
    plan: &CellPlan,
    command: &CommandLine,
    label: &str,
) -> Result<ServerProcess, CaseError> {
    plan.logs.note(&format!("start {label}: {command}"));
    let server = ServerProcess::start(
        label,
        command,
        &plan.logs.path("server.log"),
        &plan.deadline,
    )?;
    plan.logs
        .note(&format!("{label} ready on port {}", server.port));
    Ok(server)
}

/// Starts a client; `name` picks its log files (`<name>.log`, `<name>.jsonl`).
pub(crate) fn start_client(
    plan: &CellPlan,
    port: u16,
    case_flags: &[&str],
    name: &str,
) -> Result<ClientProcess, CaseError> {
    launch_client(&plan.logs, &client_command(plan, port, case_flags), name)
}

/// Starts `command` as the client `name`, journalled, logging to
/// `<name>.log` (stderr) and `<name>.jsonl` (stdout).
pub(crate) fn launch_client(
    logs: &CellLogs,
    command: &CommandLine,
    name: &str,
) -> Result<ClientProcess, CaseError> {
    logs.note(&format!("start {name}: {command}"));
    let client = ClientProcess::start(
        name,
        command,
        &logs.path(&format!("{name}.log")),
        &logs.path(&format!("{name}.jsonl")),
    )?;
    Ok(client)
}

pub(crate) fn signal_server(
    plan: &CellPlan,
    server: &mut ServerProcess,
    signal: Signal,
) -> Result<(), CaseError> {
    plan.logs.note(&format!("{} server", signal.name()));
    server.signal(signal)?;
    Ok(())
}

pub(crate) fn stop_server(plan: &CellPlan, server: ServerProcess) {
    stop_server_noting(&plan.logs, server);
}

/// SIGTERM, SIGKILL if it is still running after `STOP_GRACE`, and one line
/// in `logs` saying how it ended. The runner's cells and the fault suite's.
pub(crate) fn stop_server_noting(logs: &CellLogs, mut server: ServerProcess) {
    let how = match server.stop(STOP_GRACE) {
        Some(status) => describe_exit(status),
        None => format!(
            "killed: still running {} ms after SIGTERM",
            STOP_GRACE.as_millis()
        ),
    };
    logs.note(&format!("server stopped: {how}"));
}

/// The client exited 2: it cannot do what the cell asks.
pub(crate) fn unsupported_client(run: &ClientRun) -> Option<CaseError> {
    (run.status.code() == Some(2))
        .then(|| CaseError::Unsupported(format!("{} exited 2: {}", run.label, run.last_words)))
}

/// Over the header transport, every call names its request id, and a
/// server that echoes it (`echoes_request_id` in the matrix) sent it back:
/// the client's headers reached the handler and its reply.
pub(crate) fn expect_request_ids(plan: &CellPlan, run: &ClientRun) -> Result<(), CaseError> {
    if plan.cell.transport != "header" {
        return Ok(());
    }
    for (index, call) in run.calls.iter().enumerate() {
        let record = &call.record;
        let Some(id) = &record.request_id else {
            return Err(CaseError::Failed(format!(
                "{}: call {} has no request_id over the header transport",
                run.label,
                index + 1
            )));
        };
        if plan.echoes_request_id && record.request_id_echoed != Some(true) {
            return Err(CaseError::Failed(format!(
                "{}: call {} sent x-request-id {id}, and the {} server's reply did not carry it \
                 back (request_id_echoed {:?})",
                run.label,
                index + 1,
                plan.cell.server,
                record.request_id_echoed
            )));
        }
    }
    Ok(())
}

/// Exit 0 and exactly `expected` calls, every one ok.
pub(crate) fn expect_all_ok(run: &ClientRun, expected: usize) -> Result<(), CaseError> {
    if let Some(unsupported) = unsupported_client(run) {
        return Err(unsupported);
    }
    if let Some((index, call)) = run.calls.iter().enumerate().find(|(_, c)| !c.record.ok) {
        return Err(CaseError::Failed(format!(
            "{}: {}",
            run.label,
            call.describe_failure(index)
        )));
    }
    if run.calls.len() != expected {
        return Err(CaseError::Failed(format!(
            "{}: {} call lines, expected {expected} ({}; stderr: {})",
            run.label,
            run.calls.len(),
            describe_exit(run.status),
            run.last_words
        )));
    }
    if !run.status.success() {
        return Err(CaseError::Failed(format!(
            "{}: {} although all {expected} calls were ok; stderr: {}",
            run.label,
            describe_exit(run.status),
            run.last_words
        )));
    }
    Ok(())
}

/// The client ended its output before the case got what it was waiting for.
pub(crate) fn ended_early(
    deadline: &Deadline,
    client: ClientProcess,
    waiting_for: &str,
) -> CaseError {
    match client.finish(deadline) {
        Ok(run) => unsupported_client(&run).unwrap_or_else(|| {
            CaseError::Failed(format!(
                "{} ended ({}) after {} calls, while the runner was waiting for {waiting_for}; \
                 stderr: {}",
                run.label,
                describe_exit(run.status),
                run.calls.len(),
                run.last_words
            ))
        }),
        Err(error) => error.into(),
    }
}

/// Reads calls until `count` of them were ok.
pub(crate) fn wait_for_ok_calls(
    deadline: &Deadline,
    client: &mut ClientProcess,
    count: usize,
) -> Result<bool, CaseError> {
    let waiting_for = format!("{count} ok calls");
    let mut ok = 0;
    while ok < count {
        match client.next_call(deadline, &waiting_for)? {
            Some(call) if call.record.ok => ok += 1,
            Some(_) => {}
            None => return Ok(false),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use thrift_frame_harness::Deadline;

    use super::*;
    use crate::model::Case;

    #[test]
    fn commands_carry_the_cell_and_the_case_flags() {
        let cell = Cell {
            client: "go".into(),
            server: "cpp".into(),
            protocol: "binary".into(),
            transport: "framed".into(),
            server_model: "pool".into(),
            case: Case::StudentPut,
            unsupported: None,
        };
        let dir = std::env::temp_dir().join(format!("interop-cases-{}", std::process::id()));
        let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let plan = CellPlan {
            cell: &cell,
            server_program: "/s".into(),
            client_program: "/c".into(),
            server_type: "thread-pool".into(),
            server_flag: "pool".into(),
            server_transport: "framed".into(),
            echoes_request_id: false,
            logs: CellLogs::create(dir.clone()).unwrap(),
            deadline: Deadline::after(Duration::from_secs(1), interrupted),
        };
        let server = server_command(&plan, 0, Service::Student).to_string();
        assert_eq!(
            server,
            "/s --host 127.0.0.1 --port 0 --protocol binary --transport framed --server pool --service student"
        );
        let client = client_command(&plan, 4321, &["--rounds", "3"]).to_string();
        assert_eq!(
            client,
            "/c --host 127.0.0.1 --port 4321 --protocol binary --transport framed --json --rounds 3"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    fn header_cell() -> Cell {
        Cell {
            client: "py".into(),
            server: "rs".into(),
            protocol: "compact".into(),
            transport: "header".into(),
            server_model: "auto".into(),
            case: Case::Echo,
            unsupported: None,
        }
    }

    fn plan<'a>(cell: &'a Cell, dir: &std::path::Path) -> CellPlan<'a> {
        let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        CellPlan {
            cell,
            server_program: "/s".into(),
            client_program: "/c".into(),
            server_type: "threaded".into(),
            server_flag: "threaded".into(),
            server_transport: "auto".into(),
            echoes_request_id: true,
            logs: CellLogs::create(dir.to_owned()).unwrap(),
            deadline: Deadline::after(Duration::from_secs(1), interrupted),
        }
    }

    #[test]
    fn a_model_with_its_own_transport_starts_its_server_with_it() {
        let cell = header_cell();
        let dir = std::env::temp_dir().join(format!("interop-auto-{}", std::process::id()));
        let plan = plan(&cell, &dir);
        let server = server_command(&plan, 0, Service::Ping).to_string();
        assert_eq!(
            server,
            "/s --host 127.0.0.1 --port 0 --protocol compact --transport auto --server threaded"
        );
        let client = client_command(&plan, 1, &[]).to_string();
        assert!(client.contains("--transport header"), "{client}");
        fs::remove_dir_all(&dir).unwrap();
    }

    fn run_with(records: &[(&str, Option<&str>, Option<bool>)]) -> ClientRun {
        use std::os::unix::process::ExitStatusExt;
        let calls = records
            .iter()
            .map(|(json, id, echoed)| {
                let mut record: thrift_frame_harness::CallRecord =
                    serde_json::from_str(json).unwrap();
                record.request_id = id.map(str::to_owned);
                record.request_id_echoed = *echoed;
                thrift_frame_harness::Call {
                    record,
                    at: std::time::Instant::now(),
                    wall: std::time::SystemTime::now(),
                }
            })
            .collect();
        ClientRun {
            label: "client".into(),
            calls,
            status: std::process::ExitStatus::from_raw(0),
            last_words: String::new(),
        }
    }

    #[test]
    fn a_header_call_must_name_its_request_id_and_an_echoing_server_must_echo_it() {
        let cell = header_cell();
        let dir = std::env::temp_dir().join(format!("interop-ids-{}", std::process::id()));
        let mut plan = plan(&cell, &dir);
        let ok = r#"{"ok": true, "reconnects": 0}"#;
        let echoed = run_with(&[(ok, Some("py-1-1"), Some(true))]);
        assert!(expect_request_ids(&plan, &echoed).is_ok());
        let not_echoed = run_with(&[
            (ok, Some("py-1-1"), Some(true)),
            (ok, Some("py-1-2"), Some(false)),
        ]);
        let error = expect_request_ids(&plan, &not_echoed)
            .unwrap_err()
            .to_string();
        assert!(error.contains("call 2 sent x-request-id py-1-2"), "{error}");
        let unnamed = run_with(&[(ok, None, None)]);
        assert!(expect_request_ids(&plan, &unnamed).is_err());
        // A server that does not echo: only the id is required.
        plan.echoes_request_id = false;
        assert!(expect_request_ids(&plan, &not_echoed).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
