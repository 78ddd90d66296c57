//! Which demo processor a server runs: one service, or both multiplexed.

use thrift_frame_idl::ping::PingServiceSyncProcessor;
use thrift_frame_idl::student::ServSyncProcessor;
use thrift_frame_server::{ServerError, SharedProcessor};

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
        use std::sync::Arc;
        Ok(match self {
            Service::Ping => Arc::new(PingServiceSyncProcessor::new(PingHandler)),
            Service::Student => Arc::new(ServSyncProcessor::new(StudentHandler)),
            Service::Multiplexed => {
                let mut mux = thrift::server::TMultiplexedProcessor::new();
                for (name, p) in [
                    (
                        PING_SERVICE_NAME,
                        Box::new(PingServiceSyncProcessor::new(PingHandler))
                            as Box<dyn thrift::server::TProcessor + Send + Sync>,
                    ),
                    (
                        STUDENT_SERVICE_NAME,
                        Box::new(ServSyncProcessor::new(StudentHandler)),
                    ),
                ] {
                    mux.register(name, p, false)
                        .map_err(|source| ServerError::Thrift {
                            context: format!("registering {name}"),
                            source,
                        })?;
                }
                Arc::new(mux)
            }
        })
    }
}
