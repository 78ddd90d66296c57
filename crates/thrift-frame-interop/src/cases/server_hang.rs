//! `server_hang`: a server that stops answering without closing its
//! connections (SIGSTOP) costs the client a call that fails with a timeout,
//! not a client that hangs; once the server resumes, calls succeed again.

use std::time::Instant;

use thrift_frame_harness::{describe_exit, Signal};

use super::steps::{
    ended_early, signal_server, start_client, start_server, stop_server, unsupported_client,
    wait_for_ok_calls, Service,
};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

fn mentions_timeout(error: &str) -> bool {
    let error = error.to_lowercase();
    error.contains("timed out") || error.contains("timeout")
}

/// The case; see the module docs.
pub(crate) struct ServerHang;

impl InteropCase for ServerHang {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        server_hang(plan)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_errors_are_recognised() {
        assert!(mentions_timeout("ping: Timed Out after 500 ms"));
        assert!(mentions_timeout("receive timeout (EAGAIN)"));
        assert!(mentions_timeout("TTransportException: TIMEOUT"));
        assert!(!mentions_timeout("connection reset by peer"));
    }
}
