//! `ping-server`: serves PingService and/or Serv until SIGTERM or SIGINT.
//! Prints `LISTENING <port>` on stdout once it accepts connections.
//!
//! The first SIGTERM or SIGINT stops accepting, lets calls in flight finish
//! within --shutdown-grace-ms, cuts the rest and exits 0. A second one exits
//! at once with status 128 + the signal number (143 for SIGTERM, 130 for
//! SIGINT).

use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use thrift_frame_cli::args::{parse_size, ProtocolArg, ServiceArg, TransportArg};
use thrift_frame_demo::Service;
use thrift_frame_server::{serve, Limits, ServerConfig, ServerModel, ShutdownSignal};
use thrift_frame_wire::WireConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    Simple,
    Threaded,
    Pool,
    Nonblocking,
}

/// Thrift PingService / Serv server (see interop/SPEC.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks a free one (printed as `LISTENING <port>`).
    #[arg(long, default_value_t = 9091)]
    port: u16,
    /// binary is strict (versioned) binary; clients must use the same.
    #[arg(long, value_enum, default_value = "compact")]
    protocol: ProtocolArg,
    /// framed: a 4-byte length before each message; clients must use the same.
    #[arg(long, value_enum, default_value = "buffered")]
    transport: TransportArg,
    /// simple: one connection at a time; threaded: a thread per connection;
    /// pool: --workers threads, --queue waiting connections, then refusal;
    /// nonblocking: --io-threads event loops for every connection, the
    /// processor on --workers threads (framed, or buffered binary/compact).
    #[arg(long = "server", value_enum, default_value = "threaded")]
    model: ModelArg,
    /// Worker threads of the pool and nonblocking models; with nonblocking,
    /// 0 runs the processor on the I/O threads.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Event-loop threads of the nonblocking model.
    #[arg(long, default_value_t = ServerModel::DEFAULT_IO_THREADS)]
    io_threads: usize,
    /// Bytes of requests and replies the nonblocking model holds at once,
    /// all connections together (at least --max-message-size), e.g. 256M.
    #[arg(long, value_parser = parse_size, default_value = "256M")]
    max_buffered_bytes: usize,
    /// Connections that may wait for a pool worker before new ones are refused.
    #[arg(long, default_value_t = 16)]
    queue: usize,
    /// ping: PingService (ping, output); student: Serv (put).
    #[arg(long, value_enum, default_value = "ping")]
    service: ServiceArg,
    /// Serve PingService and Serv on one port (multiplexed processor).
    #[arg(long)]
    multiplexed: bool,
    /// Largest accepted frame (framed transport), e.g. 16M.
    #[arg(long, value_parser = parse_size, default_value = "16M")]
    max_frame_size: usize,
    /// Largest accepted message; frames and strings may not exceed it.
    #[arg(long, value_parser = parse_size, default_value = "16M")]
    max_message_size: usize,
    /// Largest accepted string or binary field.
    #[arg(long, value_parser = parse_size, default_value = "16M")]
    max_string_size: usize,
    /// Close a connection idle between calls for this long (0: never).
    #[arg(long, default_value_t = 300_000)]
    idle_timeout_ms: u64,
    /// Close a connection that goes silent this long in the middle of a request.
    #[arg(long, default_value_t = 10_000)]
    stall_timeout_ms: u64,
    /// Close a connection whose peer does not read its reply for this long
    /// (one write blocked this long, or a reply not taken within twice this).
    #[arg(long, default_value_t = 10_000)]
    write_timeout_ms: u64,
    /// Close a connection whose request has not fully arrived this long after
    /// its first byte, however steadily it trickles in (0: no deadline).
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Connections open at once; more are accepted and closed at once, with a
    /// log line. Default: the descriptor limit (ulimit -n) less a reserve of 64.
    #[arg(long)]
    max_connections: Option<usize>,
    /// On SIGTERM/SIGINT, how long calls in flight may take to finish before
    /// their connections are cut. A second signal exits at once.
    #[arg(long, default_value_t = 5_000)]
    shutdown_grace_ms: u64,
    /// Log every message each way as TDebugProtocol text (long strings
    /// cut), at trace level for target thrift_frame::wire.
    #[arg(long)]
    trace_wire: bool,
}

fn timeout(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

fn config(args: &Args) -> anyhow::Result<(ServerConfig, Service)> {
    let limits = Limits::new(
        args.max_frame_size,
        args.max_message_size,
        args.max_string_size,
    )
    .context("checking --max-frame-size, --max-message-size and --max-string-size")?;
    let service = match (args.multiplexed, args.service) {
        (true, _) => Service::Multiplexed,
        (false, ServiceArg::Ping) => Service::Ping,
        (false, ServiceArg::Student) => Service::Student,
    };
    let model = match args.model {
        ModelArg::Simple => ServerModel::Simple,
        ModelArg::Threaded => ServerModel::Threaded,
        ModelArg::Pool => ServerModel::Pool {
            workers: args.workers,
            queue: args.queue,
        },
        ModelArg::Nonblocking => ServerModel::Nonblocking {
            io_threads: args.io_threads,
            workers: args.workers,
            max_buffered_bytes: args.max_buffered_bytes,
        },
    };
    let config = ServerConfig {
        wire: WireConfig {
            protocol: args.protocol.into(),
            transport: args.transport.into(),
            limits,
        },
        model,
        idle_timeout: timeout(args.idle_timeout_ms),
        stall_timeout: timeout(args.stall_timeout_ms),
        write_timeout: timeout(args.write_timeout_ms),
        request_timeout: timeout(args.request_timeout_ms),
        max_connections: args.max_connections,
        shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
        trace_wire: args.trace_wire,
    };
    config.validate().context("checking the server flags")?;
    Ok((config, service))
}

fn main() {
    let args = Args::parse();
    thrift_frame_cli::init_logging_traced("info", args.trace_wire);
    // Flags that parse but contradict each other are usage errors too.
    let (config, service) = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ping-server: {e:#}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args, config, service) {
        eprintln!("ping-server: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: &Args, config: ServerConfig, service: Service) -> anyhow::Result<()> {
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let port = listener
        .local_addr()
        .context("reading the bound port")?
        .port();

    let shutdown = ShutdownSignal::new();
    thrift_frame_cli::server_process::shutdown_on_signals(&shutdown)?;
    // Bound and listening: connections are accepted from now on.
    thrift_frame_cli::server_process::announce_listening(port)?;

    log::info!("service: {service:?}");
    let processor = service.processor().context("building the processor")?;
    serve(listener, processor, config, shutdown).context("serving")?;
    Ok(())
}
