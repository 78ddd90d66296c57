//! The data cases: one client, one untouched server, every call ok. Each
//! data case is a [`DataCase`] value in a file of its own.

use super::steps::{
    expect_all_ok, expect_request_ids, start_client, start_server, stop_server, Service,
};
use super::{CellPlan, InteropCase, Observed};
use crate::model::Case;
use crate::CaseError;

/// A data case: what the server serves and what the client is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataCase {
    /// The processor the server must serve.
    pub service: Service,
    /// The client's flags besides the wire flags and `--json`.
    pub client_flags: &'static [&'static str],
    /// The JSON lines a passing client prints.
    pub calls: usize,
}

/// The data case `case` is, if it is one (remote mode runs only these).
pub(crate) fn data_case(case: Case) -> Option<&'static DataCase> {
    match case {
        Case::LargePayloads => Some(&super::large_payloads::LARGE_PAYLOADS),
        Case::Echo => Some(&super::echo::ECHO),
        Case::StudentPut => Some(&super::student_put::STUDENT_PUT),
        _ => None,
    }
}

impl InteropCase for DataCase {
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError> {
        let server = start_server(plan, 0, self.service, "server")?;
        let client = start_client(plan, server.port, self.client_flags, "client")?;
        let run = client.finish(&plan.deadline)?;
        expect_all_ok(&run, self.calls)?;
        expect_request_ids(plan, &run)?;
        stop_server(plan, server);
        Ok(Observed {
            reconnects: run.last_reconnects(),
            recovery_ms: None,
            summary: format!("{} calls ok", self.calls),
        })
    }
}
