//! `thrifttest-server`: serves Apache Thrift's `ThriftTest` (and, with
//! `--multiplexed`, `SecondService`) with the upstream cross test's
//! semantics, on the thrift-frame server. Prints `LISTENING <port>` on
//! stdout once it accepts connections; SIGTERM or SIGINT stops it (exit 0),
//! a second one exits at once. Contract: interop/SPEC.md, "ThriftTest".

use std::net::TcpListener;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use thrift_frame_cli::args::TransportArg;
use thrift_frame_server::{Server, ServerConfig, ServerModel, ShutdownSignal};
use thrift_frame_thrifttest::cli::{self, ProtocolArg};
use thrift_frame_thrifttest::{processor, ThriftTestHandler};

const PROGRAM: &str = "thrifttest-server";

/// `--server-type`, as upstream names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ServerType {
    /// One connection at a time.
    Simple,
    /// A thread per connection.
    Threaded,
    /// `--workers` threads.
    ThreadPool,
    /// Event loop and `--workers` workers: framed, or buffered binary and compact.
    Nonblocking,
}

/// ThriftTest server for the Apache Thrift cross test (see interop/SPEC.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks a free one (printed as `LISTENING <port>`).
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// multi / multic: binary / compact, multiplexed.
    #[arg(long, value_enum, default_value = "binary")]
    protocol: ProtocolArg,
    #[arg(long, value_enum, default_value = "buffered")]
    transport: TransportArg,
    #[arg(long, value_enum, default_value = "simple")]
    server_type: ServerType,
    /// Worker threads of the thread-pool and non-blocking servers.
    #[arg(short = 'n', long, default_value_t = 4)]
    workers: usize,
    /// Serve ThriftTest and SecondService under those names on one port.
    #[arg(long)]
    multiplexed: bool,
}

fn config(args: &Args) -> Result<ServerConfig, String> {
    let model = match args.server_type {
        ServerType::Simple => ServerModel::Simple,
        ServerType::Threaded => ServerModel::Threaded,
        ServerType::ThreadPool => ServerModel::Pool {
            workers: args.workers,
            queue: 16,
        },
        ServerType::Nonblocking => ServerModel::Nonblocking {
            io_threads: ServerModel::DEFAULT_IO_THREADS,
            workers: args.workers,
            max_buffered_bytes: ServerModel::DEFAULT_MAX_BUFFERED_BYTES,
        },
    };
    let mut config = ServerConfig::default();
    config.wire.protocol = args.protocol.protocol().0;
    config.wire.transport = args.transport.into();
    config.model = model;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn main() {
    thrift_frame_cli::init_logging("info");
    let args: Args = cli::parse_or_exit(PROGRAM);
    let config = config(&args).unwrap_or_else(|e| cli::usage_error(PROGRAM, &e));
    if let Err(e) = run(&args, config) {
        eprintln!("{PROGRAM}: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: &Args, config: ServerConfig) -> anyhow::Result<()> {
    let multiplexed = args.multiplexed || args.protocol.protocol().1;
    let processor = processor(ThriftTestHandler, multiplexed).context("building the processor")?;
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let server = Server::with_processor(listener, config, processor).context("starting")?;
    let port = server
        .local_addr()
        .context("reading the bound port")?
        .port();

    let shutdown = ShutdownSignal::new();
    thrift_frame_cli::server_process::shutdown_on_signals(&shutdown)?;
    // Bound and listening: connections are accepted from now on.
    thrift_frame_cli::server_process::announce_listening(port)?;

    server.serve(shutdown).context("serving")?;
    Ok(())
}
