//! `thrift_test_restart`: the ThriftTest client runs its suite in a loop
//! while the server is SIGKILLed and restarted on the same port, as
//! `server_restart` does for ping: every idempotent call recovers on a fresh
//! connection, and `testOneway` follows the written policy (never retried;
//! a failed send is an `UNKNOWN` line, not a failed check).

use std::time::Duration;

use thrift_frame_harness::{restartable_port, Signal};

use super::server_restart::OUTAGE;
use super::steps::{signal_server, stop_server};
use super::thrift_test::{judge, start_client, start_server, LoopLine};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

/// Loops the client runs; the server goes down during the second.
const LOOPS: usize = 3;

/// After the first loop line, how long until the kill. Every loop lasts
/// over a second (the server sleeps a second in `testOneway(1)` before the
/// next call is answered), so the kill lands inside the second loop, mid
/// suite, rather than between two loops' connections. A fault's timing,
/// not a wait for readiness.
const INTO_SECOND_LOOP: Duration = Duration::from_millis(200);

/// The case; see the module docs.
pub(crate) struct ThriftTestRestart;

impl InteropCase for ThriftTestRestart {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        // Below the ephemeral range, as for server_restart.
        let mut server = start_server(plan, restartable_port()?, false, "server")?;
        let port = server.port;
        let loops = LOOPS.to_string();
        let mut client = start_client(plan, port, false, &["--testloops", &loops])?;
        let waiting_for = "the client's first loop line";
        loop {
            match client.next_line(&plan.deadline, waiting_for)? {
                Some(line) if LoopLine::parse(&line.text).is_some() => break,
                Some(_) => {}
                None => {
                    // Ended before its first loop: judged as it stands.
                    let run = client.finish(&plan.deadline)?;
                    judge(&run, false, LOOPS)?;
                    return Err(CaseError::Failed(format!(
                        "the client ended before the restart ({waiting_for} never came)"
                    )));
                }
            }
        }
        plan.deadline
            .pause(INTO_SECOND_LOOP, "the kill's moment in the second loop")?;
        signal_server(plan, &mut server, Signal::Kill)?;
        server.kill();
        plan.deadline.pause(OUTAGE, "the outage to end")?;
        let restarted = start_server(plan, port, false, "restarted server")?;
        let run = client.finish(&plan.deadline)?;
        let verdict = judge(&run, false, LOOPS)?;
        // Over HTTP a client may open a connection per call (Python's
        // THttpClient does): then the restart costs it no reconnect, and
        // three passing loops across it are the proof.
        if verdict.reconnects < 1 && plan.cell.transport != "http" {
            return Err(CaseError::Failed(format!(
                "every loop passed, but the last loop line says 0 reconnects: the client \
                 never noticed the restart ({})",
                verdict.summary()
            )));
        }
        stop_server(plan, restarted);
        Ok(Observed {
            reconnects: Some(verdict.reconnects),
            recovery_ms: None,
            summary: format!(
                "server killed in loop 2 and restarted; {}",
                verdict.summary()
            ),
        })
    }
}
