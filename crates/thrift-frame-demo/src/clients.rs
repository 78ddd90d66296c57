//! Reconnecting clients for the demo services, with their calls and each
//! call's idempotency.

use thrift_frame_client::{
    ClientConfig, ClientError, Idempotency, InputProtocol, OutputProtocol, ReconnectingClient,
    SharedClient,
};
use thrift_frame_idl::ping::PingServiceSyncClient;
use thrift_frame_idl::student::{ServSyncClient, Student, TServSyncClient};

use crate::borrowed_call;
use crate::{PING_SERVICE_NAME, STUDENT_SERVICE_NAME};

/// The generated `PingService` client over boxed protocols.
pub type PingServiceClient = PingServiceSyncClient<InputProtocol, OutputProtocol>;
/// The generated `Serv` client over boxed protocols.
pub type ServClient = ServSyncClient<InputProtocol, OutputProtocol>;
/// A reconnecting `PingService` client.
pub type PingClient = ReconnectingClient<PingServiceClient>;
/// A reconnecting `Serv` client.
pub type StudentClient = ReconnectingClient<ServClient>;

/// `config`, multiplexed as `service` if `multiplexed` is set.
fn named(mut config: ClientConfig, multiplexed: bool, service: &str) -> ClientConfig {
    if multiplexed {
        config.multiplexed = Some(service.to_string());
    }
    config
}

/// A reconnecting `PingService` client; `multiplexed` prefixes calls with
/// [`PING_SERVICE_NAME`].
pub fn ping_client(config: ClientConfig, multiplexed: bool) -> Result<PingClient, ClientError> {
    let config = named(config, multiplexed, PING_SERVICE_NAME);
    ReconnectingClient::new(config, PingServiceSyncClient::new)
}

/// A reconnecting `Serv` client; `multiplexed` prefixes calls with
/// [`STUDENT_SERVICE_NAME`].
pub fn student_client(
    config: ClientConfig,
    multiplexed: bool,
) -> Result<StudentClient, ClientError> {
    let config = named(config, multiplexed, STUDENT_SERVICE_NAME);
    ReconnectingClient::new(config, ServSyncClient::new)
}

/// A `PingService` client many threads share, over `connections` connections.
pub fn shared_ping_client(
    config: ClientConfig,
    connections: usize,
) -> Result<SharedClient<PingServiceClient>, ClientError> {
    SharedClient::new(config, connections, PingServiceSyncClient::new)
}

/// `PingService`'s calls, both idempotent.
pub trait PingCalls {
    /// `ping`: the server's `receive len: N`.
    fn ping(&mut self, msg: &str) -> Result<String, ClientError>;
    /// `output`: the server's `You said: <msg>`.
    fn output(&mut self, msg: &str) -> Result<String, ClientError>;
}

impl PingCalls for PingClient {
    fn ping(&mut self, msg: &str) -> Result<String, ClientError> {
        self.call("ping", Idempotency::Idempotent, |c| {
            borrowed_call::string_call(c, "ping", msg)
        })
    }

    fn output(&mut self, msg: &str) -> Result<String, ClientError> {
        self.call("output", Idempotency::Idempotent, |c| {
            borrowed_call::string_call(c, "output", msg)
        })
    }
}

/// `Serv`'s call, which is not idempotent.
pub trait StudentCalls {
    /// `put`: the student's number. Never retried after a broken
    /// connection; see [`ClientError::OutcomeUnknown`].
    fn put(&mut self, student: &Student) -> Result<i32, ClientError>;
}

impl StudentCalls for StudentClient {
    fn put(&mut self, student: &Student) -> Result<i32, ClientError> {
        self.call("put", Idempotency::NotIdempotent, |c| {
            c.put(student.clone())
        })
    }
}
