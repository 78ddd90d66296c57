//! The fault cases: what each one starts where, which fault it applies in
//! the router and when, and what it checks. interop/SPEC.md ("Fault suite")
//! describes each in words, with the reasons for the client flags.
//!
//! Servers run in the server namespace on the server address, clients in
//! the client namespace; both through the interop harness
//! ([`thrift_frame_harness`]), so every process is killed and reaped whatever
//! way a case ends. Readiness is the server's `LISTENING` line plus a TCP
//! connect from inside the server namespace (which works while the router
//! drops everything); the only pauses are the outages themselves.

use std::fs;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cases::{ended_early, expect_all_ok, launch_client, wait_for_ok_calls};
use crate::netns::{Topology, SERVER_ADDRESS};
use crate::CaseError;
use thrift_frame_harness::{
    describe_exit, Call, ClientProcess, ClientRun, CommandLine, HarnessError, ServerProcess, Signal,
};

use super::puts::{self, PutFigures};
use super::recovery::{self, median};
use super::{FaultCase, FaultPlan, Figures, OutageFigure, REFERENCE_PEER};

/// One wire for the whole suite: the default of every peer.
const WIRE: [&str; 4] = ["--protocol", "compact", "--transport", "buffered"];

/// Time a server gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Peers whose client has no `--call-attempts` (Go: always 3, SPEC.md's
/// default); the others get `--call-attempts 3` spelled out.
const NO_CALL_ATTEMPTS_FLAG: [&str; 1] = ["go"];
const CALL_ATTEMPTS: &str = "3";

// --- blackhole_stream --------------------------------------------------------
// 128 KiB pings every 50 ms; after 10 ok calls the router drops everything
// for 3 s. --timeout-ms 1000 < the outage: the call caught in it times out
// inside the blackhole, once; the reconnect (connect attempts until the
// path is back, inside the 30 s reconnect budget) and the retry on the new
// connection (attempt 2 of 3) come after it, so every call ends ok.
// A second timeout of one call would need a connection made during the
// blackhole, which cannot be.
const STREAM_ROUNDS: usize = 40;
const STREAM_FLAGS: [&str; 8] = [
    "--sizes",
    "128K",
    "--rounds",
    "40",
    "--interval-ms",
    "50",
    "--timeout-ms",
    "1000",
];
const STREAM_OK_BEFORE: usize = 10;
const STREAM_OUTAGE: Duration = Duration::from_secs(3);
// The blackhole must come while the client still has calls to make.
const _: () = assert!(STREAM_OK_BEFORE < STREAM_ROUNDS);

// --- half_open ---------------------------------------------------------------
// 1 MiB pings back to back through a 16 Mbit/s bucket (about 0.5 s a
// call), so "mid-call" is a condition the suite can see: at least 256 KiB
// of the call in flight have crossed the router. Then blackhole, SIGKILL
// the server (its RST is dropped: the client's connection is half-open),
// start a new server on the same fixed port, restore: the client's next
// retransmission meets the new server, which resets it; the client
// reconnects and sends the ping again. --timeout-ms 5000 is well above a
// call's 0.5 s, so no call times out on the bandwidth alone.
const HALF_OPEN_ROUNDS: usize = 6;
const HALF_OPEN_FLAGS: [&str; 8] = [
    "--sizes",
    "1M",
    "--rounds",
    "6",
    "--interval-ms",
    "0",
    "--timeout-ms",
    "5000",
];
const HALF_OPEN_OK_BEFORE: usize = 2;
const HALF_OPEN_RATE: &str = "16mbit";
const MID_CALL_BYTES: u64 = 256 * 1024;
/// In the server namespace every port is free: the restart needs one it
/// knows beforehand.
const FIXED_PORT: u16 = 9091;
const _: () = assert!(HALF_OPEN_OK_BEFORE < HALF_OPEN_ROUNDS);
// Mid-call: the blackhole starts well before the call's 1 MiB is through.
const _: () = assert!(MID_CALL_BYTES < 1024 * 1024 / 2);

