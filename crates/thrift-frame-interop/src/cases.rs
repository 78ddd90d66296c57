//! The cases: what each one starts, does to the server, and checks in the
//! client's JSON lines. interop/SPEC.md ("Interop cases") describes each in
//! words; this is the code that does it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::matrix::Cell;
use crate::process::{
    describe_exit, ClientProcess, ClientRun, CommandLine, Deadline, PortReservation, ServerProcess,
    Signal, HOST,
};
use crate::{CaseError, Error};

/// Time a server gets to exit after SIGTERM at the end of a case before it
/// is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// `server_restart`: how long the server stays dead (the outage being
/// tested, not a wait for anything).
pub(crate) const OUTAGE: Duration = Duration::from_millis(500);

/// `server_restart`: the client's calls, its flags, and how many ok calls
/// come before the server is killed.
pub(crate) const RESTART_ROUNDS: usize = 40;
pub(crate) const RESTART_CLIENT_FLAGS: [&str; 6] =
    ["--rounds", "40", "--interval-ms", "50", "--sizes", "1K"];
pub(crate) const OK_CALLS_BEFORE_RESTART: usize = 5;
// The restart must come while the client still has calls to make.
const _: () = assert!(OK_CALLS_BEFORE_RESTART < RESTART_ROUNDS);

/// `server_late_start`: the longest the server waits for the client's first
/// complaint on stderr before starting anyway.
const LATE_START_FALLBACK: Duration = Duration::from_secs(2);

const CONCURRENT_CLIENTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    LargePayloads,
    Echo,
    StudentPut,
    ServerRestart,
    ServerLateStart,
    ServerHang,
    ConcurrentClients,
}

/// Which of a server's models a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelScope {
    EveryModel,
    /// The failure cases: one model is enough to show a client survives.
    DefaultModel,
    /// Only models that serve several connections at once.
    ConcurrentModels,
}

impl Case {
    pub const ALL: [Case; 7] = [
        Case::LargePayloads,
        Case::Echo,
        Case::StudentPut,
        Case::ServerRestart,
        Case::ServerLateStart,
        Case::ServerHang,
        Case::ConcurrentClients,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::LargePayloads => "large_payloads",
            Case::Echo => "echo",
            Case::StudentPut => "student_put",
            Case::ServerRestart => "server_restart",
            Case::ServerLateStart => "server_late_start",
            Case::ServerHang => "server_hang",
            Case::ConcurrentClients => "concurrent_clients",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|case| case.name() == name)
    }

    pub fn scope(self) -> ModelScope {
        match self {
            Case::LargePayloads | Case::Echo | Case::StudentPut => ModelScope::EveryModel,
            Case::ServerRestart | Case::ServerLateStart | Case::ServerHang => {
                ModelScope::DefaultModel
            }
            Case::ConcurrentClients => ModelScope::ConcurrentModels,
        }
    }

    /// Rough seconds a passing cell takes, so the long ones start first and
    /// the run does not end waiting on one of them.
    pub fn expected_seconds(self) -> u32 {
        match self {
            Case::ServerRestart | Case::ServerHang => 4,
            Case::ServerLateStart | Case::ConcurrentClients => 2,
            Case::LargePayloads | Case::Echo | Case::StudentPut => 1,
        }
    }
}

/// The cell's log directory and its journal: every command line and signal
/// with its time, so a failing cell can be replayed by hand.
pub struct CellLogs {
    pub dir: PathBuf,
    journal: File,
    started: Instant,
}

impl CellLogs {
    pub fn create(dir: PathBuf) -> Result<Self, Error> {
        fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
        let journal_path = dir.join("commands.txt");
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|source| Error::WriteFile {
                path: journal_path,
                source,
            })?;
        Ok(Self {
            dir,
            journal,
            started: Instant::now(),
        })
    }

    /// Appends one journal line; a lost journal line must not fail the cell.
    pub fn note(&self, text: &str) {
        let ms = self.started.elapsed().as_millis();
        let _ = writeln!(&self.journal, "[{ms:>6} ms] {text}");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Everything a case needs to run one cell.
pub struct CellPlan<'a> {
    pub cell: &'a Cell,
    /// Absolute paths of the server peer's server and the client peer's client.
    pub server_program: PathBuf,
    pub client_program: PathBuf,
    pub logs: CellLogs,
    pub deadline: Deadline,
}

/// What a passing case measured.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Observed {
    pub reconnects: Option<u64>,
    pub recovery_ms: Option<u64>,
    pub summary: String,
}

/// A data case: one client, one untouched server, every call ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataCase {
    /// The processor the server must serve.
    pub service: Service,
    /// The client's flags besides the wire flags and `--json`.
    pub client_flags: &'static [&'static str],
    /// The JSON lines a passing client prints.
    pub calls: usize,
}

