//! The runner's data model: the [`Case`]s, the [`Cell`]s they expand to,
//! the [`Selection`] that narrows them, and the [`Matrix`] of peers read
//! from interop/matrix.toml. Data only: what a case does lives in
//! [`crate::cases`], which depends on this module, never the reverse.

mod matrix;

use serde::{Deserialize, Serialize};

pub use matrix::{Matrix, Peer, ServerModel};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// A case of the interop matrix (interop/SPEC.md, "Interop cases"): its
/// identity and where it runs. What it does is in [`crate::cases`].
pub enum Case {
    LargePayloads,
    Echo,
    StudentPut,
    ServerRestart,
    ServerLateStart,
    ServerHang,
    ConcurrentClients,
    ThriftTest,
    ThriftTestMultiplexed,
    ThriftTestRestart,
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
    pub const ALL: [Case; 10] = [
        Case::LargePayloads,
        Case::Echo,
        Case::StudentPut,
        Case::ServerRestart,
        Case::ServerLateStart,
        Case::ServerHang,
        Case::ConcurrentClients,
        Case::ThriftTest,
        Case::ThriftTestMultiplexed,
        Case::ThriftTestRestart,
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
            Case::ThriftTest => "thrift_test",
            Case::ThriftTestMultiplexed => "thrift_test_multiplexed",
            Case::ThriftTestRestart => "thrift_test_restart",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|case| case.name() == name)
    }

    pub fn scope(self) -> ModelScope {
        match self {
            Case::LargePayloads
            | Case::Echo
            | Case::StudentPut
            | Case::ThriftTest
            | Case::ThriftTestMultiplexed => ModelScope::EveryModel,
            Case::ServerRestart
            | Case::ServerLateStart
            | Case::ServerHang
            | Case::ThriftTestRestart => ModelScope::DefaultModel,
            Case::ConcurrentClients => ModelScope::ConcurrentModels,
        }
    }

    /// Rough seconds a passing cell takes, so the long ones start first and
    /// the run does not end waiting on one of them.
    pub fn expected_seconds(self) -> u32 {
        match self {
            Case::ThriftTestRestart => 6,
            Case::ServerRestart | Case::ServerHang => 4,
            Case::ThriftTestMultiplexed => 3,
            Case::ServerLateStart | Case::ConcurrentClients | Case::ThriftTest => 2,
            Case::LargePayloads | Case::Echo | Case::StudentPut => 1,
        }
    }

    /// Which of a peer's programs play the case.
    pub fn suite(self) -> Suite {
        match self {
            Case::ThriftTest | Case::ThriftTestMultiplexed | Case::ThriftTestRestart => {
                Suite::ThriftTest
            }
            _ => Suite::Ping,
        }
    }
}

/// The two service suites a peer implements, each a server and a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// `ping-server` and `ping-client`: PingService and Serv.
    Ping,
    /// `thrifttest-server` and `thrifttest-client`: Apache Thrift's ThriftTest.
    ThriftTest,
}

/// A side of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The peer that serves.
    Server,
    /// The peer that calls.
    Client,
}

/// One run of one case: a client peer against a server peer in one wire
/// configuration and server model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub client: String,
    pub server: String,
    pub protocol: String,
    pub transport: String,
    pub server_model: String,
    pub case: Case,
    /// Why one side cannot serve this cell, when the matrix already says so.
    pub unsupported: Option<String>,
}

impl Cell {
    /// A name that is unique in the matrix and safe as a directory name.
    pub fn id(&self) -> String {
        format!(
            "{}.{}-{}.{}-{}.{}",
            self.case.name(),
            self.client,
            self.server,
            self.protocol,
            self.transport,
            self.server_model
        )
    }
}

/// Which cells to run; an empty list selects everything on that axis.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub clients: Vec<String>,
    pub servers: Vec<String>,
    pub protocols: Vec<String>,
    pub transports: Vec<String>,
    pub models: Vec<String>,
    pub cases: Vec<String>,
}

pub(crate) fn selected(list: &[String], name: &str) -> bool {
    list.is_empty() || list.iter().any(|wanted| wanted == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_round_trip() {
        for case in Case::ALL {
            assert_eq!(Case::from_name(case.name()), Some(case));
            let json = serde_json::to_string(&case).unwrap();
            assert_eq!(json, format!("\"{}\"", case.name()));
        }
        assert_eq!(Case::from_name("Echo"), None);
    }
}
