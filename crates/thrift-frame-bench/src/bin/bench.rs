//! `make bench` (and `make bench-smoke`): see the crate docs and README.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use thrift_frame_bench::baseline::RawTcp;
use thrift_frame_bench::cpu;
use thrift_frame_bench::measure::{self, output_throughput, ping_once, Payload};
use thrift_frame_bench::peers::{ClientCall, PeerServer, Peers};
use thrift_frame_bench::pinning::{pin_this_thread, Pinning};
use thrift_frame_bench::report::{
    self, BenchReport, LatencyRow, Machine, PassRow, Reconnect, RssRow, Sweep, SweepRow,
    ThroughputRow,
};
use thrift_frame_bench::stats::{CpuSummary, Summary};
use thrift_frame_bench::sweep::{self, Load};
use thrift_frame_bench::{callgrind, plot, reconnect};
use thrift_frame_cli::payload::{self, PayloadKind};
use thrift_frame_demo::PingClient;
use thrift_frame_harness::CommandLine;
use thrift_frame_wire::{Protocol, Transport, WireConfig};

#[derive(Parser, Debug)]
#[command(about = "Latency, throughput and reconnect benchmark across all peers (loopback)")]
struct Args {
    /// Few calls per cell: keeps the benchmark from rotting in CI, proves nothing about speed.
    #[arg(long)]
    quick: bool,
    /// Only the 1 MiB Rust ping vs raw TCP comparison (make bench-smoke).
    #[arg(long)]
    smoke: bool,
    /// Only the connection sweep (make bench-sweep); with --quick, its quick counts.
    #[arg(long)]
    sweep: bool,
    /// Where bench.json, bench.md, the plots and the peer logs go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Internal: be the raw TCP server process of the baseline.
    #[arg(long, hide = true)]
    raw_tcp_server: bool,
}

const MAX_SIZE: usize = 1 << 20;

/// The raw TCP floor in a process of its own, like the servers it is
/// compared with, on `cpu` alone when given.
fn raw_tcp_process(cpu: Option<usize>) -> Result<RawTcp> {
    let me = std::env::current_exe().context("finding the bench binary")?;
    let command = CommandLine {
        program: me,
        args: vec!["--raw-tcp-server".into()],
    };
    let command = Pinning::on_cpu(cpu, command);
    let args: Vec<&str> = command.args.iter().map(String::as_str).collect();
    Ok(RawTcp::start_process(&command.program, &args)?)
}

const SIZES: [usize; 4] = [128 << 10, 256 << 10, 512 << 10, 1 << 20];

/// Servers for the latency cells: peer, model.
const LATENCY_SERVERS: [(&str, &str); 7] = [
    ("rs", "threaded"),
    ("rs", "nonblocking"),
    ("cpp", "simple"),
    ("cpp", "threaded"),
    ("cpp", "nonblocking"),
    ("go", "simple"),
    ("py", "threaded"),
];

/// Server models that take concurrent clients, for the throughput cells.
const THROUGHPUT_SERVERS: [(&str, &str); 9] = [
    ("rs", "threaded"),
    ("rs", "pool"),
    ("rs", "nonblocking"),
    ("cpp", "threaded"),
    ("cpp", "pool"),
    ("cpp", "nonblocking"),
    ("go", "simple"),
    ("py", "threaded"),
    ("py", "pool"),
];

/// One large-payload pass: a wire, and what its payloads are made of.
#[derive(Debug, Clone, Copy)]
struct Wire {
    protocol: &'static str,
    transport: &'static str,
    payload: Payload,
    /// A pass the targets judge. In one that is not, a server that will not
    /// start (a peer's ping-server exiting 2, "unsupported") or fails a call
    /// is left out of that pass with a note instead of failing the bench.
    judged: bool,
}

impl Wire {
    const fn new(protocol: &'static str, transport: &'static str, payload: Payload) -> Wire {
        Wire {
            protocol,
            transport,
            payload,
            judged: false,
        }
    }

    const fn judged(self) -> Wire {
        Wire {
            judged: true,
            ..self
        }
    }

    fn label(&self) -> String {
        format!(
            "{}+{}, {}",
            self.protocol,
            self.transport,
            self.payload.label()
        )
    }
}

/// The large-payload passes, in the order they run: the two the targets are
/// about, then TJSONProtocol over HTTP, then TZlibTransport with a payload
/// deflate can hardly shrink and with one it shrinks to almost nothing,
/// then THeader (compact inside, an x-request-id per call).
/// The first is also the wire of the client-side cells.
const WIRES: [Wire; 6] = [
    Wire::new("compact", "buffered", Payload::Alnum).judged(),
    Wire::new("binary", "framed", Payload::Alnum).judged(),
    Wire::new("json", "http", Payload::Alnum),
    Wire::new("compact", "zlib", Payload::Alnum),
    Wire::new("compact", "zlib", Payload::Repeated),
    Wire::new("compact", "header", Payload::Alnum),
];
const CONCURRENCY: [usize; 3] = [1, 4, 16];
const CLIENTS: [&str; 4] = ["rs", "cpp", "go", "py"];
/// The client-side series: `ping` (a short reply) and `output` (a reply as
/// large as the payload).
const CLIENT_CALLS: [&str; 2] = ["ping", "output"];
/// Client side: rounds per client process, and its uncounted first rounds.
const CLIENT_CHUNK_ROUNDS: usize = 10;
const CLIENT_CHUNK_WARMUP: usize = 3;

