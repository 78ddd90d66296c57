//! `interop-runner`: every peer's ping-client against every peer's
//! ping-server, per interop/matrix.toml; reports under target/interop/.
//! With `--remote`, the clients against servers that already run elsewhere
//! (docker-compose.yml).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use thrift_frame_harness::{self as process, wait_for_tcp, Deadline, HarnessError};
use thrift_frame_interop::known::KnownFailures;
use thrift_frame_interop::model::{Cell, Matrix, Selection};
use thrift_frame_interop::remote::{self, RemoteConfig, RestartCommands};
use thrift_frame_interop::report::{self, CellResult, RunInfo, Status};
use thrift_frame_interop::run::{self, Progress, RunConfig};

/// Runs the interop matrix: clients x servers x protocols x transports x
/// server models x cases (interop/matrix.toml, interop/SPEC.md), and writes
/// target/interop/{results.json,summary.md,index.html} and per-cell logs.
///
/// Remote mode (--remote): every client against servers that are already
/// running, such as the containers of docker-compose.yml, for the cases
/// large_payloads, echo, student_put and (given --restart-cmd)
/// server_restart; never two cells on one server at a time.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Client peers to run (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    client: Vec<String>,
    /// Server peers to run (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    server: Vec<String>,
    /// Protocols (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    protocol: Vec<String>,
    /// Transports (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    transport: Vec<String>,
    /// Server models (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    model: Vec<String>,
    /// Cases (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    case: Vec<String>,
    /// Cells run in parallel. Most of a cell's time is spent waiting (an
    /// outage, a oneway call's sleep, a timeout), so the default is more
    /// than the cores of a small machine.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Time limit of one cell, in seconds.
    #[arg(long, default_value_t = 60)]
    case_timeout_s: u64,
    /// Repository root (default: the nearest directory upwards with interop/matrix.toml).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Print the selected cells and exit without running them.
    #[arg(long)]
    list: bool,
    /// Where results.json, summary.md, index.html and logs/ go
    /// (default: target/interop under the root).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Remote mode: the servers to test, already running, as
    /// name=host:port (comma list), e.g. rs=rs:9091,cpp=cpp:9090. The name is
    /// the server column of the report. --protocol and --transport then say
    /// how they speak (one each; default compact and buffered); --server
    /// picks some of them.
    #[arg(long, value_delimiter = ',', value_name = "NAME=HOST:PORT")]
    remote: Vec<String>,
    /// Remote mode: the servers serve PingService and Serv multiplexed on one
    /// port; every client gets --multiplexed.
    #[arg(long, requires = "remote")]
    multiplexed: bool,
    /// Remote mode, server_restart: a shell command that kills the server;
    /// the runner then waits 500 ms and runs --restart-cmd. {name}, {host}
    /// and {port} stand for the server's.
    #[arg(long, requires = "restart_cmd", value_name = "CMD")]
    kill_cmd: Option<String>,
    /// Remote mode, server_restart: a shell command that brings the server
    /// back (or restarts it, without --kill-cmd); readiness is then a TCP
    /// connect. Without it server_restart is not run.
    #[arg(long, requires = "remote", value_name = "CMD")]
    restart_cmd: Option<String>,
    /// Remote mode: how long every server gets to accept connections before
    /// the first cell, in seconds.
    #[arg(long, default_value_t = 60)]
    ready_timeout_s: u64,
}

const MATRIX_FILE: &str = "interop/matrix.toml";
const KNOWN_FAILURES_FILE: &str = "interop/known-failures.toml";
const OUT_DIR: &str = "target/interop";

fn find_root(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(root) = explicit {
        return root
            .canonicalize()
            .with_context(|| format!("--root {}", root.display()));
    }
    let here = std::env::current_dir().context("reading the current directory")?;
    here.ancestors()
        .find(|dir| dir.join(MATRIX_FILE).is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "no {MATRIX_FILE} in {} or above; run from the repository or pass --root",
                here.display()
            )
        })
}