// --- put_blackhole -----------------------------------------------------------
// One put every 20 ms; after 25 ok puts the router drops everything for 3 s.
// --timeout-ms 1000 < the outage, so the put caught in it is given up
// ("outcome unknown") inside the blackhole; 400 rounds leave about 8 s of
// puts after the path is back, more than the kernel's retransmission of
// the abandoned request needs to arrive (its backoff doubles from 200 ms:
// the first retransmission after the outage comes at most about as long
// after it as the outage lasted).
const PUT_FLAGS: [&str; 6] = [
    "--rounds",
    "400",
    "--interval-ms",
    "20",
    "--timeout-ms",
    "1000",
];
const PUT_OK_BEFORE: usize = 25;
const PUT_OUTAGE: Duration = Duration::from_secs(3);
/// How long the suite waits, after the client exited, for the client
/// namespace's sockets to hand over (or drop) what they still hold.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);
const PUT_LOG_FILTER: &str = "RUST_LOG=info,thrift_frame_demo::handlers=debug";

// --- outage_recovery ---------------------------------------------------------
// Small pings every 10 ms, forever; 10 seeded outages of 1-5 s. --timeout-ms
// 500 < the shortest outage, so a call caught in one gives up its attempt
// inside it and the first good call after it is the client's reconnect and
// retry, which is what is measured; not a timeout running on past the
// outage.
const RECOVERY_FLAGS: [&str; 8] = [
    "--sizes",
    "1K",
    "--rounds",
    "0",
    "--interval-ms",
    "10",
    "--timeout-ms",
    "500",
];
/// Good calls before the first outage and between outages.
const OK_BETWEEN_OUTAGES: usize = 10;
/// The longest wait for a good call after the path is back: past it the
/// client is judged not to recover.
const RECOVERY_LIMIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Ping,
    Student,
}

/// Runs the plan's case; `Ok` is the summary of a pass. `figures` is filled
/// in as the case goes, so a failing cell keeps what it measured.
pub fn run_case(
    plan: &FaultPlan,
    topology: &mut Topology,
    figures: &mut Figures,
) -> Result<String, CaseError> {
    match plan.cell.case {
        FaultCase::BlackholeStream => blackhole_stream(plan, topology, figures),
        FaultCase::HalfOpen => half_open(plan, topology, figures),
        FaultCase::PutBlackhole => put_blackhole(plan, topology, figures),
        FaultCase::OutageRecovery => outage_recovery(plan, topology, figures),
    }
}

fn server_command(
    plan: &FaultPlan,
    topology: &Topology,
    port: u16,
    service: Service,
) -> CommandLine {
    let mut args = vec![
        "--host".to_owned(),
        SERVER_ADDRESS.to_string(),
        "--port".to_owned(),
        port.to_string(),
    ];
    args.extend(WIRE.iter().map(|arg| arg.to_string()));
    if service == Service::Student {
        args.extend(["--service".to_owned(), "student".to_owned()]);
        // The Rust server logs every put at debug level (`put sno=N`);
        // `env` execs it, so the pid stays the server's.
        let mut with_env = vec![
            PUT_LOG_FILTER.to_owned(),
            plan.server_program.display().to_string(),
        ];
        with_env.extend(args);
        return topology.server.exec(&PathBuf::from("env"), &with_env);
    }
    topology.server.exec(&plan.server_program, &args)
}

/// Starts a server (port 0 for a fresh one) logging to `server.log`.
fn start_server(
    plan: &FaultPlan,
    topology: &Topology,
    port: u16,
    service: Service,
    label: &str,
) -> Result<ServerProcess, CaseError> {
    let command = server_command(plan, topology, port, service);
    plan.logs.note(&format!("start {label}: {command}"));
    let accepts = |port| {
        topology
            .server
            .accepts_tcp(SocketAddrV4::new(SERVER_ADDRESS, port))
    };
    let server = ServerProcess::start_probed(
        label,
        &command,
        &plan.logs.path("server.log"),
        &plan.deadline,
        &accepts,
    )?;
    plan.logs
        .note(&format!("{label} ready on port {}", server.port));
    Ok(server)
}

