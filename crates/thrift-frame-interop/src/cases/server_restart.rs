//! `server_restart`: a client survives its server being killed and
//! restarted on the same port: it rebuilds its stack, retries `ping`, and
//! loses no call.

use std::time::{Duration, Instant};

use thrift_frame_harness::{restartable_port, ClientProcess, ClientRun, Deadline, Signal};

use super::steps::{
    ended_early, expect_all_ok, signal_server, start_client, start_server, stop_server,
    wait_for_ok_calls, Service,
};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

/// How long the server stays dead (the outage being tested, not a wait for
/// anything).
pub(crate) const OUTAGE: Duration = Duration::from_millis(500);

/// The client's calls, its flags, and how many ok calls come before the
/// server is killed.
pub(crate) const RESTART_ROUNDS: usize = 40;
pub(crate) const RESTART_CLIENT_FLAGS: [&str; 6] =
    ["--rounds", "40", "--interval-ms", "50", "--sizes", "1K"];
pub(crate) const OK_CALLS_BEFORE_RESTART: usize = 5;
// The restart must come while the client still has calls to make.
const _: () = assert!(OK_CALLS_BEFORE_RESTART < RESTART_ROUNDS);

/// The case; see the module docs.
pub(crate) struct ServerRestart;

impl InteropCase for ServerRestart {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        server_restart(plan)
    }
}

fn server_restart(plan: &CellPlan) -> Result<Observed, CaseError> {
    // Below the ephemeral range: there, another cell's client may take the
    // port as its local one while the server is down, and the restart
    // could not bind.
    let mut server = start_server(plan, restartable_port()?, Service::Ping, "server")?;
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
}
