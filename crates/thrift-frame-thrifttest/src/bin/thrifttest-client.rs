//! `thrifttest-client`: runs the ThriftTest client suite against a server
//! of the Apache Thrift cross test, on the thrift-frame reconnecting client.
//! A `loop` line after each loop and one line per method on stdout, one line per failed check on stderr; the
//! exit code is upstream's bitmask (1 base types, 2 structs, 4 containers,
//! 8 exceptions, 64 unknown, 128 timeout), 0 when every check passed, and
//! 2 for a usage error. Contract: interop/SPEC.md, "ThriftTest".

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use thrift_frame_cli::args::TransportArg;
use thrift_frame_client::ClientConfig;
use thrift_frame_thrifttest::cli::{self, ProtocolArg};
use thrift_frame_thrifttest::retry_policy;
use thrift_frame_thrifttest::suite::{self, SuiteConfig};

const PROGRAM: &str = "thrifttest-client";

/// ThriftTest client for the Apache Thrift cross test (see interop/SPEC.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The server's host.
    #[arg(long, default_value = "localhost")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// multi / multic: binary / compact, multiplexed.
    #[arg(long, value_enum, default_value = "binary")]
    protocol: ProtocolArg,
    #[arg(long, value_enum, default_value = "buffered")]
    transport: TransportArg,
    /// Times to run the whole suite, each on a fresh connection.
    #[arg(short = 'n', long, default_value_t = 1)]
    testloops: u32,
    /// Call ThriftTest and SecondService through the multiplexed protocol.
    #[arg(long)]
    multiplexed: bool,
    /// Send and receive timeout of each call (more than 1000: the call after
    /// testOneway(1) waits for the server's sleep).
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// How long to keep trying to connect.
    #[arg(long, default_value_t = 30_000)]
    reconnect_deadline_ms: u64,
}

fn main() {
    thrift_frame_cli::init_logging("warn");
    let args: Args = cli::parse_or_exit(PROGRAM);
    if args.timeout_ms <= 1000 {
        cli::usage_error(PROGRAM, "--timeout-ms must be more than 1000");
    }
    let host = if args.host.contains(':') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    let (protocol, multiplexed_protocol) = args.protocol.protocol();
    let mut client = ClientConfig::new(format!("{host}:{}", args.port));
    client.wire.protocol = protocol;
    client.wire.transport = args.transport.into();
    client.call_timeout = Duration::from_millis(args.timeout_ms);
    client.backoff.deadline = Some(Duration::from_millis(args.reconnect_deadline_ms));
    client.retry_policy = retry_policy();
    let config = SuiteConfig {
        client,
        multiplexed: args.multiplexed || multiplexed_protocol,
        loops: args.testloops,
    };

    let report = suite::run_reporting_loops(&config, |summary| {
        println!(
            "loop {}: {} checks, {} failed, {} reconnects",
            summary.number, summary.checks, summary.failed, summary.reconnects
        );
        // The runner reads these lines while the suite goes on.
        let _ = std::io::stdout().flush();
    });
    for (method, tally) in &report.methods {
        let verdict = if tally.failed == 0 { "ok" } else { "FAILED" };
        println!(
            "{method}: {} checks, {} failed: {verdict}",
            tally.checks, tally.failed
        );
    }
    for failure in &report.failures {
        eprintln!("{PROGRAM}: {failure}");
    }
    for line in &report.unknown {
        eprintln!("{PROGRAM}: {line}");
    }
    for why in &report.aborted {
        eprintln!("{PROGRAM}: could not run the suite: {why}");
    }
    std::process::exit(i32::from(report.exit_code()));
}