fn stop_server(plan: &FaultPlan, server: ServerProcess) {
    crate::cases::stop_server_noting(&plan.logs, server);
}

/// The client in the client namespace, against the server address.
fn start_client(
    plan: &FaultPlan,
    topology: &Topology,
    port: u16,
    service: Service,
    case_flags: &[&str],
) -> Result<ClientProcess, CaseError> {
    let mut args = vec![
        "--host".to_owned(),
        SERVER_ADDRESS.to_string(),
        "--port".to_owned(),
        port.to_string(),
    ];
    args.extend(WIRE.iter().map(|arg| arg.to_string()));
    args.push("--json".to_owned());
    args.extend(case_flags.iter().map(|flag| flag.to_string()));
    match service {
        Service::Student => args.extend(["--service".to_owned(), "student".to_owned()]),
        // put is never retried; ping is, and the count is part of the case.
        Service::Ping if !NO_CALL_ATTEMPTS_FLAG.contains(&plan.cell.client.as_str()) => {
            args.extend(["--call-attempts".to_owned(), CALL_ATTEMPTS.to_owned()]);
        }
        Service::Ping => {}
    }
    let command = topology.client.exec(&plan.client_program, &args);
    launch_client(&plan.logs, &command, "client")
}

/// Reads calls until `count` were ok; an error if the client ended first.
fn await_ok_calls(
    plan: &FaultPlan,
    mut client: ClientProcess,
    count: usize,
    before: &str,
) -> Result<ClientProcess, CaseError> {
    if wait_for_ok_calls(&plan.deadline, &mut client, count)? {
        return Ok(client);
    }
    Err(ended_early(
        &plan.deadline,
        client,
        &format!("{count} ok calls before {before}"),
    ))
}

fn blackhole(plan: &FaultPlan, topology: &mut Topology) -> Result<(), CaseError> {
    topology.blackhole()?;
    plan.logs.note("blackhole: the router drops everything");
    topology.note("blackhole on");
    Ok(())
}

/// Ends the blackhole; returns when the path was back.
fn restore(plan: &FaultPlan, topology: &mut Topology) -> Result<Instant, CaseError> {
    topology.restore()?;
    let at = Instant::now();
    plan.logs.note("restored: the router forwards again");
    topology.note("blackhole off");
    Ok(at)
}

fn record_run(figures: &mut Figures, run: &ClientRun) {
    figures.calls = Some(run.calls.len());
    figures.failed_calls = Some(run.calls.iter().filter(|c| !c.record.ok).count());
    figures.client_exit = Some(describe_exit(run.status));
    figures.reconnects = run.last_reconnects();
}

/// SPEC.md's exit codes: 0 when every call was correct, 1 when one failed.
fn exit_matches_lines(run: &ClientRun) -> Result<(), CaseError> {
    let failed = run.calls.iter().filter(|c| !c.record.ok).count();
    let expected = if failed == 0 { 0 } else { 1 };
    if run.status.code() == Some(expected) {
        return Ok(());
    }
    Err(CaseError::Failed(format!(
        "{}: {} with {failed} failed call line(s) of {}; SPEC.md says exit {expected}; stderr: {}",
        run.label,
        describe_exit(run.status),
        run.calls.len(),
        run.last_words
    )))
}

fn first_ok_after(calls: &[Call], since: Instant) -> Option<u64> {
    calls
        .iter()
        .find(|call| call.record.ok && call.at > since)
        .map(|call| crate::run::millis(call.at.duration_since(since)))
}

