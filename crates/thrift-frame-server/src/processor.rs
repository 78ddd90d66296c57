//! The processor a server runs, shared by every connection thread.

use std::sync::Arc;

use thrift::server::{TMultiplexedProcessor, TProcessor};

use crate::ServerError;

/// A processor that any number of connection threads can share: a generated
/// `...SyncProcessor` over the user's handler, or a `TMultiplexedProcessor`.
pub type SharedProcessor = Arc<dyn TProcessor + Send + Sync>;

/// One service of a multiplexed server: the name its clients prefix their
/// calls with (`name:method`), and its processor.
pub type NamedProcessor = (String, Box<dyn TProcessor + Send + Sync>);

/// Several services on one port, behind the thrift crate's
/// `TMultiplexedProcessor`. `default`, if given, names the service that
/// also answers calls without a prefix (for clients that do not multiplex).
///
/// ```
/// use thrift_frame_server::multiplexed;
/// # struct Kv;
/// # impl thrift::server::TProcessor for Kv {
/// #     fn process(&self, _: &mut dyn thrift::protocol::TInputProtocol,
/// #                _: &mut dyn thrift::protocol::TOutputProtocol) -> thrift::Result<()> { Ok(()) }
/// # }
/// let processor = multiplexed(vec![("Kv".to_string(), Box::new(Kv))], Some("Kv"))?;
/// # Ok::<(), thrift_frame_server::ServerError>(())
/// ```
pub fn multiplexed(
    services: Vec<NamedProcessor>,
    default: Option<&str>,
) -> Result<SharedProcessor, ServerError> {
    let mut mux = TMultiplexedProcessor::new();
    for (name, processor) in services {
        let as_default = default == Some(name.as_str());
        mux.register(name.as_str(), processor, as_default)
            .map_err(|source| ServerError::Thrift {
                context: format!("registering {name} with the multiplexed processor"),
                source,
            })?;
    }
    Ok(Arc::new(mux))
}
