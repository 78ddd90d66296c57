//! `make bench`: how fast thrift-frame is, measured against every peer and
//! against the physical floor (raw TCP on loopback), in one run.
//!
//! The large-payload latency table (128 KiB to 1 MiB pings, Rust client to
//! every server that serves the wire) runs one interleaved pass per wire
//! and payload, each next to a raw TCP floor of its own:
//!
//! - compact+buffered and binary+framed, random alphanumeric payload: the
//!   two the targets judge;
//! - json+http (TJSONProtocol over THttpClient/THttpServer; not C++'s
//!   nonblocking server, not Python's pool);
//! - compact+zlib (TZlibTransport) twice: with the random payload, which
//!   deflate hardly shrinks, and with one sentence repeated, which it
//!   shrinks to almost nothing (rows say which in `payload`);
//! - compact+header (THeader, an `x-request-id` with every call).
//!
//! In the last three a server that does not start (a peer's ping-server
//! exiting 2, "unsupported") or fails a call is left out of that pass with
//! a note in bench.md; `--quick` gives them fewer rounds than the first two.
//!
//! Every timed call of those passes also has CPU figures: the server
//! process's CPU time for the call and the Rust client's ([`cpu`]); the
//! peers' clients report their own (`cpu_ns`) in the client-side cells,
//! which run a `ping` and an `output` series (replies of 128 KiB to
//! 1 MiB: the clients' read path). The Rust and C++ threaded servers'
//! instructions per call are counted under callgrind ([`callgrind`]),
//! which machine noise does not move.
//!
//! - [`baseline`]: the raw TCP exchange.
//! - [`cpu`]: CPU time per call of a server process (schedstat) and of
//!   this thread.
//! - [`callgrind`]: instructions per call under `valgrind --tool=callgrind`.
//! - [`measure`]: latency and throughput through the Rust client library.
//! - [`peers`]: peer servers and clients as processes (via interop/matrix.toml).
//! - [`pinning`]: clients on one CPU, servers on another, for the latency cells.
//! - [`reconnect`]: time from a restarted server to the first good call.
//! - [`sweep`]: the connection sweep's load generator (1 to 10,000
//!   connections from one thread, small calls, no project client).
//! - [`report`] and [`plot`]: bench.json, bench.md, SVG plots, target verdicts.
//!
//! Nothing here asserts on time; the figures are reported as ratios.

pub mod baseline;
pub mod callgrind;
pub mod cpu;
mod error;
pub mod measure;
pub mod peers;
pub mod pinning;
pub mod plot;
pub mod reconnect;
pub mod report;
pub mod stats;
pub mod sweep;

pub use error::BenchError;