fn require_reconnect(run: &ClientRun, what: &str) -> Result<(), CaseError> {
    match run.last_reconnects() {
        Some(n) if n >= 1 => Ok(()),
        n => Err(CaseError::Failed(format!(
            "{}: every call ok, but the last line says reconnects {}: the client never \
             noticed the {what}",
            run.label,
            n.unwrap_or(0)
        ))),
    }
}

fn blackhole_stream(
    plan: &FaultPlan,
    topology: &mut Topology,
    figures: &mut Figures,
) -> Result<String, CaseError> {
    let server = start_server(plan, topology, 0, Service::Ping, "server")?;
    let client = start_client(plan, topology, server.port, Service::Ping, &STREAM_FLAGS)?;
    let client = await_ok_calls(plan, client, STREAM_OK_BEFORE, "the blackhole")?;
    blackhole(plan, topology)?;
    plan.deadline.pause(STREAM_OUTAGE, "the blackhole to end")?;
    let restored_at = restore(plan, topology)?;
    let run = client.finish(&plan.deadline)?;
    record_run(figures, &run);
    figures.recovery_ms = first_ok_after(&run.calls, restored_at);
    exit_matches_lines(&run)?;
    expect_all_ok(&run, STREAM_ROUNDS)?;
    require_reconnect(&run, "blackhole")?;
    stop_server(plan, server);
    Ok(format!(
        "{STREAM_ROUNDS} calls ok through a {} s blackhole, exit 0; first ok call {} ms after \
         the path came back",
        STREAM_OUTAGE.as_secs(),
        figures
            .recovery_ms
            .map_or_else(|| "-".to_owned(), |ms| ms.to_string())
    ))
}

fn half_open(
    plan: &FaultPlan,
    topology: &mut Topology,
    figures: &mut Figures,
) -> Result<String, CaseError> {
    topology.limit_bandwidth(HALF_OPEN_RATE)?;
    plan.logs.note(&format!(
        "bandwidth towards the server limited to {HALF_OPEN_RATE}"
    ));
    let mut server = start_server(plan, topology, FIXED_PORT, Service::Ping, "server")?;
    let client = start_client(plan, topology, FIXED_PORT, Service::Ping, &HALF_OPEN_FLAGS)?;
    let mut client = await_ok_calls(plan, client, HALF_OPEN_OK_BEFORE, "the half-open")?;
    // The next 1 MiB call starts as the last line is printed; wait until a
    // good part of it has crossed the router.
    let base = topology.bytes_towards_server()?;
    let in_call = loop {
        let sent = topology.bytes_towards_server()?.saturating_sub(base);
        if sent >= MID_CALL_BYTES {
            break sent;
        }
        if client.has_exited()? {
            return Err(ended_early(
                &plan.deadline,
                client,
                "a 1 MiB call to be under way",
            ));
        }
        plan.deadline.nap("a 1 MiB call to be under way")?;
    };
    figures.call_bytes_at_blackhole = Some(in_call);
    blackhole(plan, topology)?;
    plan.logs.note(&format!(
        "{in_call} bytes of the call through the router; SIGKILL server"
    ));
    server.signal(Signal::Kill)?;
    server.kill();
    let restarted = start_server(
        plan,
        topology,
        FIXED_PORT,
        Service::Ping,
        "restarted server",
    )?;
    let restored_at = restore(plan, topology)?;
    let run = client.finish(&plan.deadline)?;
    record_run(figures, &run);
    figures.recovery_ms = first_ok_after(&run.calls, restored_at);
    exit_matches_lines(&run)?;
    expect_all_ok(&run, HALF_OPEN_ROUNDS)?;
    require_reconnect(&run, "server's death")?;
    stop_server(plan, restarted);
    Ok(format!(
        "{HALF_OPEN_ROUNDS} calls of 1 MiB ok; the server died {} KiB into a call behind a \
         blackhole; first ok call {} ms after the path came back",
        in_call / 1024,
        figures
            .recovery_ms
            .map_or_else(|| "-".to_owned(), |ms| ms.to_string())
    ))
}

