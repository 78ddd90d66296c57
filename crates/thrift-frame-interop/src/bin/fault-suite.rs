//! `fault-suite`: real peers in network namespaces of its own (client,
//! router, server), faults in the router (blackhole, half-open connection,
//! bandwidth limit): interop/SPEC.md "Fault suite". Needs root, `ip`,
//! `tc`, `ss` and iptables. Reports under target/faults/.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::Parser;
use thrift_frame_harness as process;
use thrift_frame_interop::faults::report::{self, RunInfo};
use thrift_frame_interop::faults::{self, FaultCase, FaultCell, Status, SuiteConfig};
use thrift_frame_interop::model::Matrix;
use thrift_frame_interop::netns;

/// Runs the fault cases (blackhole_stream, half_open, put_blackhole,
/// outage_recovery) for every client against the Rust server and the Rust
/// client against every other server, each cell in three network
/// namespaces of its own; writes target/faults/{results.json,summary.md}
/// and logs/. Exits 1 if a cell of a required case (all but
/// outage_recovery) did not pass.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Client peers (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    client: Vec<String>,
    /// Server peers (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    server: Vec<String>,
    /// Cases (comma list; default all).
    #[arg(long, value_delimiter = ',')]
    case: Vec<String>,
    /// Cells run at once, each in its own namespaces.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    jobs: u16,
    /// Seed of outage_recovery's outage lengths.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Time limit of one cell, in seconds.
    #[arg(long, default_value_t = 120)]
    case_timeout_s: u64,
    /// Repository root (default: the nearest directory upwards with interop/matrix.toml).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Where results.json, summary.md and logs/ go (default: target/faults under the root).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the selected cells and exit.
    #[arg(long)]
    list: bool,
}

const MATRIX_FILE: &str = "interop/matrix.toml";

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
        .with_context(|| format!("no {MATRIX_FILE} in {} or above", here.display()))
}

fn selected_cases(names: &[String]) -> Result<Vec<FaultCase>> {
    if names.is_empty() {
        return Ok(FaultCase::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            FaultCase::from_name(name).with_context(|| {
                let known: Vec<_> = FaultCase::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "--case: unknown case `{name}` (known: {})",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// Fails early, with the build command, when a needed binary is missing.
fn check_binaries(matrix: &Matrix, cells: &[FaultCell], root: &Path) -> Result<()> {
    let mut missing = Vec::new();
    for peer in &matrix.peers {
        let as_client = cells.iter().any(|c| c.client == peer.name);
        let as_server = cells.iter().any(|c| c.server == peer.name);
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

/// Root, and the tools the topology needs.
fn check_environment() -> Result<()> {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the fault suite makes network namespaces: run it as root");
    }
    for tool in ["ip", "tc", "ss", "iptables-nft", "iptables-legacy"] {
        let found = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
            .unwrap_or(false);
        if !found {
            bail!("`{tool}` not found: `make fault-test` installs iproute2 and iptables");
        }
    }
    Ok(())
}

fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let root = find_root(args.root.clone())?;
    let matrix = Matrix::load(&root.join(MATRIX_FILE)).context("loading the peers")?;
    let peers: Vec<&str> = matrix.peers.iter().map(|p| p.name.as_str()).collect();
    for name in args.client.iter().chain(&args.server) {
        if !peers.contains(&name.as_str()) {
            bail!("unknown peer `{name}` (known: {})", peers.join(", "));
        }
    }
    let cases = selected_cases(&args.case)?;
    let cells = faults::cells(&peers, &cases, &args.client, &args.server);
    if args.list {
        for cell in &cells {
            println!("{}", cell.id());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cells.is_empty() {
        bail!("the selection has no cells");
    }
    check_environment()?;
    check_binaries(&matrix, &cells, &root)?;

    // The first signal stops the cells, which then remove their namespaces
    // and processes; a second one ends the suite at once (the next run
    // removes what is left: netns::remove_stale).
    let interrupted = process::interrupt_flag().context("installing signal handlers")?;

    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/faults"));
    let logs_dir = out_dir.join("logs");
    std::fs::create_dir_all(&logs_dir)
        .with_context(|| format!("creating {}", logs_dir.display()))?;
    let stale = netns::remove_stale(&logs_dir.join("stale-netns.log"))
        .context("removing namespaces left by earlier runs")?;
    if !stale.is_empty() {
        eprintln!(
            "faults: removed {} namespaces left by an earlier run: {}",
            stale.len(),
            stale.join(", ")
        );
    }

    let jobs = usize::from(args.jobs);
    let config = SuiteConfig {
        root: root.clone(),
        logs_dir,
        jobs,
        seed: args.seed,
        case_timeout: Duration::from_secs(args.case_timeout_s),
        interrupted: Arc::clone(&interrupted),
    };
    eprintln!(
        "faults: {} cells, {jobs} at a time, outage seed {}",
        cells.len(),
        args.seed
    );
    let started = Instant::now();
    let started_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let total = cells.len();
    let mut done = 0;
    let results = faults::run_cells(&matrix, &cells, &config, |result| {
        done += 1;
        eprintln!(
            "[{done:>2}/{total}] {:<8} {:<28} {:>5.1} s  {}",
            result.status.name(),
            result.id,
            result.duration_ms as f64 / 1000.0,
            thrift_frame_harness::shorten(&result.message, 160)
        );
    });
    let was_interrupted = interrupted.load(Ordering::Relaxed);
    let info = RunInfo {
        started_unix_s,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        jobs,
        seed: args.seed,
        interrupted: was_interrupted,
        stale_removed: stale,
    };
    let [json, markdown] =
        report::write_reports(&out_dir, &results, &info).context("writing the reports")?;
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    let failing: Vec<&str> = results
        .iter()
        .filter(|r| r.fails_the_run())
        .map(|r| r.id.as_str())
        .collect();
    eprintln!(
        "faults: {passed}/{} cells pass in {:.1} s; {} and {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        json.display(),
        markdown.display()
    );
    Ok(if was_interrupted {
        eprintln!("faults: interrupted");
        ExitCode::from(130)
    } else if !failing.is_empty() {
        eprintln!(
            "faults: {} required cell(s) failed: {}",
            failing.len(),
            failing.join(", ")
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
