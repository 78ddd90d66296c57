//! The cases: what each one starts, does to the server, and checks. One
//! file per case, each a [`InteropCase`]; interop/SPEC.md ("Interop
//! cases") describes each in words, and [`crate::model::Case`] says where
//! each runs.

mod concurrent_clients;
mod data;
mod echo;
mod large_payloads;
mod server_hang;
mod server_late_start;
mod server_restart;
mod steps;
mod student_put;
pub(crate) mod thrift_test;
mod thrift_test_restart;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use thrift_frame_harness::Deadline;

use crate::model::{Case, Cell};
use crate::{CaseError, Error};

pub(crate) use data::data_case;
pub(crate) use server_restart::{
    judge_restart, wait_until_restart_is_due, OUTAGE, RESTART_CLIENT_FLAGS, RESTART_ROUNDS,
};
pub(crate) use steps::{
    ended_early, expect_all_ok, launch_client, remote_client_command, stop_server_noting,
    wait_for_ok_calls,
};

/// What one case does with a cell: start its processes, drive them, judge
/// what the client reports. `Ok` means the cell passed.
pub trait InteropCase: Sync {
    /// Runs the case for `plan`'s cell.
    fn run(&self, plan: &CellPlan) -> Result<Observed, CaseError>;
}

/// The code of `case`.
pub fn implementation(case: Case) -> &'static dyn InteropCase {
    match case {
        Case::LargePayloads => &large_payloads::LARGE_PAYLOADS,
        Case::Echo => &echo::ECHO,
        Case::StudentPut => &student_put::STUDENT_PUT,
        Case::ServerRestart => &server_restart::ServerRestart,
        Case::ServerLateStart => &server_late_start::ServerLateStart,
        Case::ServerHang => &server_hang::ServerHang,
        Case::ConcurrentClients => &concurrent_clients::ConcurrentClients,
        Case::ThriftTest => &thrift_test::ThriftTest { multiplexed: false },
        Case::ThriftTestMultiplexed => &thrift_test::ThriftTest { multiplexed: true },
        Case::ThriftTestRestart => &thrift_test_restart::ThriftTestRestart,
    }
}

/// Runs the cell's case; `Ok` means it passed.
pub fn run_case(plan: &CellPlan) -> Result<Observed, CaseError> {
    implementation(plan.cell.case).run(plan)
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
    /// Absolute paths of the server peer's server and the client peer's
    /// client, of the case's suite (ping or ThriftTest).
    pub server_program: PathBuf,
    pub client_program: PathBuf,
    /// The server model's `--server-type` for `thrifttest-server`.
    pub server_type: String,
    /// The server model's `--server` for `ping-server`.
    pub server_flag: String,
    /// The `--transport` the server gets: the cell's, or the model's own
    /// (`auto`).
    pub server_transport: String,
    /// The server echoes `x-request-id` over the header transport.
    pub echoes_request_id: bool,
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
