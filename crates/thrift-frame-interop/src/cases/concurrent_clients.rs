//! `concurrent_clients`: a server model that claims concurrency serves 8
//! clients at once, with mixed payload sizes, without mixing up replies.

use thrift_frame_harness::ClientRun;

use super::steps::Service;
use super::steps::{expect_all_ok, start_client, start_server, stop_server, unsupported_client};
use super::{CellPlan, InteropCase, Observed};
use crate::CaseError;

const CONCURRENT_CLIENTS: usize = 8;

/// The case; see the module docs.
pub(crate) struct ConcurrentClients;

impl InteropCase for ConcurrentClients {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        concurrent_clients(plan)
    }
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