/// What the data cases ask of the client; `None` for the other cases.
pub(crate) fn data_case(case: Case) -> Option<DataCase> {
    let (service, client_flags, calls): (Service, &'static [&'static str], usize) = match case {
        Case::LargePayloads => (Service::Ping, &["--sizes", "128K,256K,512K,1M"], 4),
        Case::Echo => (
            Service::Ping,
            &[
                "--call",
                "output",
                "--payload",
                "utf8",
                "--sizes",
                "0,7,1K,1M",
            ],
            4,
        ),
        Case::StudentPut => (
            Service::Student,
            &["--service", "student", "--rounds", "100"],
            100,
        ),
        _ => return None,
    };
    Some(DataCase {
        service,
        client_flags,
        calls,
    })
}

/// Runs the cell's case; `Ok` means it passed.
pub fn run_case(plan: &CellPlan) -> Result<Observed, CaseError> {
    if let Some(data) = data_case(plan.cell.case) {
        return single_client(plan, data.service, data.client_flags, data.calls);
    }
    match plan.cell.case {
        // data_case() covers these; listed so a new case must be placed.
        Case::LargePayloads | Case::Echo | Case::StudentPut => Err(CaseError::Failed(format!(
            "runner bug: {} has no data-case definition",
            plan.cell.case.name()
        ))),
        Case::ServerRestart => server_restart(plan),
        Case::ServerLateStart => server_late_start(plan),
        Case::ServerHang => server_hang(plan),
        Case::ConcurrentClients => concurrent_clients(plan),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Ping,
    Student,
}

/// The flags both sides share: where, and how the bytes are framed.
fn wire_args(cell: &Cell, host: &str, port: u16) -> Vec<String> {
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

fn server_command(plan: &CellPlan, port: u16, service: Service) -> CommandLine {
    let mut args = wire_args(plan.cell, &HOST.to_string(), port);
    args.extend(["--server".to_owned(), plan.cell.server_model.clone()]);
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
fn client_command(plan: &CellPlan, port: u16, case_flags: &[&str]) -> CommandLine {
    remote_client_command(
        &plan.client_program,
        plan.cell,
        &HOST.to_string(),
        port,
        &[],
        case_flags,
    )
}

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
    args.extend(case_flags.iter().map(|flag| flag.to_string()));
    CommandLine {
        program: program.to_owned(),
        args,
    }
}

/// Starts a server (port 0 for a fresh one) logging to `server.log`.
fn start_server(
    plan: &CellPlan,
    port: u16,
    service: Service,
    label: &str,
) -> Result<ServerProcess, CaseError> {
    let command = server_command(plan, port, service);
    plan.logs.note(&format!("start {label}: {command}"));
    let server = ServerProcess::start(
        label,
        &command,
        &plan.logs.path("server.log"),
        &plan.deadline,
    );
    if let Ok(server) = &server {
        plan.logs
            .note(&format!("{label} ready on port {}", server.port));
    }
    server
}

/// Starts a client; `name` picks its log files (`<name>.log`, `<name>.jsonl`).
fn start_client(
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

fn signal_server(
    plan: &CellPlan,
    server: &mut ServerProcess,
    signal: Signal,
) -> Result<(), CaseError> {
    plan.logs.note(&format!("{} server", signal.name()));
    server.signal(signal)?;
    Ok(())
}

fn stop_server(plan: &CellPlan, server: ServerProcess) {
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
fn unsupported_client(run: &ClientRun) -> Option<CaseError> {
    (run.status.code() == Some(2))
        .then(|| CaseError::Unsupported(format!("{} exited 2: {}", run.label, run.last_words)))
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
        Err(error) => error,
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

/// The data cases: one server, one client, every call ok.
fn single_client(
    plan: &CellPlan,
    service: Service,
    case_flags: &[&str],
    expected_calls: usize,
) -> Result<Observed, CaseError> {
    let server = start_server(plan, 0, service, "server")?;
    let client = start_client(plan, server.port, case_flags, "client")?;
    let run = client.finish(&plan.deadline)?;
    expect_all_ok(&run, expected_calls)?;
    stop_server(plan, server);
    Ok(Observed {
        reconnects: run.last_reconnects(),
        recovery_ms: None,
        summary: format!("{expected_calls} calls ok"),
    })
}

fn server_restart(plan: &CellPlan) -> Result<Observed, CaseError> {
    let mut server = start_server(plan, 0, Service::Ping, "server")?;
    let port = server.port;
    let client = start_client(plan, port, &RESTART_CLIENT_FLAGS, "client")?;
    let client = wait_until_restart_is_due(&plan.deadline, client)?;
    signal_server(plan, &mut server, Signal::Kill)?;
    server.kill();
    plan.deadline.pause(OUTAGE, "the outage to end")?;
    let restarted = start_server(plan, port, Service::Ping, "restarted server")?;
    let run = client.finish(&plan.deadline)?;
    let (reconnects, recovery_ms) = judge_restart(&run, restarted.listening_at)?;
    stop_server(plan, restarted);
    let summary = match recovery_ms {
        Some(ms) => format!(
            "{RESTART_ROUNDS} calls ok; first ok call {ms} ms after the restarted server's \
             LISTENING"
        ),
        None => format!("{RESTART_ROUNDS} calls ok; no call was left after the restart"),
    };
    Ok(Observed {
        reconnects: Some(reconnects),
        recovery_ms,
        summary,
    })
}

/// `server_restart`: reads the client's lines until OK_CALLS_BEFORE_RESTART
/// of them were ok, the moment the server goes down; an error if the client
/// ended first.
pub(crate) fn wait_until_restart_is_due(
    deadline: &Deadline,
    mut client: ClientProcess,
) -> Result<ClientProcess, CaseError> {
    if wait_for_ok_calls(deadline, &mut client, OK_CALLS_BEFORE_RESTART)? {
        return Ok(client);
    }
    Err(ended_early(
        deadline,
        client,
        &format!("{OK_CALLS_BEFORE_RESTART} ok calls before the restart"),
    ))
}

/// `server_restart`'s checks on the client run: every call ok, at least one
/// reconnect; returns the reconnects and the time from `ready_at` (the
/// restarted server ready) to the first ok call read after it.
pub(crate) fn judge_restart(
    run: &ClientRun,
    ready_at: Instant,
) -> Result<(u64, Option<u64>), CaseError> {
    expect_all_ok(run, RESTART_ROUNDS)?;
    let reconnects = run.last_reconnects().unwrap_or(0);
    if reconnects < 1 {
        return Err(CaseError::Failed(format!(
            "all {RESTART_ROUNDS} calls ok, but the last line says reconnects {reconnects}: \
             the client never noticed the restart"
        )));
    }
    let recovery = run
        .calls
        .iter()
        .find(|call| call.record.ok && call.at > ready_at)
        .map(|call| call.at.duration_since(ready_at));
    let recovery_ms = recovery.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Ok((reconnects, recovery_ms))
}

/// Waits until the client has written to stderr (its first failed connect)
/// or `LATE_START_FALLBACK` has passed; says which.
fn wait_for_first_complaint(
    plan: &CellPlan,
    client: &mut ClientProcess,
) -> Result<String, CaseError> {
    let since = Instant::now();
    let log = client.stderr_log().to_owned();
    loop {
        if stderr_written(&log) {
            return Ok(format!(
                "client wrote to stderr after {} ms",
                since.elapsed().as_millis()
            ));
        }
        if client.has_exited()? {
            return Ok("client already exited".into());
        }
        if since.elapsed() >= LATE_START_FALLBACK {
            return Ok(format!(
                "client silent on stderr for {} ms; starting the server anyway",
                LATE_START_FALLBACK.as_millis()
            ));
        }
        plan.deadline.nap("the client's first failed connect")?;
    }
}

fn stderr_written(log: &Path) -> bool {
    fs::metadata(log)
        .map(|meta| meta.len() > 0)
        .unwrap_or(false)
}

fn server_late_start(plan: &CellPlan) -> Result<Observed, CaseError> {
    // Held until the server starts: connects are refused, and no other cell
    // can be handed this port in the meantime.
    let reservation = PortReservation::new()?;
    let port = reservation.port();
    let mut client = start_client(plan, port, &["--rounds", "3", "--sizes", "1K"], "client")?;
    let trigger = wait_for_first_complaint(plan, &mut client)?;
    plan.logs.note(&trigger);
    reservation.release();
    let server = start_server(plan, port, Service::Ping, "server")?;
    let run = client.finish(&plan.deadline)?;
    expect_all_ok(&run, 3)?;
    stop_server(plan, server);
    Ok(Observed {
        reconnects: run.last_reconnects(),
        recovery_ms: None,
        summary: format!("3 calls ok; {trigger}"),
    })
}

fn mentions_timeout(error: &str) -> bool {
    let error = error.to_lowercase();
    error.contains("timed out") || error.contains("timeout")
}

fn server_hang(plan: &CellPlan) -> Result<Observed, CaseError> {
    const ROUNDS: usize = 20;
    let mut server = start_server(plan, 0, Service::Ping, "server")?;
    let flags = [
        "--rounds",
        "20",
        "--interval-ms",
        "50",
        "--timeout-ms",
        "500",
        "--sizes",
        "1K",
    ];
    let mut client = start_client(plan, server.port, &flags, "client")?;
    if !wait_for_ok_calls(&plan.deadline, &mut client, 3)? {
        return Err(ended_early(
            &plan.deadline,
            client,
            "3 ok calls before SIGSTOP",
        ));
    }
    signal_server(plan, &mut server, Signal::Stop)?;
    let stopped_at = Instant::now();
    let waiting_for = "a failed call that reports a timeout";
    let timeout_error = loop {
        match client.next_call(&plan.deadline, waiting_for)? {
            Some(call) if !call.record.ok => {
                let error = call.record.error.clone().unwrap_or_default();
                if mentions_timeout(&error) {
                    break error;
                }
                plan.logs
                    .note(&format!("failed call without a timeout: {error}"));
            }
            Some(_) => {}
            None => {
                // Resume the server first so the client is not judged
                // against a server that is still frozen.
                signal_server(plan, &mut server, Signal::Cont)?;
                return Err(ended_early(&plan.deadline, client, waiting_for));
            }
        }
    };
    let detected_ms = stopped_at.elapsed().as_millis();
    plan.logs.note(&format!(
        "timeout reported after {detected_ms} ms: {timeout_error}"
    ));
    signal_server(plan, &mut server, Signal::Cont)?;
    let run = client.finish(&plan.deadline)?;
    if let Some(unsupported) = unsupported_client(&run) {
        return Err(unsupported);
    }
    let Some((last_index, last)) = run.calls.iter().enumerate().next_back() else {
        return Err(CaseError::Failed("the client printed no calls".into()));
    };
    if !last.record.ok {
        return Err(CaseError::Failed(format!(
            "after SIGCONT the last call still failed: {}",
            last.describe_failure(last_index)
        )));
    }
    if run.calls.len() != ROUNDS {
        return Err(CaseError::Failed(format!(
            "{} call lines, expected {ROUNDS} ({})",
            run.calls.len(),
            describe_exit(run.status)
        )));
    }
    // A call failed, so SPEC.md's exit code is 1.
    if run.status.code() != Some(1) {
        return Err(CaseError::Failed(format!(
            "the client reported a failed call but ended with {}, not exit 1",
            describe_exit(run.status)
        )));
    }
    let failed = run.calls.iter().filter(|call| !call.record.ok).count();
    stop_server(plan, server);
    Ok(Observed {
        reconnects: run.last_reconnects(),
        recovery_ms: None,
        summary: format!(
            "timeout reported {detected_ms} ms after SIGSTOP; {failed} of {ROUNDS} calls failed, \
             the last was ok"
        ),
    })
}

fn concurrent_clients(plan: &CellPlan) -> Result<Observed, CaseError> {
    const CALLS_PER_CLIENT: usize = 40; // 20 rounds x 2 sizes
    let server = start_server(plan, 0, Service::Ping, "server")?;
    let flags = ["--rounds", "20", "--sizes", "1K,64K"];
    let clients = (1..=CONCURRENT_CLIENTS)
        .map(|number| start_client(plan, server.port, &flags, &format!("client-{number}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs = Vec::with_capacity(clients.len());
    for client in clients {
        runs.push(client.finish(&plan.deadline)?);
    }
    // An unsupported client explains the cell better than its first failure.
    if let Some(unsupported) = runs.iter().find_map(unsupported_client) {
        return Err(unsupported);
    }
    for run in &runs {
        expect_all_ok(run, CALLS_PER_CLIENT)?;
    }
    stop_server(plan, server);
    Ok(Observed {
        reconnects: runs.iter().filter_map(ClientRun::last_reconnects).max(),
        recovery_ms: None,
        summary: format!("{CONCURRENT_CLIENTS} clients x {CALLS_PER_CLIENT} calls ok"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_flags_ask_for_the_rounds_the_case_expects() {
        let rounds = RESTART_CLIENT_FLAGS
            .windows(2)
            .find(|pair| pair[0] == "--rounds")
            .map(|pair| pair[1].parse::<usize>());
        assert_eq!(rounds, Some(Ok(RESTART_ROUNDS)));
    }

    #[test]
    fn case_names_round_trip() {
        for case in Case::ALL {
            assert_eq!(Case::from_name(case.name()), Some(case));
            let json = serde_json::to_string(&case).unwrap();
            assert_eq!(json, format!("\"{}\"", case.name()));
        }
        assert_eq!(Case::from_name("Echo"), None);
    }

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

    #[test]
    fn timeout_errors_are_recognised() {
        assert!(mentions_timeout("ping: Timed Out after 500 ms"));
        assert!(mentions_timeout("receive timeout (EAGAIN)"));
        assert!(mentions_timeout("TTransportException: TIMEOUT"));
        assert!(!mentions_timeout("connection reset by peer"));
    }
}
