//! The client side's plumbing: reconnecting clients over the generated
//! ones, and which `ThriftTest` calls may be retried.

use thrift_frame_client::{
    ClientConfig, ClientError, Idempotency, InputProtocol, OutputProtocol, ReconnectingClient,
    RetryPolicy,
};

use crate::service::{SECOND_SERVICE_NAME, THRIFT_TEST_SERVICE_NAME};
use crate::thrift_test::{SecondServiceSyncClient, ThriftTestSyncClient};

/// The generated `ThriftTest` client over the framework's boxed protocols.
pub type ThriftTestClient = ThriftTestSyncClient<InputProtocol, OutputProtocol>;
/// The generated `SecondService` client over the framework's boxed protocols.
pub type SecondServiceClient = SecondServiceSyncClient<InputProtocol, OutputProtocol>;

/// A reconnecting `ThriftTest` client.
pub type ReconnectingThriftTest = ReconnectingClient<ThriftTestClient>;
/// A reconnecting `SecondService` client.
pub type ReconnectingSecondService = ReconnectingClient<SecondServiceClient>;

/// A reconnecting `ThriftTest` client; `multiplexed` sends its calls as
/// `ThriftTest:method`.
pub fn thrift_test_client(
    mut config: ClientConfig,
    multiplexed: bool,
) -> Result<ReconnectingThriftTest, ClientError> {
    config.multiplexed = multiplexed.then(|| THRIFT_TEST_SERVICE_NAME.to_string());
    ReconnectingClient::new(config, ThriftTestSyncClient::new)
}

/// A reconnecting `SecondService` client, always multiplexed (the service
/// only exists next to `ThriftTest` on a multiplexed server).
pub fn second_service_client(
    mut config: ClientConfig,
) -> Result<ReconnectingSecondService, ClientError> {
    config.multiplexed = Some(SECOND_SERVICE_NAME.to_string());
    ReconnectingClient::new(config, SecondServiceSyncClient::new)
}

/// Every `ThriftTest` method, in IDL order.
pub const THRIFT_TEST_METHODS: [&str; 22] = [
    "testVoid",
    "testString",
    "testBool",
    "testByte",
    "testI32",
    "testI64",
    "testDouble",
    "testBinary",
    "testStruct",
    "testNest",
    "testMap",
    "testStringMap",
    "testSet",
    "testList",
    "testEnum",
    "testTypedef",
    "testMapMap",
    "testInsanity",
    "testMulti",
    "testException",
    "testMultiException",
    "testOneway",
];

/// Every `SecondService` method.
pub const SECOND_SERVICE_METHODS: [&str; 1] = ["secondtestString"];

/// Whether a `ThriftTest` or `SecondService` call may be sent again after
/// its connection broke. Every request/reply method is a pure function of
/// its arguments (the exception methods too: the same argument, the same
/// exception), so running it twice is harmless. `testOneway` is not: it
/// has a side effect (it occupies the server for its sleep), and, having no
/// reply, a failed send cannot tell whether the server got it.
pub fn idempotency(method: &str) -> Idempotency {
    match method {
        "testOneway" => Idempotency::NotIdempotent,
        m if THRIFT_TEST_METHODS.contains(&m) || SECOND_SERVICE_METHODS.contains(&m) => {
            Idempotency::Idempotent
        }
        _ => Idempotency::NotIdempotent,
    }
}

/// [`idempotency`] as a [`RetryPolicy`], for `ClientConfig::retry_policy`.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy::idempotent(
        THRIFT_TEST_METHODS
            .iter()
            .chain(SECOND_SERVICE_METHODS.iter())
            .filter(|m| idempotency(m) == Idempotency::Idempotent)
            .copied(),
    )
}
