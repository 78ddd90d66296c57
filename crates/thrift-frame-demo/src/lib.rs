#![warn(missing_docs)]
//! The demo services on the framework, as a user's own service would be:
//! `PingService` (`ping` answers `receive len: <UTF-8 bytes>`, `output`
//! answers `You said: <msg>`) and `Serv` (`put` answers the student's
//! number), their handlers, the processor for each server setup, and
//! reconnecting clients with each call's idempotency. Only the public API of
//! `thrift-frame-server` and `thrift-frame-client` is used here.

mod borrowed_call;
mod clients;
mod handlers;
mod service;

pub use clients::{
    ping_client, shared_ping_client, student_client, PingCalls, PingClient, PingServiceClient,
    ServClient, StudentCalls, StudentClient,
};
pub use handlers::{PingHandler, StudentHandler};
pub use service::{Service, PING_SERVICE_NAME, STUDENT_SERVICE_NAME};
pub use thrift_frame_idl::{ping, student};
