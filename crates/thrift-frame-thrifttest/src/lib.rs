#![warn(missing_docs)]
//! Apache Thrift's cross-language test service, `ThriftTest` (and
//! `SecondService` for multiplexing), on this repository's framework: the
//! hardened [`thrift_frame_server`] and the reconnecting
//! [`thrift_frame_client`], used only through their public API.
//!
//! - [`thrift_test`]: the code the Thrift 0.17 compiler generates from
//!   `idl/ThriftTest.thrift` (`make generate`; never edited by hand).
//! - [`ThriftTestHandler`]: the server semantics of the upstream cross test
//!   (echo every argument; fixed answers for `testMapMap`, `testInsanity`,
//!   `testMulti`; exceptions on request; `testOneway` sleeps), and
//!   [`processor`] to serve it, alone or multiplexed with `SecondService`
//!   under upstream's names.
//! - [`suite::run`]: the client test suite. It calls every method with edge
//!   values, checks every reply for equality and reports failures by group;
//!   [`Report::exit_code`] is upstream's exit-code bitmask
//!   ([`EXIT_BASETYPES`] 1, [`EXIT_STRUCTS`] 2, [`EXIT_CONTAINERS`] 4,
//!   [`EXIT_EXCEPTIONS`] 8, [`EXIT_UNKNOWN`] 64, [`EXIT_TIMEOUT`] 128).
//! - The binaries `thrifttest-server` and `thrifttest-client` follow the
//!   upstream cross test's command line; interop/SPEC.md, section
//!   "ThriftTest", is the contract.
//!
//! ```
//! use std::net::TcpListener;
//! use thrift_frame_client::ClientConfig;
//! use thrift_frame_server::{Server, ServerConfig, ShutdownSignal};
//! use thrift_frame_thrifttest::{processor, suite, ThriftTestHandler};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! let server = Server::with_processor(listener, ServerConfig::default(), processor(ThriftTestHandler, false)?)?;
//! let shutdown = ShutdownSignal::new();
//! let stop = shutdown.clone();
//! let serving = std::thread::spawn(move || server.serve(stop));
//! let mut client = ClientConfig::new(format!("127.0.0.1:{port}"));
//! client.retry_policy = thrift_frame_thrifttest::retry_policy();
//! let report = suite::run(&suite::SuiteConfig::new(client));
//! assert_eq!(report.exit_code(), 0);
//! shutdown.trigger();
//! serving.join().expect("server thread")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cli;
mod client;
mod handler;
mod report;
mod service;
pub mod suite;

// The generated file opens with inner `#![allow(..)]` attributes, which
// `include!` rejects; a `#[path]` module accepts them. Lints are for code we
// write, not for the compiler's output.
#[allow(clippy::all, missing_docs)]
#[path = "generated/thrift_test.rs"]
pub mod thrift_test;

pub use client::{
    idempotency, retry_policy, second_service_client, thrift_test_client,
    ReconnectingSecondService, ReconnectingThriftTest, SecondServiceClient, ThriftTestClient,
    SECOND_SERVICE_METHODS, THRIFT_TEST_METHODS,
};
pub use handler::{
    empty_insanity, insanity_answer, map_map_answer, multi_answer, multi_xception, multi_xception2,
    xception_for, SecondServiceHandler, ThriftTestHandler, MAX_ONEWAY_SLEEP, TEXCEPTION_MESSAGE,
};
pub use report::{
    Failure, Group, MethodTally, Report, EXIT_BASETYPES, EXIT_CONTAINERS, EXIT_EXCEPTIONS,
    EXIT_STRUCTS, EXIT_TIMEOUT, EXIT_UNKNOWN,
};
pub use service::{processor, SECOND_SERVICE_NAME, THRIFT_TEST_SERVICE_NAME};