struct Plan {
    warmup: usize,
    calls: usize,
    /// Warm-up and timed rounds of the passes no target judges. Python's
    /// pure-Python TJSONProtocol takes over a second per round of the four
    /// sizes, so these passes get fewer rounds than the judged ones.
    unjudged_warmup: usize,
    unjudged_calls: usize,
    /// How long each throughput cell runs.
    throughput_window: Duration,
    /// The connection sweep's connection counts, timed window and slices.
    sweep_connections: &'static [usize],
    sweep_window: Duration,
    sweep_slices: usize,
    restarts: usize,
    /// Warm-up and counted pings per server, wire and size under callgrind.
    callgrind_warmup: usize,
    callgrind_calls: usize,
}

fn wire_config(protocol: &str, transport: &str) -> Result<WireConfig> {
    Ok(WireConfig {
        protocol: protocol.parse::<Protocol>().map_err(anyhow::Error::msg)?,
        transport: transport.parse::<Transport>().map_err(anyhow::Error::msg)?,
        ..WireConfig::default()
    })
}

/// Why `peer`'s `model` cannot serve `transport`, if it cannot, known
/// without trying: C++'s TNonblockingServer reads frames itself, so it
/// speaks framed and header transport only (no buffered, zlib or HTTP);
/// Python serves HTTP with THttpServer, on the simple and threaded models
/// only. Anything else a peer cannot do shows when its server is started.
fn not_served(peer: &str, model: &str, transport: &str) -> Option<&'static str> {
    match (peer, model, transport) {
        ("cpp", "nonblocking", t) if t != "framed" && t != "header" => {
            Some("TNonblockingServer speaks framed and header transport only")
        }
        ("py", "pool", "http") => Some("THttpServer has no pool model"),
        ("rs", "nonblocking", t) if !["framed", "buffered", "header"].contains(&t) => {
            Some("the Rust non-blocking model serves framed, header and buffered only")
        }
        _ => None,
    }
}

fn serves(peer: &str, model: &str, transport: &str) -> bool {
    not_served(peer, model, transport).is_none()
}

/// The timed calls of one cell: each call's latency, and the server's and
/// the client's CPU time for it where there is a figure.
#[derive(Debug, Default)]
struct Cell {
    latency: Vec<Duration>,
    server_cpu: Vec<Option<Duration>>,
    client_cpu: Vec<Option<Duration>>,
}

impl Cell {
    fn push(
        &mut self,
        latency: Duration,
        server_cpu: Option<Duration>,
        client_cpu: Option<Duration>,
    ) {
        self.latency.push(latency);
        self.server_cpu.push(server_cpu);
        self.client_cpu.push(client_cpu);
    }

