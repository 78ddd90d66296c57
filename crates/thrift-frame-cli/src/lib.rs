//! What the `ping-server` and `ping-client` binaries share beyond the
//! libraries: command-line value types, payloads, and the per-call report.

pub mod args;
pub mod payload;
pub mod report;

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise, with
/// millisecond timestamps so client and server logs can be lined up.
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
}
