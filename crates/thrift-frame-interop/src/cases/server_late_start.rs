//! `server_late_start`: a client started before its server keeps retrying
//! the refused connection with backoff and succeeds once the server is up.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use thrift_frame_harness::{ClientProcess, PortReservation};

use super::steps::{expect_all_ok, start_client, start_server, stop_server, Service};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

/// The longest the server waits for the client's first complaint on
/// stderr before starting anyway.
const LATE_START_FALLBACK: Duration = Duration::from_secs(2);

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

/// The case; see the module docs.
pub(crate) struct ServerLateStart;

impl InteropCase for ServerLateStart {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        server_late_start(plan)
    }
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