    /// A peer client's calls: their latencies and `cpu_ns`, no server figure.
    fn extend_client(&mut self, calls: &[ClientCall]) {
        for call in calls {
            self.push(call.latency, None, call.cpu);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn latency_row(
    client: &str,
    server: &str,
    model: &str,
    call: &str,
    wire: &Wire,
    size: usize,
    cell: &Cell,
    tcp_p50_us: f64,
) -> Result<LatencyRow> {
    let summary = Summary::of(&cell.latency).context("no samples")?;
    let server_cpu = CpuSummary::of(&cell.server_cpu);
    let client_cpu = CpuSummary::of(&cell.client_cpu);
    Ok(LatencyRow {
        client: client.into(),
        server: server.into(),
        model: model.into(),
        protocol: wire.protocol.into(),
        transport: wire.transport.into(),
        call: call.into(),
        payload: wire.payload.label().into(),
        size,
        summary,
        mb_per_s: summary.mb_per_s(size),
        ratio_to_tcp: summary.p50_us / tcp_p50_us,
        samples_us: cell.latency.iter().map(|d| d.as_secs_f64() * 1e6).collect(),
        server_cpu: server_cpu.as_ref().map(|(s, _)| *s),
        server_cpu_us: server_cpu.map(|(_, us)| us).unwrap_or_default(),
        client_cpu: client_cpu.as_ref().map(|(s, _)| *s),
        client_cpu_us: client_cpu.map(|(_, us)| us).unwrap_or_default(),
    })
}

/// A server of one large-payload pass and the Rust client calling it.
struct Target {
    server_index: usize,
    server: PeerServer,
    client: PingClient,
    /// Timed calls so far, and how many of them opened a new connection.
    timed: usize,
    retried: usize,
    /// A call failed in a pass no target judges: out of the pass.
    failed: bool,
}

impl Target {
    fn name(&self) -> String {
        let (peer, model) = LATENCY_SERVERS[self.server_index];
        format!("{peer} {model}")
    }
}

/// Starts server `server_index` of [`LATENCY_SERVERS`] for `wire`, on
/// `cpu` alone when given, with a Rust client of its own.
fn start_target(
    peers: &Peers,
    cpu: Option<usize>,
    server_index: usize,
    wire: &Wire,
) -> Result<Target> {
    let (peer, model) = LATENCY_SERVERS[server_index];
    let server = peers.start_server_on(
        cpu,
        peer,
        model,
        0,
        &["--protocol", wire.protocol, "--transport", wire.transport],
    )?;
    let client = measure::client(&server.addr(), &wire_config(wire.protocol, wire.transport)?)?;
    Ok(Target {
        server_index,
        server,
        client,
        timed: 0,
        retried: 0,
        failed: false,
    })
}

fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    Machine {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model,
        kernel,
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.raw_tcp_server {
        return Ok(thrift_frame_bench::baseline::serve_announced(MAX_SIZE)?);
    }
    let root = repo_root()?;
    let out = root.join(&args.out);
    let peers = Peers::load(&root, &out.join("logs"), Arc::new(AtomicBool::new(false)))?;
    if args.smoke {
        return smoke(&peers);
    }
    let plan = if args.quick {
        Plan {
            warmup: 3,
            calls: 20,
            unjudged_warmup: 1,
            unjudged_calls: 5,
            throughput_window: Duration::from_millis(100),
            sweep_connections: &[1, 16, 256],
            sweep_window: Duration::from_millis(200),
            sweep_slices: 4,
            restarts: 3,
            // Two warm-ups: after one, the 128 KiB count still moved by
            // 15 % between runs (allocator and buffers still settling).
            callgrind_warmup: 2,
            callgrind_calls: 3,
        }
    } else {
        Plan {
            warmup: 20,
            calls: 200,
            unjudged_warmup: 10,
            unjudged_calls: 100,
            throughput_window: Duration::from_secs(1),
            sweep_connections: &SWEEP_CONNECTIONS,
            sweep_window: Duration::from_secs(2),
            sweep_slices: 10,
            restarts: 10,
            callgrind_warmup: 3,
            callgrind_calls: 10,
        }
    };
    let started = Instant::now();
    let report = if args.sweep {
        sweep_only(&peers, &plan, args.quick)?
    } else {
        run(&peers, &plan, args.quick, &out)?
    };
    let md = report::markdown(&report);
    std::fs::write(
        out.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .context("writing bench.json")?;
    std::fs::write(out.join("bench.md"), &md).context("writing bench.md")?;
    let plots = plot::write_all(&report, &out)?;
    println!("{md}");
    println!(
        "Finished in {:.0} s. Written to {}: bench.json, bench.md, {}",
        started.elapsed().as_secs_f64(),
        out.display(),
        plots.join(", ")
    );
    Ok(())
}

/// The workspace root, so relative paths in the matrix resolve from anywhere.
fn repo_root() -> Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .join("../..")
        .canonicalize()
        .context("finding the repository root")?;
    Ok(root)
}

fn run(peers: &Peers, plan: &Plan, quick: bool, out: &Path) -> Result<BenchReport> {
    let steps = WIRES.len() * SIZES.len()
        + plan.calls.div_ceil(CLIENT_CHUNK_ROUNDS).max(1)
        + THROUGHPUT_SERVERS.len() * CONCURRENCY.len()
        + SWEEP_SERVERS.len() * plan.sweep_connections.len()
        + 2;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Per payload kind, one payload per size (the random ones drawn first,
    // so they are the same bytes as before there was a second kind).
    let payloads: BTreeMap<&str, Vec<String>> = [Payload::Alnum, Payload::Repeated]
        .into_iter()
        .map(|kind| {
            let sized = SIZES.iter().map(|&s| kind.generate(s, &mut rng)).collect();
            (kind.label(), sized)
        })
        .collect();

    // Large payloads, interleaved. Per pass (a wire and a payload, WIRES),
    // every server that serves it runs at once with a client of its own,
    // next to the raw TCP floor; each round sends one ping to each of them
    // in turn, the first one rotating, so a burst of noise on
    // this shared machine lands on every column alike instead of on whichever
    // cell happened to run during it (measured one cell after another, the
    // ratios between servers swung by 50 % from run to run).
    let pinning = Pinning::detect();
    let (client_cpu, server_cpu) = match pinning {
        Some(p) => (Some(p.client_cpu), Some(p.server_cpu)),
        None => (None, None),
    };
    // This thread is the Rust client of the latency cells.
    let pinned = client_cpu.map(pin_this_thread).transpose()?;
    let mut raw = raw_tcp_process(server_cpu)?;
    let raw_pid = raw.server_pid();
    // (wire index, size) -> raw TCP samples of that wire's pass.
    let mut tcp_samples: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    // (server index, wire index, size) -> samples.
    let mut samples: BTreeMap<(usize, usize, usize), Cell> = BTreeMap::new();
    // (peer, model) -> peak RSS in KiB: over the judged passes, over all.
    let mut rss: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut rss_any: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut passes = Vec::new();
    for (wire_index, wire) in WIRES.iter().enumerate() {
        let pass_started = Instant::now();
        let (warmup, calls) = if wire.judged {
            (plan.warmup, plan.calls)
        } else {
            (plan.unjudged_warmup, plan.unjudged_calls)
        };
        bar.set_message(format!("latency, {}: starting the servers", wire.label()));
        let mut notes = Vec::new();
        let mut targets = Vec::new();
        for (server_index, (peer, model)) in LATENCY_SERVERS.iter().copied().enumerate() {
            if let Some(why) = not_served(peer, model, wire.transport) {
                notes.push(format!("{peer} {model}: not served ({why})."));
                continue;
            }
            match start_target(peers, server_cpu, server_index, wire) {
                Ok(target) => targets.push(target),
                Err(e) if !wire.judged => {
                    notes.push(format!("{peer} {model}: left out, it did not start: {e}."));
                }
                Err(e) => return Err(e),
            }
        }
        let payloads = &payloads[wire.payload.label()];
        for (size, payload) in SIZES.iter().zip(payloads) {
            bar.set_message(format!(
                "latency, {}, {}: raw TCP and {} servers in turn",
                wire.label(),
                report::size_label(*size),
                targets.len()
            ));
            // Slot `targets.len()` is the raw TCP floor.
            let slots = targets.len() + 1;
            for round in 0..warmup + calls {
                let measured = round >= warmup;
                for k in 0..slots {
                    let slot = (round + k) % slots;
                    // Each timed call between two CPU snapshots of its
                    // server, taken while it is idle (see thrift_frame_bench::cpu).
                    if slot == targets.len() {
                        let before = raw_pid.filter(|_| measured).and_then(cpu::before_call);
                        let (t, client_cpu) =
                            cpu::on_this_thread(|| raw.exchange(payload.as_bytes()));
                        let t = t?;
                        if measured {
                            let server_cpu =
                                raw_pid.and_then(|pid| cpu::after_call(pid, before.as_ref()));
                            tcp_samples
                                .entry((wire_index, *size))
                                .or_default()
                                .push(t, server_cpu, client_cpu);
                        }
                        continue;
                    }
                    let target = &mut targets[slot];
                    if target.failed {
                        continue;
                    }
                    let reconnects = target.client.stats().reconnects;
                    let pid = target.server.pid();
                    let before = if measured {
                        cpu::before_call(pid)
                    } else {
                        None
                    };
                    let (t, client_cpu) =
                        cpu::on_this_thread(|| ping_once(&mut target.client, payload));
                    let t = match t {
                        Ok(t) => t,
                        Err(e) if !wire.judged => {
                            notes.push(format!(
                                "{}: left out, a ping of {} failed: {e}.",
                                target.name(),
                                report::size_label(*size)
                            ));
                            target.failed = true;
                            continue;
                        }
                        Err(e) => {
                            return Err(anyhow::Error::new(e)
                                .context(format!("{} at {} B", target.server.label, size)))
                        }
                    };
                    if measured {
                        let server_cpu = cpu::after_call(pid, before.as_ref());
                        target.timed += 1;
                        if target.client.stats().reconnects > reconnects {
                            target.retried += 1;
                        }
                        samples
                            .entry((target.server_index, wire_index, *size))
                            .or_default()
                            .push(t, server_cpu, client_cpu);
                    }
                }
            }
            // A server that failed leaves the pass, and its figures with it.
            for target in targets.iter().filter(|t| t.failed) {
                for s in SIZES {
                    samples.remove(&(target.server_index, wire_index, s));
                }
            }
            targets.retain(|t| !t.failed);
            bar.inc(1);
        }
        for target in &targets {
            let (peer, model) = LATENCY_SERVERS[target.server_index];
            if let Some(kib) = target.server.peak_rss_kib() {
                let key = (peer.to_string(), model.to_string());
                let mut maps = vec![&mut rss_any];
                if wire.judged {
                    maps.push(&mut rss);
                }
                for map in maps {
                    let slot = map.entry(key.clone()).or_default();
                    *slot = (*slot).max(kib);
                }
            }
            if target.retried > 0 {
                notes.push(format!(
                    "{}: {} of its {} timed calls opened a new connection on the way (a first attempt failed, or the server had closed the last one); the reconnect and any failed attempt are in their times.",
                    target.name(),
                    target.retried,
                    target.timed
                ));
            }
        }
        let servers = targets.iter().map(Target::name).collect();
        drop(targets);
        passes.push(PassRow {
            protocol: wire.protocol.into(),
            transport: wire.transport.into(),
            payload: wire.payload.label().into(),
            servers,
            warmup,
            calls,
            seconds: pass_started.elapsed().as_secs_f64(),
            notes,
        });
    }

    // The floor of each pass, labelled with that pass's wire: a server's
    // ratio is to the raw TCP calls interleaved with its own, so drift
    // between the two passes (seen: 40 %) does not enter the ratios.
    let mut baseline = Vec::new();
    let mut tcp_p50 = BTreeMap::new();
    for (wire_index, wire) in WIRES.iter().enumerate() {
        for size in SIZES {
            let empty = Cell::default();
            let row = latency_row(
                "tcp",
                "tcp",
                "-",
                "ping",
                wire,
                size,
                tcp_samples.get(&(wire_index, size)).unwrap_or(&empty),
                1.0,
            )?;
            tcp_p50.insert((wire_index, size), row.summary.p50_us);
            baseline.push(LatencyRow {
                ratio_to_tcp: 1.0,
                ..row
            });
        }
    }
    let mut latency = Vec::new();
    for (server_index, (peer, model)) in LATENCY_SERVERS.iter().copied().enumerate() {
        for (wire_index, wire) in WIRES.iter().enumerate() {
            for size in SIZES {
                if let Some(cell) = samples.get(&(server_index, wire_index, size)) {
                    latency.push(latency_row(
                        "rs",
                        peer,
                        model,
                        "ping",
                        wire,
                        size,
                        cell,
                        tcp_p50[&(wire_index, size)],
                    )?);
                }
            }
        }
    }

    // Every client against the Rust server, through each client's --json.
    // A client is a process that runs its rounds alone, so the clients take
    // turns in chunks of CLIENT_CHUNK_ROUNDS rounds (each a fresh process
    // whose first CLIENT_CHUNK_WARMUP rounds, connect included, are not
    // counted), the first one rotating: noise spreads over all of them.
    // Each client runs a ping chunk and an output chunk (replies as large
    // as the payload: its read path) in turn, which one first alternating
    // with the chunk.
    let mut client_samples: BTreeMap<(usize, usize, usize), Cell> = BTreeMap::new();
    let server = peers.start_server_on(
        server_cpu,
        "rs",
        "threaded",
        0,
        &["--protocol", "compact", "--transport", "buffered"],
    )?;
    let port = server.port.to_string();
    let sizes = "128K,256K,512K,1M";
    let rounds = (CLIENT_CHUNK_WARMUP + CLIENT_CHUNK_ROUNDS).to_string();
    let chunks = plan.calls.div_ceil(CLIENT_CHUNK_ROUNDS).max(1);
    for chunk in 0..chunks {
        bar.set_message(format!(
            "client side: every client -> rs, ping and output, chunk {}/{chunks}",
            chunk + 1
        ));
        for k in 0..CLIENTS.len() {
            let client_index = (chunk + k) % CLIENTS.len();
            for j in 0..CLIENT_CALLS.len() {
                let call_index = (chunk + j) % CLIENT_CALLS.len();
                let by_size = peers.client_latencies(
                    client_cpu,
                    CLIENTS[client_index],
                    &[
                        "--port",
                        &port,
                        "--protocol",
                        "compact",
                        "--transport",
                        "buffered",
                        "--call",
                        CLIENT_CALLS[call_index],
                        "--sizes",
                        sizes,
                        "--rounds",
                        &rounds,
                    ],
                    CLIENT_CHUNK_WARMUP as u64 + 1,
                )?;
                for (size, mine) in by_size {
                    client_samples
                        .entry((call_index, client_index, size))
                        .or_default()
                        .extend_client(&mine);
                }
            }
        }
        bar.inc(1);
    }
    drop(server);
    // Throughput is about using every CPU: unpinned from here on.
    drop(pinned);
    let mut client_side = Vec::new();
    for ((call_index, client_index, size), mine) in &client_samples {
        // Measured apart from the floor: its ratio is to the floor of the
        // compact+buffered pass (WIRES[0]), a rougher figure than the
        // servers' ratios.
        let tcp = tcp_p50.get(&(0, *size)).copied().unwrap_or(f64::NAN);
        client_side.push(latency_row(
            CLIENTS[*client_index],
            "rs",
            "threaded",
            CLIENT_CALLS[*call_index],
            &WIRES[0],
            *size,
            mine,
            tcp,
        )?);
    }

    // Instructions per call: the Rust and C++ threaded servers under
    // callgrind, with the compact+buffered pass's payloads.
    let callgrind_payloads: Vec<(usize, &str)> = SIZES
        .iter()
        .copied()
        .zip(payloads[Payload::Alnum.label()].iter().map(String::as_str))
        .collect();
    let callgrind = callgrind::run(
        peers,
        &out.join("callgrind"),
        &callgrind_payloads,
        plan.callgrind_warmup,
        plan.callgrind_calls,
        &|message| bar.set_message(message),
    );
    bar.inc(1);

    // Small calls from 1, 4 and 16 clients at once.
    let mut throughput = Vec::new();
    for (peer, model) in THROUGHPUT_SERVERS {
        let transport = if serves(peer, model, "buffered") {
            "buffered"
        } else {
            "framed"
        };
        // Pools get a worker per client: this measures the server, not its queue.
        let server = peers.start_server(
            peer,
            model,
            0,
            &[
                "--protocol",
                "compact",
                "--transport",
                transport,
                "--workers",
                "16",
            ],
        )?;
        let wire = wire_config("compact", transport)?;
        for clients in CONCURRENCY {
            bar.set_message(format!("throughput: {peer} {model} x{clients}"));
            let t = output_throughput(&server.addr(), &wire, clients, plan.throughput_window)
                .with_context(|| format!("{} with {clients} clients", server.label))?;
            throughput.push(ThroughputRow {
                server: peer.into(),
                model: model.into(),
                protocol: "compact".into(),
                transport: transport.into(),
                clients,
                calls: t.calls,
                calls_per_s: t.calls_per_s(),
                p50_us: t.latency.p50_us,
                p99_us: t.latency.p99_us,
            });
            bar.inc(1);
        }
    }

    let sweep = connection_sweep(peers, plan, &bar)?;

    bar.set_message("reconnect");
    let mut samples_ms: Vec<f64> = reconnect::recovery_times(peers, plan.restarts)?
        .iter()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    let mut sorted = samples_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ms = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    samples_ms.shrink_to_fit();
    bar.inc(1);
    bar.finish_and_clear();

    let mut report = BenchReport {
        machine: machine(),
        quick,
        warmup: plan.warmup,
        calls_per_cell: plan.calls,
        latency_cpus: pinning.map(|p| (p.client_cpu, p.server_cpu)),
        passes,
        throughput_window_ms: u64::try_from(plan.throughput_window.as_millis()).unwrap_or(u64::MAX),
        baseline,
        latency,
        client_side,
        throughput,
        reconnect: Some(Reconnect {
            samples_ms,
            median_ms,
        }),
        rss: rss
            .into_iter()
            .map(|((server, model), peak_rss_kib)| RssRow {
                peak_rss_kib_any_pass: rss_any.get(&(server.clone(), model.clone())).copied(),
                server,
                model,
                peak_rss_kib,
            })
            .collect(),
        sweep: Some(sweep),
        callgrind: Some(callgrind),
        targets: Vec::new(),
    };
    report.targets = report::check_targets(&report);
    Ok(report)
}

/// A server of the connection sweep.
struct SweepServer {
    peer: &'static str,
    /// Its `model` in the rows: the model, or a name for a variant of it.
    label: &'static str,
    model: &'static str,
    /// Flags beyond the wire.
    args: &'static [&'static str],
}

const fn sweep_server(
    peer: &'static str,
    label: &'static str,
    model: &'static str,
    args: &'static [&'static str],
) -> SweepServer {
    SweepServer {
        peer,
        label,
        model,
        args,
    }
}

/// The connection sweep's servers. The Rust non-blocking model twice: with
/// its default workers (the one the targets judge), and running every call
/// on its I/O thread (`--workers 0`), to show what the hand-off costs.
const SWEEP_SERVERS: [SweepServer; 6] = [
    sweep_server(
        "rs",
        "nonblocking",
        "nonblocking",
        &["--io-threads", "1", "--workers", "4"],
    ),
    sweep_server(
        "rs",
        "nonblocking-inline",
        "nonblocking",
        &["--io-threads", "1", "--workers", "0"],
    ),
    sweep_server("rs", "threaded", "threaded", &[]),
    sweep_server("cpp", "nonblocking", "nonblocking", &[]),
    sweep_server("cpp", "threaded", "threaded", &[]),
    sweep_server("go", "simple", "simple", &[]),
];
/// The Rust non-blocking server's --io-threads and --workers in the sweep.
const SWEEP_RS_IO_THREADS: usize = 1;
const SWEEP_RS_WORKERS: usize = 4;
const SWEEP_CONNECTIONS: [usize; 6] = [1, 16, 256, 1024, 4096, 10_000];
/// Descriptors the bench keeps for itself beyond one per connection.
const SWEEP_SPARE_DESCRIPTORS: u64 = 256;
/// Bounds on a cell's setup (all connections served once) and on the
/// calls in flight finishing after its window.
const SWEEP_SETUP_TIMEOUT: Duration = Duration::from_secs(60);
const SWEEP_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Small calls over many connections from one load generator thread (see
/// [`sweep`]): every server of [`SWEEP_SERVERS`] at every connection count,
/// the servers in rotating order within a count, each cell on a fresh
/// server. A server that fails a count is not tried at larger ones.
fn connection_sweep(peers: &Peers, plan: &Plan, bar: &ProgressBar) -> Result<Sweep> {
    let limit = sweep::raise_descriptor_limit()?;
    // The load generator (this thread) on one CPU, each server on another,
    // as in the latency cells: left to the scheduler, whether a server's
    // busiest thread shared the generator's CPU changed its calls/s by up
    // to 2x from one run to the next.
    let pinning = Pinning::detect();
    let server_cpu = pinning.map(|p| p.server_cpu);
    let _pinned = pinning.map(|p| pin_this_thread(p.client_cpu)).transpose()?;
    let mut notes = Vec::new();
    let mut failed_at: BTreeMap<usize, usize> = BTreeMap::new();
    let mut rows = Vec::new();
    for (round, &connections) in plan.sweep_connections.iter().enumerate() {
        for k in 0..SWEEP_SERVERS.len() {
            let index = (round + k) % SWEEP_SERVERS.len();
            let server = &SWEEP_SERVERS[index];
            let (peer, model) = (server.peer, server.label);
            bar.set_message(format!(
                "connection sweep: {peer} {model}, {connections} connections"
            ));
            bar.inc(1);
            let mut row = SweepRow {
                server: peer.into(),
                model: model.into(),
                connections,
                error: None,
                calls: 0,
                calls_per_s: 0.0,
                slice_calls_per_s: Vec::new(),
                p50_us: 0.0,
                p99_us: 0.0,
                threads: None,
                rss_kib: None,
                peak_rss_kib: None,
                samples_us: Vec::new(),
            };
            if let Some(fewer) = failed_at.get(&index) {
                row.error = Some(format!("not tried: failed at {fewer} connections"));
                rows.push(row);
                continue;
            }
            if connections as u64 + SWEEP_SPARE_DESCRIPTORS > limit {
                row.error = Some(format!("not tried: the descriptor limit is {limit}"));
                rows.push(row);
                continue;
            }
            if let Err(e) = sweep_cell(peers, plan, server_cpu, server, &mut row) {
                row.error = Some(format!("{e}"));
                failed_at.insert(index, connections);
                notes.push(format!(
                    "{peer} {model} failed at {connections} connections: {e}"
                ));
            }
            rows.push(row);
        }
    }
    rows.sort_by_key(|r| {
        let index = SWEEP_SERVERS
            .iter()
            .position(|s| (s.peer, s.label) == (r.server.as_str(), r.model.as_str()));
        (index, r.connections)
    });
    Ok(Sweep {
        window_ms: u64::try_from(plan.sweep_window.as_millis()).unwrap_or(u64::MAX),
        slices: plan.sweep_slices,
        rs_io_threads: SWEEP_RS_IO_THREADS,
        rs_workers: SWEEP_RS_WORKERS,
        rows,
        notes,
    })
}

/// A report of the connection sweep alone.
fn sweep_only(peers: &Peers, plan: &Plan, quick: bool) -> Result<BenchReport> {
    let bar = ProgressBar::new((SWEEP_SERVERS.len() * plan.sweep_connections.len()) as u64);
    let sweep = connection_sweep(peers, plan, &bar)?;
    bar.finish_and_clear();
    let mut report = BenchReport {
        machine: machine(),
        quick,
        warmup: 0,
        calls_per_cell: 0,
        throughput_window_ms: 0,
        latency_cpus: None,
        passes: Vec::new(),
        baseline: Vec::new(),
        latency: Vec::new(),
        client_side: Vec::new(),
        throughput: Vec::new(),
        reconnect: None,
        rss: Vec::new(),
        sweep: Some(sweep),
        callgrind: None,
        targets: Vec::new(),
    };
    report.targets = report::check_targets(&report);
    Ok(report)
}

/// One sweep cell into `row`; the server is stopped when it returns.
fn sweep_cell(
    peers: &Peers,
    plan: &Plan,
    cpu: Option<usize>,
    sweep_server: &SweepServer,
    row: &mut SweepRow,
) -> Result<()> {
    let args = [
        &["--protocol", "binary", "--transport", "framed"][..],
        sweep_server.args,
    ]
    .concat();
    let mut server = peers.start_server_on(cpu, sweep_server.peer, sweep_server.model, 0, &args)?;
    let addr: std::net::SocketAddr = server.addr().parse().context("the server's address")?;
    // Every error here says what failed in its own message (its source
    // included), so the cell's error is its Display, not its chain.
    let died = |server: &mut PeerServer, e: anyhow::Error| match server.exited() {
        Some(how) => anyhow::anyhow!("{e}; the server ended ({how})"),
        None => e,
    };
    let mut load = match Load::connect(addr, row.connections, Instant::now() + SWEEP_SETUP_TIMEOUT)
    {
        Ok(load) => load,
        Err(e) => return Err(died(&mut server, e.into())),
    };
    let window = match load.measure(
        plan.sweep_window,
        plan.sweep_slices,
        Instant::now() + plan.sweep_window + SWEEP_DRAIN_TIMEOUT,
    ) {
        Ok(window) => window,
        Err(e) => return Err(died(&mut server, e.into())),
    };
    row.threads = server.threads();
    row.rss_kib = server.rss_kib();
    row.peak_rss_kib = server.peak_rss_kib();
    row.calls = window.calls;
    row.calls_per_s = window.calls_per_s();
    row.slice_calls_per_s = window.slice_calls_per_s.clone();
    row.p50_us = window.latency.p50_us;
    row.p99_us = window.latency.p99_us;
    row.samples_us = window.samples_us;
    drop(load);
    Ok(())
}

/// `make bench-smoke`: the `ping-server` process and the Rust client at
/// 1 MiB (compact, buffered) next to raw TCP, interleaved call by call.
fn smoke(peers: &Peers) -> Result<()> {
    const WARMUP: usize = 20;
    const CALLS: usize = 200;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let msg = payload::generate(PayloadKind::Alnum, MAX_SIZE, &mut rng);
    let server = peers.start_server(
        "rs",
        "threaded",
        0,
        &["--protocol", "compact", "--transport", "buffered"],
    )?;
    let mut client = measure::client(&server.addr(), &wire_config("compact", "buffered")?)?;
    let mut raw_process = raw_tcp_process(None)?;
    let mut raw_thread = RawTcp::start(MAX_SIZE)?;
    // Interleaved so a burst of noise on the machine hits every side alike.
    let (mut process_t, mut thread_t, mut thrift_t) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..WARMUP + CALLS {
        let p = raw_process.exchange(msg.as_bytes())?;
        let t = raw_thread.exchange(msg.as_bytes())?;
        let rpc = ping_once(&mut client, &msg)?;
        if i >= WARMUP {
            process_t.push(p);
            thread_t.push(t);
            thrift_t.push(rpc);
        }
    }
    let p50 = |s: &[Duration]| Summary::of(s).map(|s| s.p50_us).context("no samples");
    let (process_p50, thread_p50, thrift_p50) =
        (p50(&process_t)?, p50(&thread_t)?, p50(&thrift_t)?);
    println!("1 MiB round trip on loopback, median of {CALLS} after {WARMUP} warm-up calls, interleaved:");
    println!(
        "  raw TCP, server in its own process       {:>8.3} ms",
        process_p50 / 1e3
    );
    println!(
        "  raw TCP, server on a thread of this one  {:>8.3} ms",
        thread_p50 / 1e3
    );
    println!(
        "  ping-server + Rust client, compact+buffered {:>5.3} ms",
        thrift_p50 / 1e3
    );
    println!(
        "  ratio thrift / raw TCP (own process)     {:>8.2}x  (target <= 2.00x; vs thread: {:.2}x)",
        thrift_p50 / process_p50,
        thrift_p50 / thread_p50
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(wire: &Wire) -> (&str, &str, &str) {
        (wire.protocol, wire.transport, wire.payload.label())
    }

    #[test]
    fn the_judged_passes_are_the_two_the_targets_name() {
        let judged: Vec<_> = WIRES.iter().filter(|w| w.judged).map(key).collect();
        assert_eq!(
            judged,
            [
                ("compact", "buffered", "alnum"),
                ("binary", "framed", "alnum")
            ]
        );
        // The client-side cells and their floor use the first pass.
        assert_eq!(key(&WIRES[0]), ("compact", "buffered", "alnum"));
        for wire in WIRES {
            wire_config(wire.protocol, wire.transport).expect("a wire the Rust client speaks");
        }
        let zlib: Vec<_> = WIRES.iter().filter(|w| w.transport == "zlib").collect();
        assert_eq!(zlib.len(), 2);
        assert_ne!(zlib[0].payload, zlib[1].payload);
    }

    #[test]
    fn the_sweep_servers_are_told_apart_and_the_judged_one_has_the_stated_threads() {
        let mut names: Vec<_> = SWEEP_SERVERS.iter().map(|s| (s.peer, s.label)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            SWEEP_SERVERS.len(),
            "two sweep servers share a row name"
        );
        let judged = SWEEP_SERVERS
            .iter()
            .find(|s| (s.peer, s.label) == ("rs", "nonblocking"))
            .expect("the targets' server");
        let flag = |name: &str| {
            let at = judged.args.iter().position(|a| *a == name).expect(name);
            judged.args[at + 1].parse::<usize>().expect("a number")
        };
        assert_eq!(flag("--io-threads"), SWEEP_RS_IO_THREADS);
        assert_eq!(flag("--workers"), SWEEP_RS_WORKERS);
        for s in &SWEEP_SERVERS {
            assert!(serves(s.peer, s.model, "framed"), "{} {}", s.peer, s.label);
        }
    }

    #[test]
    fn what_each_server_model_serves() {
        assert!(serves("cpp", "nonblocking", "framed"));
        assert!(serves("cpp", "nonblocking", "header"));
        assert!(serves("rs", "nonblocking", "header"));
        for transport in ["buffered", "zlib", "http"] {
            assert!(!serves("cpp", "nonblocking", transport), "{transport}");
        }
        assert!(!serves("py", "pool", "http"));
        assert!(serves("py", "pool", "zlib"));
        for (peer, model) in [("py", "threaded"), ("py", "simple"), ("go", "simple")] {
            assert!(serves(peer, model, "http"), "{peer} {model}");
        }
        for (peer, model) in LATENCY_SERVERS {
            assert!(serves(peer, model, "framed"), "{peer} {model}");
        }
    }
}
