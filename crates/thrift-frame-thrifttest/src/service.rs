//! The processors a server runs: `ThriftTest` alone, or `ThriftTest` and
//! `SecondService` behind a multiplexed processor.

use std::sync::Arc;

use thrift_frame_server::{multiplexed, ServerError, SharedProcessor};

use crate::handler::SecondServiceHandler;
use crate::thrift_test::{
    SecondServiceSyncProcessor, ThriftTestSyncHandler, ThriftTestSyncProcessor,
};

/// The name a multiplexed server registers `ThriftTest` under (upstream's).
pub const THRIFT_TEST_SERVICE_NAME: &str = "ThriftTest";
/// The name a multiplexed server registers `SecondService` under (upstream's).
pub const SECOND_SERVICE_NAME: &str = "SecondService";

/// The processor for `handler`: `ThriftTest` alone, or, when `multiplexed`,
/// `ThriftTest` (also the default, for clients that do not prefix the
/// service name) and `SecondService` behind a multiplexed processor.
pub fn processor<H>(handler: H, multiplexed_server: bool) -> Result<SharedProcessor, ServerError>
where
    H: ThriftTestSyncHandler + Send + Sync + 'static,
{
    let thrift_test = ThriftTestSyncProcessor::new(handler);
    if !multiplexed_server {
        return Ok(Arc::new(thrift_test));
    }
    multiplexed(
        vec![
            (THRIFT_TEST_SERVICE_NAME.to_string(), Box::new(thrift_test)),
            (
                SECOND_SERVICE_NAME.to_string(),
                Box::new(SecondServiceSyncProcessor::new(SecondServiceHandler)),
            ),
        ],
        Some(THRIFT_TEST_SERVICE_NAME),
    )
}
