//! Which demo processor a server runs: one service, or both multiplexed.

use std::sync::Arc;

use thrift_frame_idl::ping::PingServiceSyncProcessor;
use thrift_frame_idl::student::ServSyncProcessor;
use thrift_frame_server::{multiplexed, ServerError, SharedProcessor};

use crate::{PingHandler, StudentHandler};

/// Which processor a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `PingService` alone.
    Ping,
    /// `Serv` alone.
    Student,
    /// Both on one port, behind a multiplexed processor under the names
    /// [`PING_SERVICE_NAME`] and [`STUDENT_SERVICE_NAME`].
    Multiplexed,
}

/// Name of `PingService` in a multiplexed server.
pub const PING_SERVICE_NAME: &str = "PingService";
/// Name of `Serv` in a multiplexed server.
pub const STUDENT_SERVICE_NAME: &str = "Serv";

impl Service {
    /// This setup's processor, for [`thrift_frame_server::Server::with_processor`]
    /// or [`thrift_frame_server::serve`].
    pub fn processor(self) -> Result<SharedProcessor, ServerError> {
        Ok(match self {
            Service::Ping => Arc::new(PingServiceSyncProcessor::new(PingHandler)),
            Service::Student => Arc::new(ServSyncProcessor::new(StudentHandler)),
            Service::Multiplexed => multiplexed(
                vec![
                    (
                        PING_SERVICE_NAME.to_string(),
                        Box::new(PingServiceSyncProcessor::new(PingHandler)),
                    ),
                    (
                        STUDENT_SERVICE_NAME.to_string(),
                        Box::new(ServSyncProcessor::new(StudentHandler)),
                    ),
                ],
                None,
            )?,
        })
    }
}