fn put_blackhole(
    plan: &FaultPlan,
    topology: &mut Topology,
    figures: &mut Figures,
) -> Result<String, CaseError> {
    if plan.cell.server != REFERENCE_PEER {
        return Err(CaseError::Failed(format!(
            "put_blackhole reads the Rust server's put log; not runnable against {}",
            plan.cell.server
        )));
    }
    let server = start_server(plan, topology, 0, Service::Student, "server")?;
    let client = start_client(plan, topology, server.port, Service::Student, &PUT_FLAGS)?;
    let client = await_ok_calls(plan, client, PUT_OK_BEFORE, "the blackhole")?;
    blackhole(plan, topology)?;
    plan.deadline.pause(PUT_OUTAGE, "the blackhole to end")?;
    restore(plan, topology)?;
    let run = client.finish(&plan.deadline)?;
    record_run(figures, &run);
    // Whatever the client's sockets still hold may yet reach the server.
    let drain = plan.deadline_within(DRAIN_LIMIT);
    let unsent = loop {
        let unsent = topology.unsent_bytes_towards_server()?;
        if unsent == 0 || Instant::now() >= drain.at() {
            break unsent;
        }
        plan.deadline.nap("the client's sockets to drain")?;
    };
    figures.unsent_bytes_at_end = Some(unsent);
    plan.logs.note(&format!(
        "client namespace holds {unsent} bytes for the server"
    ));
    // Stopped and reaped first: its log is then complete.
    stop_server(plan, server);
    let log_path = plan.logs.path("server.log");
    let log = fs::read_to_string(&log_path).map_err(|source| crate::Error::ReadFile {
        path: log_path.clone(),
        source,
    })?;
    let received = puts::received_puts(&log);
    let judged = puts::judge(&run.calls, &received);
    figures.puts = Some(judged.clone());
    judge_puts(&judged)?;
    exit_matches_lines(&run)?;
    Ok(format!(
        "{} puts, {} given up under the blackhole, none of them executed after that; \
         {} received in order",
        judged.sent, judged.failed, judged.received
    ))
}

fn judge_puts(judged: &PutFigures) -> Result<(), CaseError> {
    if judged.received == 0 {
        return Err(CaseError::Failed(
            "the server logged no `put sno=` line: the check cannot see anything (is RUST_LOG \
             reaching it?)"
                .into(),
        ));
    }
    if judged.ok_not_received > 0 {
        return Err(CaseError::Failed(format!(
            "{} puts the client reported ok are not in the server's log",
            judged.ok_not_received
        )));
    }
    if judged.late > 0 || judged.out_of_order > 0 {
        return Err(CaseError::Failed(format!(
            "{} put(s) executed after the client had given up on them, {} out of order: {}",
            judged.late,
            judged.out_of_order,
            judged.violations.join("; ")
        )));
    }
    if judged.failed == 0 {
        return Err(CaseError::Failed(
            "no put was given up under the blackhole: the case tested nothing".into(),
        ));
    }
    Ok(())
}

