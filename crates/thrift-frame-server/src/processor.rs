//! The processor a server runs, shared by every connection thread.

use std::sync::Arc;

use thrift::server::TProcessor;

/// A processor that any number of connection threads can share: a generated
/// `...SyncProcessor` over the user's handler, or a `TMultiplexedProcessor`.
pub type SharedProcessor = Arc<dyn TProcessor + Send + Sync>;