/// Fails early, with the build command, when a selected peer is not built.
/// Remote servers are not the matrix's (`local_servers` false).
fn check_binaries(matrix: &Matrix, cells: &[Cell], root: &Path, local_servers: bool) -> Result<()> {
    let mut missing = Vec::new();
    for peer in &matrix.peers {
        let as_client = cells
            .iter()
            .any(|c| c.client == peer.name && c.unsupported.is_none());
        let as_server = local_servers
            && cells
                .iter()
                .any(|c| c.server == peer.name && c.unsupported.is_none());
        for (needed, path) in [(as_client, &peer.client), (as_server, &peer.server)] {
            if needed && !root.join(path).is_file() {
                missing.push(format!("{} (build: {})", path.display(), peer.build));
            }
        }
    }
    if !missing.is_empty() {
        bail!("peer binaries missing:\n  {}", missing.join("\n  "));
    }
    Ok(())
}

/// Progress on stderr: one line redrawn in place on a terminal, one line per
/// cell otherwise (logs, CI).
struct ProgressDisplay {
    terminal: bool,
}

impl ProgressDisplay {
    fn show(&self, result: &CellResult, progress: Progress) {
        let mut stderr = std::io::stderr().lock();
        let noteworthy = result.status != Status::Pass && result.status != Status::Unsupported;
        if self.terminal {
            // Failures stay on screen above the redrawn progress line.
            if noteworthy {
                let _ = writeln!(
                    stderr,
                    "\r\x1b[2K{:<13} {}: {}",
                    result.status.name(),
                    result.id,
                    result.message
                );
            }
            let _ = write!(
                stderr,
                "\r\x1b[2K[{}/{}] {} failed so far | {} {}",
                progress.done,
                progress.total,
                progress.unexpected,
                result.status.name(),
                result.id
            );
        } else {
            let detail = if result.status == Status::Pass {
                String::new()
            } else {
                format!(": {}", result.message)
            };
            let _ = writeln!(
                stderr,
                "[{}/{}] {:<13} {} ({} ms){detail}",
                progress.done,
                progress.total,
                result.status.name(),
                result.id,
                result.duration_ms
            );
        }
        let _ = stderr.flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

/// The remote-mode configuration, when --remote is given.
fn remote_config(args: &Args) -> Result<Option<RemoteConfig>> {
    if args.remote.is_empty() {
        return Ok(None);
    }
    if !args.model.is_empty() {
        bail!("--model does not apply to --remote servers (the runner does not start them)");
    }
    let single = |flag: &str, values: &[String], default: &str| -> Result<String> {
        match values {
            [] => Ok(default.to_owned()),
            [one] => Ok(one.clone()),
            _ => {
                bail!("--{flag}: remote servers speak one {flag}; give one (how they were started)")
            }
        }
    };
    let mut servers = RemoteConfig::parse_servers(&args.remote)?;
    if let Some(name) = (args.server.iter()).find(|name| !servers.iter().any(|s| &s.name == *name))
    {
        bail!("--server {name}: not among the --remote servers");
    }
    servers.retain(|server| args.server.is_empty() || args.server.contains(&server.name));
    Ok(Some(RemoteConfig {
        servers,
        protocol: single("protocol", &args.protocol, "compact")?,
        transport: single("transport", &args.transport, "buffered")?,
        multiplexed: args.multiplexed,
        restart: args.restart_cmd.clone().map(|restart| RestartCommands {
            kill: args.kill_cmd.clone(),
            restart,
        }),
    }))
}

/// Waits until every remote server accepts connections, so an unreachable
/// one is one clear error instead of a failed cell per client and case.
fn wait_for_servers(
    remote: &RemoteConfig,
    timeout: Duration,
    interrupted: &Arc<AtomicBool>,
) -> Result<()> {
    let deadline = Deadline::after(timeout, Arc::clone(interrupted));
    for server in &remote.servers {
        let started = Instant::now();
        let address = server.address();
        match wait_for_tcp(&server.host, server.port, &deadline, &address) {
            Ok(_) => eprintln!(
                "interop: {}={address} accepts connections ({} ms)",
                server.name,
                started.elapsed().as_millis()
            ),
            Err(HarnessError::Interrupted) => bail!("interrupted"),
            Err(_) => bail!(
                "remote server {}={address} does not accept connections after {} s",
                server.name,
                timeout.as_secs()
            ),
        }
    }
    Ok(())
}

fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let root = find_root(args.root.clone())?;
    let matrix_path = root.join(MATRIX_FILE);
    let matrix = Matrix::load(&matrix_path).context("loading the interop matrix")?;
    let known = KnownFailures::load(&root.join(KNOWN_FAILURES_FILE), &matrix)
        .context("loading the known failures")?;
    let remote = remote_config(&args)?;
    let cells = match &remote {
        Some(remote) => remote
            .cells(&matrix, &args.client, &args.case)
            .context("selecting cells")?,
        None => {
            let selection = Selection {
                clients: args.client.clone(),
                servers: args.server.clone(),
                protocols: args.protocol.clone(),
                transports: args.transport.clone(),
                models: args.model.clone(),
                cases: args.case.clone(),
            };
            matrix.cells(&selection).context("selecting cells")?
        }
    };
    if args.list {
        for cell in &cells {
            match &cell.unsupported {
                Some(why) => println!("{}  (unsupported: {why})", cell.id()),
                None => println!("{}", cell.id()),
            }
        }
        println!("{} cells", cells.len());
        return Ok(ExitCode::SUCCESS);
    }
    if cells.is_empty() {
        bail!("the selection matches no cell");
    }
    check_binaries(&matrix, &cells, &root, remote.is_none())?;

    let interrupted = process::interrupt_flag().context("installing signal handlers")?;

    if let Some(remote) = &remote {
        wait_for_servers(
            remote,
            Duration::from_secs(args.ready_timeout_s),
            &interrupted,
        )?;
    }

    let out_dir = args.out.clone().unwrap_or_else(|| root.join(OUT_DIR));
    let logs_dir = out_dir.join("logs");
    // Logs of an earlier run would be mistaken for this one's.
    if logs_dir.exists() {
        std::fs::remove_dir_all(&logs_dir)
            .with_context(|| format!("clearing {}", logs_dir.display()))?;
    }
    std::fs::create_dir_all(&logs_dir)
        .with_context(|| format!("creating {}", logs_dir.display()))?;

    let config = RunConfig {
        root: root.clone(),
        logs_dir,
        jobs: usize::from(args.jobs),
        case_timeout: Duration::from_secs(args.case_timeout_s),
        interrupted: Arc::clone(&interrupted),
    };
    eprintln!(
        "interop: {} cells, --jobs {}, logs in {}",
        cells.len(),
        config.jobs,
        config.logs_dir.display()
    );
    let display = ProgressDisplay {
        terminal: std::io::stderr().is_terminal(),
    };
    let started = Instant::now();
    let show = |result: &CellResult, progress: Progress| display.show(result, progress);
    let results = match &remote {
        Some(remote) => remote::run_remote_cells(&matrix, &known, remote, &cells, &config, show),
        None => run::run_cells(&matrix, &known, &cells, &config, show),
    };
    display.finish();

    let was_interrupted = interrupted.load(Ordering::Relaxed);
    let info = RunInfo {
        selected: cells.len(),
        jobs: config.jobs,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        interrupted: was_interrupted,
        note: remote.as_ref().map(RemoteConfig::describe),
    };
    let stale = report::stale_known_failures(&known, &results);
    let files =
        report::write_reports(&out_dir, &results, &info, &stale).context("writing the reports")?;

    let counts = report::status_counts(&results);
    println!(
        "interop: {} of {} cells in {:.1} s: {}",
        results.len(),
        cells.len(),
        started.elapsed().as_secs_f64(),
        report::describe_counts(&counts)
    );
    for result in results.iter().filter(|r| r.status.is_unexpected()) {
        println!(
            "  {} {}: {}",
            result.status.name(),
            result.id,
            result.message
        );
    }
    for entry in &stale {
        println!(
            "  known failure no longer fails: {} -> {} {}: {}",
            entry.client, entry.server, entry.case, entry.why
        );
    }
    println!(
        "reports: {}, {}, {}",
        files.summary_md.display(),
        files.index_html.display(),
        files.results_json.display()
    );
    let unexpected = results.iter().filter(|r| r.status.is_unexpected()).count();
    Ok(if was_interrupted {
        eprintln!("interop: interrupted");
        ExitCode::from(130)
    } else if unexpected > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