fn outage_recovery(
    plan: &FaultPlan,
    topology: &mut Topology,
    figures: &mut Figures,
) -> Result<String, CaseError> {
    let server = start_server(plan, topology, 0, Service::Ping, "server")?;
    let mut client = start_client(plan, topology, server.port, Service::Ping, &RECOVERY_FLAGS)?;
    let schedule = recovery::outage_schedule(plan.seed, recovery::OUTAGES);
    for (number, outage) in schedule.iter().enumerate() {
        client = await_ok_calls(
            plan,
            client,
            OK_BETWEEN_OUTAGES,
            &format!("outage {}", number + 1),
        )?;
        blackhole(plan, topology)?;
        plan.deadline.pause(*outage, "the outage to end")?;
        let restored_at = restore(plan, topology)?;
        let limit = plan.deadline_within(RECOVERY_LIMIT);
        let waiting_for = format!("a good call after outage {}", number + 1);
        let recovered = loop {
            match client.next_call(&limit, &waiting_for) {
                Ok(Some(call)) if call.record.ok && call.at > restored_at => {
                    break Some(crate::run::millis(call.at.duration_since(restored_at)));
                }
                Ok(Some(_)) => {}
                Ok(None) => break None,
                Err(HarnessError::TimedOut(_)) if plan.deadline.check("").is_ok() => break None,
                Err(error) => return Err(error.into()),
            }
        };
        let outage_ms = crate::run::millis(*outage);
        figures.outages.push(OutageFigure {
            outage_ms,
            recovery_ms: recovered,
        });
        plan.logs.note(&format!(
            "outage {} of {outage_ms} ms: {}",
            number + 1,
            recovered.map_or_else(
                || format!("no good call within {} s", RECOVERY_LIMIT.as_secs()),
                |ms| format!("first good call {ms} ms after the path came back")
            )
        ));
        if recovered.is_none() {
            let run = client.terminate(STOP_GRACE, &plan.deadline)?;
            record_run(figures, &run);
            return Err(CaseError::Failed(format!(
                "{}: no good call within {} s after outage {} ({outage_ms} ms); stderr: {}",
                run.label,
                RECOVERY_LIMIT.as_secs(),
                number + 1,
                run.last_words
            )));
        }
    }
    let run = client.terminate(STOP_GRACE, &plan.deadline)?;
    record_run(figures, &run);
    stop_server(plan, server);
    let times: Vec<u64> = figures
        .outages
        .iter()
        .filter_map(|o| o.recovery_ms)
        .collect();
    let (Some(median_ms), Some(&max_ms)) = (median(&times), times.iter().max()) else {
        return Err(CaseError::Failed("no outage was measured".into()));
    };
    figures.recovery_median_ms = Some(median_ms);
    figures.recovery_max_ms = Some(max_ms);
    let verdict = (plan.cell.client == REFERENCE_PEER).then(|| {
        let target = recovery::judge_target(median_ms, max_ms);
        let text = format!(
            "; target median <= {} ms, max <= {} ms: {}",
            target.median_limit_ms,
            target.max_limit_ms,
            target.verdict.name()
        );
        figures.target = Some(target);
        text
    });
    Ok(format!(
        "recovered after all {} outages: median {median_ms} ms, max {max_ms} ms{}",
        times.len(),
        verdict.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag<'a>(flags: &[&'a str], name: &str) -> Option<&'a str> {
        flags
            .windows(2)
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1])
    }

    fn millis_flag(flags: &[&str], name: &str) -> u64 {
        flag(flags, name).and_then(|v| v.parse().ok()).unwrap()
    }

    #[test]
    fn the_rounds_are_the_ones_the_cases_count() {
        assert_eq!(flag(&STREAM_FLAGS, "--rounds"), Some("40"));
        assert_eq!(STREAM_ROUNDS, 40);
        assert_eq!(flag(&HALF_OPEN_FLAGS, "--rounds"), Some("6"));
        assert_eq!(HALF_OPEN_ROUNDS, 6);
    }

    #[test]
    fn every_call_caught_in_an_outage_gives_up_inside_it() {
        // The reasons written above the flags, as numbers.
        assert!(millis_flag(&STREAM_FLAGS, "--timeout-ms") < STREAM_OUTAGE.as_millis() as u64);
        assert!(millis_flag(&PUT_FLAGS, "--timeout-ms") < PUT_OUTAGE.as_millis() as u64);
        assert!(
            millis_flag(&RECOVERY_FLAGS, "--timeout-ms") < recovery::SHORTEST_OUTAGE_MS,
            "outage_recovery would measure a timeout, not a reconnect"
        );
        // 1 MiB at 16 Mbit/s is about 0.52 s, far inside the call timeout.
        assert!(millis_flag(&HALF_OPEN_FLAGS, "--timeout-ms") >= 5 * 520);
    }
}
