//! The processors a server runs: `ThriftTest` alone, or `ThriftTest` and
//! `SecondService` behind a multiplexed processor.

use std::sync::Arc;

use thrift::server::{TMultiplexedProcessor, TProcessor};

use crate::handler::SecondServiceHandler;
use crate::thrift_test::{
    SecondServiceSyncProcessor, ThriftTestSyncHandler, ThriftTestSyncProcessor,
};

/// The name a multiplexed server registers `ThriftTest` under (upstream's).
pub const THRIFT_TEST_SERVICE_NAME: &str = "ThriftTest";
/// The name a multiplexed server registers `SecondService` under (upstream's).
pub const SECOND_SERVICE_NAME: &str = "SecondService";

/// A processor shared by every connection of a server.
pub type SharedProcessor = Arc<dyn TProcessor + Send + Sync>;

/// The processor for `handler`: `ThriftTest` alone, or, when `multiplexed`,
/// a [`TMultiplexedProcessor`] with `ThriftTest` (also the default, for
/// clients that do not prefix the service name) and `SecondService`.
pub fn processor<H>(handler: H, multiplexed: bool) -> thrift::Result<SharedProcessor>
where
    H: ThriftTestSyncHandler + Send + Sync + 'static,
{
    let thrift_test = ThriftTestSyncProcessor::new(handler);
    if !multiplexed {
        return Ok(Arc::new(thrift_test));
    }
    let mut mux = TMultiplexedProcessor::new();
    mux.register(THRIFT_TEST_SERVICE_NAME, Box::new(thrift_test), true)?;
    mux.register(
        SECOND_SERVICE_NAME,
        Box::new(SecondServiceSyncProcessor::new(SecondServiceHandler)),
        false,
    )?;
    Ok(Arc::new(mux))
}
