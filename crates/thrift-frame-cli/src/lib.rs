//! What the `ping-server` and `ping-client` binaries share beyond the
//! libraries: command-line value types, payloads, the per-call report, and
//! what a server binary does as a process. `thrifttest-server` and
//! `thrifttest-client` use it too.

pub mod args;
pub mod payload;
pub mod report;
pub mod server_process;

/// Logs to stderr at `default` (e.g. `info`) unless `RUST_LOG` says otherwise, with
/// millisecond timestamps so client and server logs can be lined up. A
/// panic is logged as one ERROR line (thread, place, message) instead of the
/// default hook's unformatted text, so it lines up with the rest.
pub fn init_logging(default: &str) {
    init_logging_traced(default, false);
}

/// As [`init_logging`]; with `trace_wire`, also every message's text at
/// trace level (target `thrift_frame::wire`, see `--trace-wire`), whatever
/// `RUST_LOG` says of other targets.
pub fn init_logging_traced(default: &str, trace_wire: bool) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default));
    if trace_wire {
        builder.filter_module(thrift_frame_debug::TRACE_TARGET, log::LevelFilter::Trace);
    }
    builder.format_timestamp_millis().init();
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        log::error!(
            "panic in thread {} at {place}: {message}",
            thread.name().unwrap_or("unnamed")
        );
    }));
}
