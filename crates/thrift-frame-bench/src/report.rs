//! Everything one run measured: bench.json, the Markdown table and the
//! verdict on each target, all computed from the same figures.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::measure::THROUGHPUT_WARMUP_CALLS;
use crate::stats::{median_ratio_interval, quantile_ratio_interval, CpuSummary, Summary};

/// One latency cell: `client` calling `call` (`ping`, or `output`, whose
/// reply echoes the payload) on `server` with `size` bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyRow {
    pub client: String,
    pub server: String,
    pub model: String,
    pub protocol: String,
    pub transport: String,
    /// `ping` (a short reply) or `output` (a reply as large as the
    /// payload). Files from before the field are all `ping`.
    #[serde(default = "ping")]
    pub call: String,
    /// What the payload was made of: `alnum` (random `[A-Za-z0-9]`) or
    /// `repeated` (one sentence over and over). Files from before the field
    /// are all `alnum`.
    #[serde(default = "alnum")]
    pub payload: String,
    pub size: usize,
    #[serde(flatten)]
    pub summary: Summary,
    pub mb_per_s: f64,
    /// p50 divided by the raw TCP p50 at the same size.
    pub ratio_to_tcp: f64,
    /// Every timed call, in microseconds: what the targets' intervals are
    /// computed from. Not in bench.json (the percentiles are).
    #[serde(skip)]
    pub samples_us: Vec<f64>,
    /// The server process's CPU time per call (see [`crate::cpu`]): in the
    /// large-payload cells and the raw TCP floor's; absent where it was not
    /// measured (client-side cells, files from before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu: Option<CpuSummary>,
    /// The client's CPU time per call: the bench thread's for the Rust
    /// client of the large-payload cells (and the floor's client), the
    /// `cpu_ns` of each call record for the peers' clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpu: Option<CpuSummary>,
    /// Every figure behind `server_cpu` and `client_cpu`, in microseconds,
    /// for the intervals. Not in bench.json.
    #[serde(skip)]
    pub server_cpu_us: Vec<f64>,
    #[serde(skip)]
    pub client_cpu_us: Vec<f64>,
}

fn alnum() -> String {
    "alnum".into()
}

fn ping() -> String {
    "ping".into()
}

/// One interleaved pass of the large-payload cells: one wire, one payload,
/// every server that serves it next to its own raw TCP floor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PassRow {
    pub protocol: String,
    pub transport: String,
    pub payload: String,
    /// The servers measured to the end, as "peer model".
    pub servers: Vec<String>,
    pub warmup: usize,
    pub calls: usize,
    /// Wall time of the pass, starting the servers included.
    pub seconds: f64,
    /// Servers left out (not served, would not start, failed a call) and
    /// anything else that shaped the figures, one sentence each.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputRow {
    pub server: String,
    pub model: String,
    pub protocol: String,
    pub transport: String,
    pub clients: usize,
    pub calls: usize,
    pub calls_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RssRow {
    pub server: String,
    pub model: String,
    /// Over the compact+buffered and binary+framed passes, as in files from
    /// before there were more.
    pub peak_rss_kib: u64,
    /// Over every large-payload pass (JSON and zlib included).
    #[serde(default)]
    pub peak_rss_kib_any_pass: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reconnect {
    pub samples_ms: Vec<f64>,
    pub median_ms: f64,
}

/// One cell of the connection sweep: `connections` held to one server,
/// each calling `output("hi")` (binary+framed) in a closed loop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRow {
    pub server: String,
    pub model: String,
    pub connections: usize,
    /// Why the cell has no figures: the server would not take the
    /// connections, failed a call, died, or failed at fewer connections.
    pub error: Option<String>,
    /// Calls completed in the window.
    pub calls: u64,
    pub calls_per_s: f64,
    /// Calls per second in each slice of the window.
    pub slice_calls_per_s: Vec<f64>,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Server threads and resident memory right after the window, every
    /// connection still open and idle.
    pub threads: Option<u64>,
    pub rss_kib: Option<u64>,
    /// Peak resident memory of the server over the cell (it starts fresh
    /// for each cell).
    pub peak_rss_kib: Option<u64>,
    /// A uniform sample of the window's latencies in microseconds, for the
    /// p99 target's interval. Not in bench.json.
    #[serde(skip)]
    pub samples_us: Vec<f64>,
}

/// The connection sweep: how each server model scales with connections.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sweep {
    /// The timed window of each cell and the slices it is cut into.
    pub window_ms: u64,
    pub slices: usize,
    /// The Rust non-blocking server's I/O threads and workers.
    pub rs_io_threads: usize,
    pub rs_workers: usize,
    pub rows: Vec<SweepRow>,
    pub notes: Vec<String>,
}

impl Sweep {
    /// The row of `server` `model` at `connections`, if it has figures.
    pub fn cell(&self, server: &str, model: &str, connections: usize) -> Option<&SweepRow> {
        self.rows.iter().find(|r| {
            r.server == server
                && r.model == model
                && r.connections == connections
                && r.error.is_none()
        })
    }
}

/// What a run says about a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    Missed,
    /// The 95 % interval of the ratio straddles the threshold: the
    /// difference is within this run's noise, so the run cannot tell.
    WithinNoise,
    /// The run has no figure to judge by (a client that reports no
    /// `cpu_ns`, callgrind that could not run): shown, not judged.
    NotMeasured,
}

impl Verdict {
    /// `ratio` against `threshold` (lower is better), judged on the 95 %
    /// interval when there is one, else on the point estimate.
    fn of_ratio(ratio: f64, interval: Option<(f64, f64)>, threshold: f64) -> Verdict {
        match interval {
            Some((_, hi)) if hi <= threshold => Verdict::Met,
            Some((lo, _)) if lo > threshold => Verdict::Missed,
            Some(_) => Verdict::WithinNoise,
            None if ratio <= threshold => Verdict::Met,
            None => Verdict::Missed,
        }
    }

    /// `ratio` against `threshold` where higher is better.
    fn of_higher_ratio(ratio: f64, interval: Option<(f64, f64)>, threshold: f64) -> Verdict {
        match interval {
            Some((lo, _)) if lo >= threshold => Verdict::Met,
            Some((_, hi)) if hi < threshold => Verdict::Missed,
            Some(_) => Verdict::WithinNoise,
            None if ratio >= threshold => Verdict::Met,
            None => Verdict::Missed,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "yes",
            Verdict::Missed => "**no**",
            Verdict::WithinNoise => "within noise",
            Verdict::NotMeasured => "not measured",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// 95 % bootstrap interval of the measured ratio, where it is one.
    pub interval_95: Option<(f64, f64)>,
    pub verdict: Verdict,
    /// A latency target the latencies leave within noise (both servers at
    /// the raw TCP floor, say) is decided by the servers' CPU per call on
    /// the same comparison: that figure, whose verdict is then `verdict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_decides: Option<CpuDecision>,
}

/// The CPU-per-call comparison that decided a latency target (see
/// [`TargetCheck::cpu_decides`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuDecision {
    pub ratio: f64,
    pub interval_95: Option<(f64, f64)>,
    pub verdict: Verdict,
}

impl TargetCheck {
    /// What bench.md's verdict column says: the verdict, and for a target
    /// CPU decided, how (`within noise; CPU decides: yes (0.71x, 0.65-0.78x)`).
    pub fn verdict_text(&self) -> String {
        match &self.cpu_decides {
            None => self.verdict.label().to_string(),
            Some(cpu) => format!(
                "within noise; CPU decides: {} ({:.2}x{})",
                cpu.verdict.label(),
                cpu.ratio,
                cpu.interval_95
                    .map(|(lo, hi)| format!(", {lo:.2}-{hi:.2}x"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Bootstrap resamples per interval: enough for stable 2.5/97.5 percentiles.
const RESAMPLES: usize = 2000;

/// A ratio-of-medians target: `top` p50 / `bottom` p50 against `threshold`.
fn ratio_check(
    target: String,
    top: &LatencyRow,
    bottom: &LatencyRow,
    threshold: f64,
) -> TargetCheck {
    let ratio = top.summary.p50_us / bottom.summary.p50_us;
    let interval = median_ratio_interval(&top.samples_us, &bottom.samples_us, RESAMPLES, 17);
    TargetCheck {
        target,
        measured: format!("{ratio:.2}x"),
        interval_95: interval,
        verdict: Verdict::of_ratio(ratio, interval, threshold),
        cpu_decides: None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub machine: Machine,
    pub quick: bool,
    pub warmup: usize,
    pub calls_per_cell: usize,
    /// How long each throughput cell ran, after THROUGHPUT_WARMUP_CALLS
    /// warm-up calls per client.
    pub throughput_window_ms: u64,
    /// The latency cells' (client CPU, server CPU), if they were pinned.
    pub latency_cpus: Option<(usize, usize)>,
    /// The large-payload passes in the order they ran (absent from files
    /// written before there were more than two).
    #[serde(default)]
    pub passes: Vec<PassRow>,
    /// Raw TCP, one row per size and pass (client and server "tcp"; the
    /// protocol, transport and payload say which pass it was interleaved
    /// with; the floor carries that pass's payload bytes unchanged).
    pub baseline: Vec<LatencyRow>,
    /// The Rust client against every server.
    pub latency: Vec<LatencyRow>,
    /// Every peer's client against the Rust server.
    pub client_side: Vec<LatencyRow>,
    pub throughput: Vec<ThroughputRow>,
    pub reconnect: Option<Reconnect>,
    pub rss: Vec<RssRow>,
    /// The connection sweep (absent from files written before it).
    #[serde(default)]
    pub sweep: Option<Sweep>,
    /// Instructions per call under callgrind (absent from files written
    /// before it, and from a run of the sweep alone).
    #[serde(default)]
    pub callgrind: Option<Callgrind>,
    pub targets: Vec<TargetCheck>,
}

/// Instructions one server executed per call under callgrind, on one wire
/// at one size (see [`crate::callgrind`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstructionsRow {
    pub server: String,
    pub model: String,
    pub protocol: String,
    pub transport: String,
    pub size: usize,
    /// Counted calls (after the warm-up ones).
    pub calls: usize,
    /// Instructions (callgrind's `Ir`) of the server process over the
    /// counted calls: every thread, user space only.
    pub instructions: u64,
}

impl InstructionsRow {
    pub fn per_call(&self) -> f64 {
        self.instructions as f64 / self.calls.max(1) as f64
    }
}

/// The callgrind section: which servers ran, how many calls, and the rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Callgrind {
    /// Warm-up and counted pings per server, wire and size.
    pub warmup: usize,
    pub calls: usize,
    /// Wall time of the section, starting the servers included.
    pub seconds: f64,
    pub rows: Vec<InstructionsRow>,
    /// Servers or cells without figures, and why.
    pub notes: Vec<String>,
}

impl Callgrind {
    /// The row of `server` `model` on `protocol`+`transport` at `size`.
    pub fn cell(
        &self,
        server: &str,
        model: &str,
        wire: (&str, &str),
        size: usize,
    ) -> Option<&InstructionsRow> {
        self.rows.iter().find(|r| {
            r.server == server
                && r.model == model
                && (r.protocol.as_str(), r.transport.as_str()) == wire
                && r.size == size
        })
    }
}

/// The `ping` row of `client` -> `server` `model` on `pass` (protocol,
/// transport, payload) at `size`.
fn find<'a>(
    rows: &'a [LatencyRow],
    client: &str,
    server: &str,
    model: &str,
    pass: (&str, &str, &str),
    size: usize,
) -> Option<&'a LatencyRow> {
    find_call(rows, "ping", client, server, model, pass, size)
}

/// [`find`] for the row of `call` (`ping` or `output`).
fn find_call<'a>(
    rows: &'a [LatencyRow],
    call: &str,
    client: &str,
    server: &str,
    model: &str,
    pass: (&str, &str, &str),
    size: usize,
) -> Option<&'a LatencyRow> {
    rows.iter().find(|r| {
        r.call == call
            && r.client == client
            && r.server == server
            && r.model == model
            && r.protocol == pass.0
            && r.transport == pass.1
            && r.payload == pass.2
            && r.size == size
    })
}

/// Which figure of two rows a ratio target compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    Latency,
    ServerCpu,
    ClientCpu,
}

impl Figure {
    /// `row`'s median and samples of this figure; `None` if it has none.
    fn of(self, row: &LatencyRow) -> Option<(f64, &[f64])> {
        match self {
            Figure::Latency => Some((row.summary.p50_us, &row.samples_us)),
            Figure::ServerCpu => row.server_cpu.map(|c| (c.p50_us, &row.server_cpu_us[..])),
            Figure::ClientCpu => row.client_cpu.map(|c| (c.p50_us, &row.client_cpu_us[..])),
        }
    }

    /// The ratio of `top`'s median to `bottom`'s, with its 95 % bootstrap
    /// interval when both have samples; `None` if either has no figure.
    fn ratio(self, top: &LatencyRow, bottom: &LatencyRow) -> Option<(f64, Option<(f64, f64)>)> {
        let (top_p50, top_samples) = self.of(top)?;
        let (bottom_p50, bottom_samples) = self.of(bottom)?;
        if bottom_p50 <= 0.0 {
            return None;
        }
        let interval = median_ratio_interval(top_samples, bottom_samples, RESAMPLES, 17);
        Some((top_p50 / bottom_p50, interval))
    }
}

/// A ratio-of-medians target on `figure`; "not measured" when a side has
/// no such figure.
fn figure_check(
    target: String,
    figure: Figure,
    top: &LatencyRow,
    bottom: &LatencyRow,
    threshold: f64,
) -> TargetCheck {
    match figure.ratio(top, bottom) {
        Some((ratio, interval)) => TargetCheck {
            target,
            measured: format!("{ratio:.2}x"),
            interval_95: interval,
            verdict: Verdict::of_ratio(ratio, interval, threshold),
            cpu_decides: None,
        },
        None => TargetCheck {
            target,
            measured: "no figure".into(),
            interval_95: None,
            verdict: Verdict::NotMeasured,
            cpu_decides: None,
        },
    }
}

/// "Rust server p50 below C++'s": on the latencies; when they leave it
/// within noise, the servers' CPU per call on the same comparison decides
/// (the verdict becomes the CPU figure's, and the check says so).
fn latency_or_cpu_check(target: String, rs: &LatencyRow, them: &LatencyRow) -> TargetCheck {
    let mut check = figure_check(target, Figure::Latency, rs, them, 1.0);
    if check.verdict == Verdict::WithinNoise {
        if let Some((ratio, interval)) = Figure::ServerCpu.ratio(rs, them) {
            let verdict = Verdict::of_ratio(ratio, interval, 1.0);
            check.verdict = verdict;
            check.cpu_decides = Some(CpuDecision {
                ratio,
                interval_95: interval,
                verdict,
            });
        }
    }
    check
}

/// The issue's targets, judged on this run's figures (ratios, never
/// absolutes). Only compact+buffered and binary+framed with the random
/// payload have targets; the other passes are reported, not judged.
pub fn check_targets(report: &BenchReport) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    let cb = ("compact", "buffered", "alnum");
    let mut sizes: Vec<usize> = report.baseline.iter().map(|r| r.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    if let Some(&largest) = sizes.last() {
        let rs = find(&report.latency, "rs", "rs", "threaded", cb, largest);
        // The floor measured in the same pass as the Rust server's calls.
        let tcp = find(&report.baseline, "tcp", "tcp", "-", cb, largest);
        if let (Some(rs), Some(tcp)) = (rs, tcp) {
            checks.push(ratio_check(
                format!("Rust server p50 at {} <= 1.5x raw TCP", size_label(largest)),
                rs,
                tcp,
                1.5,
            ));
        }
    }
    let judged = [cb, ("binary", "framed", "alnum")];
    for wire in judged {
        for (other, model) in [("cpp", "threaded"), ("go", "simple")] {
            for &size in &sizes {
                let rs = find(&report.latency, "rs", "rs", "threaded", wire, size);
                let them = find(&report.latency, "rs", other, model, wire, size);
                if let (Some(rs), Some(them)) = (rs, them) {
                    let target = format!(
                        "Rust server p50 < {other} {model} p50, {} {}+{}",
                        size_label(size),
                        wire.0,
                        wire.1
                    );
                    checks.push(if other == "cpp" {
                        latency_or_cpu_check(target, rs, them)
                    } else {
                        ratio_check(target, rs, them, 1.0)
                    });
                }
            }
        }
    }
    for wire in judged {
        for &size in &sizes {
            let rs = find(&report.latency, "rs", "rs", "threaded", wire, size);
            let cpp = find(&report.latency, "rs", "cpp", "threaded", wire, size);
            if let (Some(rs), Some(cpp)) = (rs, cpp) {
                let target = format!(
                    "Rust threaded server CPU per call <= 0.8x C++ threaded's, {} {}+{}",
                    size_label(size),
                    wire.0,
                    wire.1
                );
                checks.push(figure_check(target, Figure::ServerCpu, rs, cpp, 0.8));
            }
        }
    }
    if let Some(callgrind) = &report.callgrind {
        instruction_targets(callgrind, &sizes, &mut checks);
    }
    for &size in &sizes {
        let rs = find(&report.client_side, "rs", "rs", "threaded", cb, size);
        let cpp = find(&report.client_side, "cpp", "rs", "threaded", cb, size);
        if let (Some(rs), Some(cpp)) = (rs, cpp) {
            let target = format!(
                "Rust client p50 <= C++ client p50 against the Rust server, {}",
                size_label(size)
            );
            checks.push(ratio_check(target, rs, cpp, 1.0));
        }
    }
    for call in ["ping", "output"] {
        for &size in &sizes {
            let rs = find_call(&report.client_side, call, "rs", "rs", "threaded", cb, size);
            let cpp = find_call(&report.client_side, call, "cpp", "rs", "threaded", cb, size);
            if let (Some(rs), Some(cpp)) = (rs, cpp) {
                let target = format!(
                    "Rust client CPU per call <= C++ client's against the Rust server, {call}, {}",
                    size_label(size)
                );
                checks.push(figure_check(target, Figure::ClientCpu, rs, cpp, 1.0));
            }
        }
    }
    if let Some(sweep) = &report.sweep {
        sweep_targets(sweep, &mut checks);
    }
    for wire in [cb, ("binary", "framed", "alnum")] {
        let Some(&largest) = sizes.last() else { break };
        let rs = find(&report.latency, "rs", "rs", "nonblocking", wire, largest);
        let tcp = find(&report.baseline, "tcp", "tcp", "-", wire, largest);
        if let (Some(rs), Some(tcp)) = (rs, tcp) {
            let target = format!(
                "Rust nonblocking server p50 at {} <= 1.3x raw TCP, {}+{}",
                size_label(largest),
                wire.0,
                wire.1
            );
            checks.push(ratio_check(target, rs, tcp, 1.3));
        }
    }
    if let Some(reconnect) = &report.reconnect {
        checks.push(TargetCheck {
            target: "first successful call within 50 ms of the server accepting (median)".into(),
            measured: format!("{:.1} ms", reconnect.median_ms),
            interval_95: None,
            cpu_decides: None,
            verdict: if reconnect.median_ms <= 50.0 {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        });
    }
    checks
}

/// Callgrind instructions per call, Rust threaded server <= 0.8x C++
/// threaded's on both judged wires at every size of the run: a plain
/// ratio (the counts do not depend on the machine's noise). A cell
/// without both figures is "not measured".
fn instruction_targets(callgrind: &Callgrind, sizes: &[usize], checks: &mut Vec<TargetCheck>) {
    for wire in [("compact", "buffered"), ("binary", "framed")] {
        for &size in sizes {
            let target = format!(
                "Rust threaded server instructions per call (callgrind) <= 0.8x C++ threaded's, {} {}+{}",
                size_label(size),
                wire.0,
                wire.1
            );
            let rs = callgrind.cell("rs", "threaded", wire, size);
            let cpp = callgrind.cell("cpp", "threaded", wire, size);
            checks.push(match (rs, cpp) {
                (Some(rs), Some(cpp)) if cpp.instructions > 0 => {
                    let ratio = rs.per_call() / cpp.per_call();
                    TargetCheck {
                        target,
                        measured: format!("{ratio:.2}x"),
                        interval_95: None,
                        verdict: Verdict::of_ratio(ratio, None, 0.8),
                        cpu_decides: None,
                    }
                }
                _ => TargetCheck {
                    target,
                    measured: "no figure".into(),
                    interval_95: None,
                    verdict: Verdict::NotMeasured,
                    cpu_decides: None,
                },
            });
        }
    }
}

/// The non-blocking model's targets in the connection sweep.
fn sweep_targets(sweep: &Sweep, checks: &mut Vec<TargetCheck>) {
    let nb = ("rs", "nonblocking");
    // Held connections: at the most the sweep reached.
    if let Some(most) = sweep
        .rows
        .iter()
        .filter(|r| (r.server.as_str(), r.model.as_str()) == nb)
        .map(|r| r.connections)
        .max()
    {
        let row = sweep.cell(nb.0, nb.1, most);
        let mib = row.and_then(|r| r.rss_kib).map(|k| k as f64 / 1024.0);
        checks.push(TargetCheck {
            target: format!(
                "Rust nonblocking holds {most} connections, every one served a call, in <= 40 MiB RSS"
            ),
            measured: mib.map_or_else(|| "failed".into(), |m| format!("{m:.1} MiB")),
            interval_95: None,
            cpu_decides: None,
            verdict: if mib.is_some_and(|m| m <= 40.0) {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        });
        let allowed = (sweep.rs_io_threads + sweep.rs_workers + 2) as u64;
        let threads = row.and_then(|r| r.threads);
        checks.push(TargetCheck {
            target: format!(
                "Rust nonblocking threads with {most} connections <= io threads + workers + 2 = {allowed}"
            ),
            measured: threads.map_or_else(|| "failed".into(), |t| t.to_string()),
            interval_95: None,
            cpu_decides: None,
            verdict: if threads.is_some_and(|t| t <= allowed) {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        });
    }
    // Calls/s: the ratio of the median slice rates, higher is better.
    let rate_check = |other: (&str, &str), n: usize, threshold: f64| -> Option<TargetCheck> {
        let rs = sweep.cell(nb.0, nb.1, n)?;
        let them = sweep.cell(other.0, other.1, n)?;
        let ratio = rs.calls_per_s / them.calls_per_s;
        let interval = median_ratio_interval(
            &rs.slice_calls_per_s,
            &them.slice_calls_per_s,
            RESAMPLES,
            23,
        );
        Some(TargetCheck {
            target: format!(
                "Rust nonblocking calls/s >= {threshold}x {} {}'s, {n} connections",
                other.0, other.1
            ),
            measured: format!("{ratio:.2}x"),
            interval_95: interval,
            verdict: Verdict::of_higher_ratio(ratio, interval, threshold),
            cpu_decides: None,
        })
    };
    let counts: Vec<usize> = {
        let mut c: Vec<usize> = sweep.rows.iter().map(|r| r.connections).collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    for &n in &counts {
        if [256, 1024, 4096].contains(&n) {
            checks.extend(rate_check(("cpp", "nonblocking"), n, 2.0));
        }
    }
    for &n in counts.iter().filter(|&&n| n >= 256) {
        checks.extend(rate_check(("rs", "threaded"), n, 1.0));
    }
    if let (Some(rs), Some(threaded)) = (
        sweep.cell(nb.0, nb.1, 1024),
        sweep.cell("rs", "threaded", 1024),
    ) {
        let ratio = rs.p99_us / threaded.p99_us;
        let interval = quantile_ratio_interval(&rs.samples_us, &threaded.samples_us, 0.99, 500, 29);
        checks.push(TargetCheck {
            target: "Rust nonblocking p99 <= 1/3 of rs threaded's, 1024 connections".into(),
            measured: format!("{ratio:.2}x"),
            interval_95: interval,
            verdict: Verdict::of_ratio(ratio, interval, 1.0 / 3.0),
            cpu_decides: None,
        });
    }
}

pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size.is_multiple_of(1 << 10) {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

/// A CPU-per-call median in ms, with the calls that had no figure.
fn cpu_cell(cpu: Option<CpuSummary>) -> String {
    match cpu {
        None => "-".into(),
        Some(c) if c.missing > 0 => format!("{} ({} missing)", ms(c.p50_us), c.missing),
        Some(c) => ms(c.p50_us),
    }
}

fn latency_table(out: &mut String, rows: &[LatencyRow]) {
    let _ = writeln!(
        out,
        "| client | server | model | wire | payload | size | p50 ms | p90 ms | p99 ms | max ms | MB/s | p50 / TCP | server CPU ms/call | client CPU ms/call |\n|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}+{} | {} | {} | {} | {} | {} | {} | {:.0} | {:.2}x | {} | {} |",
            r.client,
            r.server,
            r.model,
            r.protocol,
            r.transport,
            r.payload,
            size_label(r.size),
            ms(r.summary.p50_us),
            ms(r.summary.p90_us),
            ms(r.summary.p99_us),
            ms(r.summary.max_us),
            r.mb_per_s,
            r.ratio_to_tcp,
            cpu_cell(r.server_cpu),
            cpu_cell(r.client_cpu)
        );
    }
}

/// A pass: (protocol, transport, payload).
pub type PassKey = (String, String, String);

fn key_of(r: &LatencyRow) -> PassKey {
    (r.protocol.clone(), r.transport.clone(), r.payload.clone())
}

/// The passes of `report` in the order they ran: from its pass list, or,
/// in a file from before there was one, from its rows.
pub fn pass_keys(report: &BenchReport) -> Vec<PassKey> {
    let mut keys: Vec<PassKey> = report
        .passes
        .iter()
        .map(|p| (p.protocol.clone(), p.transport.clone(), p.payload.clone()))
        .collect();
    for r in report.baseline.iter().chain(&report.latency) {
        let key = key_of(r);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn payload_words(payload: &str) -> &str {
    match payload {
        "alnum" => "random alphanumeric payload",
        "repeated" => "repeated-sentence payload",
        other => other,
    }
}

/// A p50 in ms and its ratio to the floor of its own pass, or "-".
fn p50_cell(row: Option<&LatencyRow>) -> String {
    row.map_or_else(
        || "-".into(),
        |r| format!("{} ({:.2}x)", ms(r.summary.p50_us), r.ratio_to_tcp),
    )
}

/// compact+buffered next to compact+zlib with each payload, per server
/// and size, when the run has zlib rows.
fn zlib_table(out: &mut String, report: &BenchReport) {
    let mut servers: Vec<(&str, &str)> = Vec::new();
    for r in report.latency.iter().filter(|r| r.transport == "zlib") {
        if !servers.contains(&(r.server.as_str(), r.model.as_str())) {
            servers.push((r.server.as_str(), r.model.as_str()));
        }
    }
    if servers.is_empty() {
        return;
    }
    let mut sizes: Vec<usize> = report.latency.iter().map(|r| r.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let _ = writeln!(
        out,
        "\n### What zlib costs and saves\n\nThe same servers' p50 in ms, each with its ratio to the raw TCP floor of its own pass (the passes ran one after another: compare the ratios rather than the milliseconds). `alnum` is random `[A-Za-z0-9]`, which deflate shrinks only to about three quarters; `repeated` is one sentence over and over, which it shrinks to about 0.3 %.\n\n| server | model | size | compact+buffered, alnum | compact+zlib, alnum | compact+zlib, repeated |\n|---|---|---|---:|---:|---:|"
    );
    let passes = [
        ("compact", "buffered", "alnum"),
        ("compact", "zlib", "alnum"),
        ("compact", "zlib", "repeated"),
    ];
    for (server, model) in servers {
        for &size in &sizes {
            let cells =
                passes.map(|pass| p50_cell(find(&report.latency, "rs", server, model, pass, size)));
            if cells.iter().all(|c| c == "-") {
                continue;
            }
            let _ = writeln!(
                out,
                "| {server} | {model} | {} | {} | {} | {} |",
                size_label(size),
                cells[0],
                cells[1],
                cells[2]
            );
        }
    }
}

/// The large-payload section: which passes ran, then one table per pass
/// (its floor first), then zlib against buffered.
fn large_payloads(out: &mut String, report: &BenchReport) {
    let _ = writeln!(
        out,
        "\n## Large payloads: Rust client -> every server\n\nOne pass per wire and payload, one after another. In a pass every server runs at once next to the raw TCP floor (the `tcp` rows: the same payload bytes, no Thrift), and each round sends one ping to each of them in turn; each p50 / TCP is to the floor of its own pass.\n\nCPU per call, medians: *server CPU* is the server process's time on a CPU during the call (every thread, user and kernel, from `/proc/<pid>/task/*/schedstat` read just before the call and again once the server has gone idle after it; the `tcp` rows: the floor's server process, i.e. what the kernel alone costs to move the bytes); *client CPU* is the Rust client's (the bench thread's `CLOCK_THREAD_CPUTIME_ID` around the call). \"missing\": calls without a figure (a server thread gone during the call, or a server still busy 20 ms after it).\n"
    );
    if !report.passes.is_empty() {
        let _ = writeln!(
            out,
            "| wire | payload | servers | warm-up + calls per cell | seconds |\n|---|---|---|---:|---:|"
        );
        for p in &report.passes {
            let _ = writeln!(
                out,
                "| {}+{} | {} | {} | {} + {} | {:.1} |",
                p.protocol,
                p.transport,
                p.payload,
                p.servers.join(", "),
                p.warmup,
                p.calls,
                p.seconds
            );
        }
        let notes: Vec<String> = report
            .passes
            .iter()
            .flat_map(|p| {
                p.notes
                    .iter()
                    .map(move |n| format!("- {}+{}, {}: {n}", p.protocol, p.transport, p.payload))
            })
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(out, "\n{}", notes.join("\n"));
        }
    }
    for key in pass_keys(report) {
        let rows: Vec<LatencyRow> = report
            .baseline
            .iter()
            .chain(&report.latency)
            .filter(|r| key_of(r) == key)
            .cloned()
            .collect();
        let _ = writeln!(
            out,
            "\n### {}+{}, {}\n",
            key.0,
            key.1,
            payload_words(&key.2)
        );
        latency_table(out, &rows);
    }
    zlib_table(out, report);
}

/// The whole report as Markdown: the terminal table and bench.md.
pub fn markdown(report: &BenchReport) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "# thrift-frame benchmark\n\nMachine: {} CPUs, {}, Linux {}. {} calls per cell after {} warm-up calls{}{}. Loopback only; compare ratios, not absolute times across runs.\n",
        m.cpus,
        m.cpu_model,
        m.kernel,
        report.calls_per_cell,
        report.warmup,
        if report.quick { " (--quick)" } else { "" },
        if report.passes.iter().any(|p| p.calls != report.calls_per_cell) {
            " (the large-payload passes without targets: fewer, see their list)"
        } else {
            ""
        }
    );
    if let Some((client, server)) = report.latency_cpus {
        let _ = writeln!(
            out,
            "Large-payload cells interleaved call by call and pinned: clients on CPU {client}, servers on CPU {server}.\n"
        );
    }
    let _ = writeln!(
        out,
        "## Targets\n\nA ratio target is met when the whole 95 % bootstrap interval of the ratio of medians is on the right side of its threshold, missed when the whole interval is on the wrong side, and within noise when the interval straddles it: then this run cannot tell the two apart.\n\n| target | measured | 95 % interval | met |\n|---|---:|---:|---|"
    );
    for t in &report.targets {
        let interval = t
            .interval_95
            .map(|(lo, hi)| format!("{lo:.2}-{hi:.2}x"))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.target,
            t.measured,
            interval,
            t.verdict_text()
        );
    }
    // A run of the sweep alone (--sweep) has no rows for the other sections.
    if !report.baseline.is_empty() {
        large_payloads(&mut out, report);
    }
    if let Some(callgrind) = &report.callgrind {
        instructions_section(&mut out, callgrind);
    }
    if !report.client_side.is_empty() {
        let _ = writeln!(
            out,
            "\n## Client side: every client -> Rust server (threaded)\n\nEach client's own `--json` call records: latency as the client saw it, and *client CPU*, the client process's CPU time for the call (its `cpu_ns`, `CLOCK_PROCESS_CPUTIME_ID` around the call: every thread, user and kernel; \"-\" for a client that does not report it). The clients take turns in chunks of rounds, each chunk a `ping` run and an `output` run."
        );
        for (call, words) in [
            ("ping", "a short reply (`receive len: N`)"),
            (
                "output",
                "a reply as large as the payload (`You said: <msg>`): the clients' read path",
            ),
        ] {
            let rows: Vec<LatencyRow> = report
                .client_side
                .iter()
                .filter(|r| r.call == call)
                .cloned()
                .collect();
            if !rows.is_empty() {
                let _ = writeln!(out, "\n### {call}: {words}\n");
                latency_table(&mut out, &rows);
            }
        }
    }
    if !report.throughput.is_empty() {
        let _ = writeln!(
            out,
            "\n## Small calls: output(\"hi\"), Rust clients in parallel\n\nEach cell: every client connected and warmed up ({} calls), then calling for {} ms; calls/s counts every call made in that window.\n\n| server | model | wire | clients | calls | calls/s | p50 ms | p99 ms |\n|---|---|---|---:|---:|---:|---:|---:|",
            THROUGHPUT_WARMUP_CALLS,
            report.throughput_window_ms
        );
        for r in &report.throughput {
            let _ = writeln!(
                out,
                "| {} | {} | {}+{} | {} | {} | {:.0} | {} | {} |",
                r.server,
                r.model,
                r.protocol,
                r.transport,
                r.clients,
                r.calls,
                r.calls_per_s,
                ms(r.p50_us),
                ms(r.p99_us)
            );
        }
    }
    if let Some(sweep) = &report.sweep {
        sweep_section(&mut out, sweep);
    }
    if let Some(r) = &report.reconnect {
        let samples: Vec<String> = r.samples_ms.iter().map(|s| format!("{s:.1}")).collect();
        let _ = writeln!(
            out,
            "\n## Reconnect\n\nServer accepting again -> Rust client's first successful call, median of {}: **{:.1} ms** (each: {} ms).",
            r.samples_ms.len(),
            r.median_ms,
            samples.join(", ")
        );
    }
    if !report.rss.is_empty() {
        let _ = writeln!(out, "\n## Peak RSS of each server during the large-payload runs\n\n| server | model | peak RSS MiB, compact+buffered and binary+framed | any pass |\n|---|---|---:|---:|");
        let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
        for r in &report.rss {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.server,
                r.model,
                mib(r.peak_rss_kib),
                r.peak_rss_kib_any_pass.map_or_else(|| "-".into(), mib)
            );
        }
    }
    out
}

/// Instructions per call under callgrind, with each server's ratio to the
/// C++ threaded server's on the same wire and size.
fn instructions_section(out: &mut String, callgrind: &Callgrind) {
    let _ = writeln!(
        out,
        "\n## Instructions per call under callgrind\n\nThe Rust and C++ `ping-server --server threaded` under `valgrind --tool=callgrind`, each called by the Rust client: per wire and size {} warm-up pings, then the counters zeroed (`vgdb --pid <pid> zero`), {} counted pings, a dump (`dump`), and its `totals:` line divided by the calls. Every thread of the server is in the count. Instruction counts do not depend on the machine's noise, but they are user space only: the kernel's copies of the bytes (recv, send) and its page faults, which the CPU columns above include, are not in them. glibc runs with `rep movsb`/`rep stosb` off (`GLIBC_TUNABLES`): callgrind counts those once per byte, so copies outweighed all else ten to one and one copy more or less (depending on how the bytes arrived) swung a count by 10-40 % between runs; its vector loops count what they execute (about one instruction per 10 bytes copied). ({:.0} s)\n",
        callgrind.warmup, callgrind.calls, callgrind.seconds
    );
    if !callgrind.rows.is_empty() {
        let _ = writeln!(
            out,
            "| server | model | wire | size | calls | instructions per call | / C++ threaded |\n|---|---|---|---|---:|---:|---:|"
        );
        for r in &callgrind.rows {
            let cpp = callgrind
                .cell("cpp", "threaded", (&r.protocol, &r.transport), r.size)
                .filter(|c| c.instructions > 0)
                .map_or_else(
                    || "-".into(),
                    |c| format!("{:.2}x", r.per_call() / c.per_call()),
                );
            let _ = writeln!(
                out,
                "| {} | {} | {}+{} | {} | {} | {:.0} | {} |",
                r.server,
                r.model,
                r.protocol,
                r.transport,
                size_label(r.size),
                r.calls,
                r.per_call(),
                cpp
            );
        }
    }
    if !callgrind.notes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            callgrind
                .notes
                .iter()
                .map(|n| format!("- {n}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn sweep_section(out: &mut String, sweep: &Sweep) {
    let _ = writeln!(
        out,
        "\n## Connection sweep: output(\"hi\"), binary+framed, one load generator\n\nOne thread of the bench drives every connection (mio; requests encoded once, replies checked byte for byte), one call in flight per connection. Each cell starts a fresh server, opens the connections {} at a time, each making one call, then runs a {} ms window cut into {} slices (the intervals come from the slice rates). Threads and RSS are the server's right after the window, every connection still open and idle. Rust nonblocking runs {} I/O thread(s) and {} workers.\n\n| server | model | connections | calls | calls/s | p50 ms | p99 ms | threads | RSS MiB | peak RSS MiB | KiB per connection |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        crate::sweep::SETUP_IN_FLIGHT,
        sweep.window_ms,
        sweep.slices,
        sweep.rs_io_threads,
        sweep.rs_workers
    );
    let mib =
        |kib: Option<u64>| kib.map_or_else(|| "-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
    // Memory per connection: over the same server's 1-connection cell.
    let per_connection = |r: &SweepRow| -> String {
        let base = sweep.cell(&r.server, &r.model, 1).and_then(|b| b.rss_kib);
        match (r.rss_kib, base) {
            (Some(now), Some(base)) if r.connections > 1 => format!(
                "{:.2}",
                (now as f64 - base as f64) / (r.connections - 1) as f64
            ),
            _ => "-".into(),
        }
    };
    for r in &sweep.rows {
        if let Some(error) = &r.error {
            let _ = writeln!(
                out,
                "| {} | {} | {} | failed: {} | | | | | | | |",
                r.server,
                r.model,
                r.connections,
                error.replace('|', "/")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            r.server,
            r.model,
            r.connections,
            r.calls,
            r.calls_per_s,
            ms(r.p50_us),
            ms(r.p99_us),
            r.threads.map_or_else(|| "-".into(), |t| t.to_string()),
            mib(r.rss_kib),
            mib(r.peak_rss_kib),
            per_connection(r)
        );
    }
    if !sweep.notes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            sweep
                .notes
                .iter()
                .map(|n| format!("- {n}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(client: &str, server: &str, model: &str, size: usize, p50: f64) -> LatencyRow {
        LatencyRow {
            client: client.into(),
            server: server.into(),
            model: model.into(),
            protocol: "compact".into(),
            transport: "buffered".into(),
            call: "ping".into(),
            payload: "alnum".into(),
            size,
            summary: Summary {
                n: 1,
                p50_us: p50,
                p90_us: p50,
                p99_us: p50,
                max_us: p50,
            },
            mb_per_s: 0.0,
            ratio_to_tcp: p50 / 100.0,
            samples_us: Vec::new(),
            server_cpu: None,
            client_cpu: None,
            server_cpu_us: Vec::new(),
            client_cpu_us: Vec::new(),
        }
    }

    /// 60 figures spread evenly over `centre` +- 20 %, in microseconds, in
    /// a shuffled order (few, so the debug build's bootstrap stays quick).
    fn spread(centre: f64) -> Vec<f64> {
        (0..60)
            .map(|i| centre * (0.8 + 0.4 * f64::from((i * 37) % 60) / 60.0))
            .collect()
    }

    /// `r` with these latencies and server and client CPU figures (µs).
    fn with_figures(
        mut r: LatencyRow,
        latency: Option<Vec<f64>>,
        server_cpu: Option<Vec<f64>>,
        client_cpu: Option<Vec<f64>>,
    ) -> LatencyRow {
        let summary = |us: &[f64]| {
            let calls: Vec<Option<std::time::Duration>> = us
                .iter()
                .map(|u| Some(std::time::Duration::from_secs_f64(u / 1e6)))
                .collect();
            CpuSummary::of(&calls).map(|(s, _)| s)
        };
        if let Some(us) = latency {
            let calls: Vec<std::time::Duration> = us
                .iter()
                .map(|u| std::time::Duration::from_secs_f64(u / 1e6))
                .collect();
            r.summary = Summary::of(&calls).expect("samples");
            r.samples_us = us;
        }
        if let Some(us) = server_cpu {
            r.server_cpu = summary(&us);
            r.server_cpu_us = us;
        }
        if let Some(us) = client_cpu {
            r.client_cpu = summary(&us);
            r.client_cpu_us = us;
        }
        r
    }

    fn check<'a>(checks: &'a [TargetCheck], needle: &str) -> &'a TargetCheck {
        checks
            .iter()
            .find(|c| c.target.contains(needle))
            .unwrap_or_else(|| panic!("no check for {needle}: {checks:#?}"))
    }

    fn report() -> BenchReport {
        BenchReport {
            machine: Machine {
                cpus: 2,
                cpu_model: "test".into(),
                kernel: "6".into(),
            },
            quick: true,
            warmup: 1,
            calls_per_cell: 1,
            latency_cpus: None,
            passes: vec![],
            throughput_window_ms: 1,
            baseline: vec![row("tcp", "tcp", "-", 1 << 20, 100.0)],
            latency: vec![
                row("rs", "rs", "threaded", 1 << 20, 140.0),
                row("rs", "cpp", "threaded", 1 << 20, 130.0),
                row("rs", "go", "simple", 1 << 20, 300.0),
            ],
            client_side: vec![
                row("rs", "rs", "threaded", 1 << 20, 140.0),
                row("cpp", "rs", "threaded", 1 << 20, 150.0),
            ],
            throughput: vec![],
            reconnect: Some(Reconnect {
                samples_ms: vec![60.0],
                median_ms: 60.0,
            }),
            rss: vec![],
            sweep: None,
            callgrind: None,
            targets: vec![],
        }
    }

    #[test]
    fn targets_are_judged_from_the_figures() {
        let checks = check_targets(&report());
        let verdict = |needle: &str| {
            checks
                .iter()
                .find(|c| c.target.contains(needle))
                .map(|c| c.verdict)
                .unwrap_or_else(|| panic!("no check for {needle}: {checks:?}"))
        };
        // No samples: judged on the medians alone.
        assert_eq!(verdict("1.5x raw TCP"), Verdict::Met); // 1.40x
        assert_eq!(verdict("< cpp threaded"), Verdict::Missed); // 140 vs 130
        assert_eq!(verdict("< go simple"), Verdict::Met); // 140 vs 300
        assert_eq!(verdict("Rust client p50 <= C++"), Verdict::Met); // 140 vs 150
        assert_eq!(verdict("within 50 ms"), Verdict::Missed); // 60 ms
    }

    #[test]
    fn with_samples_a_difference_inside_the_noise_is_no_verdict() {
        let mut r = report();
        // rs and cpp threaded spread alike over 100-180 us, medians 140 vs
        // 139: the interval straddles 1.0. Go sits at 300-310.
        let spread = |offset: f64| -> Vec<f64> {
            (0..200)
                .map(|i| 100.0 + offset + f64::from((i * 37) % 80))
                .collect()
        };
        for row in &mut r.latency {
            row.samples_us = match row.server.as_str() {
                "rs" => spread(0.0),
                "cpp" => spread(-1.0),
                _ => (0..200).map(|i| 300.0 + f64::from(i % 10)).collect(),
            };
        }
        let checks = check_targets(&r);
        let check = |needle: &str| {
            checks
                .iter()
                .find(|c| c.target.contains(needle))
                .unwrap_or_else(|| panic!("no check for {needle}"))
        };
        let cpp = check("< cpp threaded");
        assert_eq!(cpp.verdict, Verdict::WithinNoise, "{cpp:?}");
        let (lo, hi) = cpp.interval_95.expect("an interval");
        assert!(lo < 1.0 && 1.0 < hi, "{cpp:?}");
        assert_eq!(check("< go simple").verdict, Verdict::Met);
        r.targets = checks;
        assert!(markdown(&r).contains("| within noise |"));
    }

    #[test]
    fn markdown_marks_missed_targets() {
        let mut r = report();
        r.targets = check_targets(&r);
        let md = markdown(&r);
        assert!(md.contains("| **no** |"), "{md}");
        assert!(md.contains("1 MiB"));
    }

    /// A row of `row`'s on another pass.
    fn on(pass: (&str, &str, &str), r: LatencyRow) -> LatencyRow {
        LatencyRow {
            protocol: pass.0.into(),
            transport: pass.1.into(),
            payload: pass.2.into(),
            ..r
        }
    }

    #[test]
    fn the_new_passes_are_shown_and_not_judged() {
        let mut r = report();
        let zlib_repeated = ("compact", "zlib", "repeated");
        let zlib = ("compact", "zlib", "alnum");
        let json = ("json", "http", "alnum");
        for pass in [json, zlib, zlib_repeated] {
            r.baseline
                .push(on(pass, row("tcp", "tcp", "-", 1 << 20, 100.0)));
        }
        // Far slower than C++ and than the floor: no target may see it.
        r.latency
            .push(on(zlib, row("rs", "rs", "threaded", 1 << 20, 5000.0)));
        r.latency.push(on(
            zlib_repeated,
            row("rs", "rs", "threaded", 1 << 20, 900.0),
        ));
        r.latency
            .push(on(json, row("rs", "py", "threaded", 1 << 20, 90000.0)));
        r.passes.push(PassRow {
            protocol: "json".into(),
            transport: "http".into(),
            payload: "alnum".into(),
            servers: vec!["rs threaded".into(), "py threaded".into()],
            warmup: 1,
            calls: 1,
            seconds: 2.0,
            notes: vec!["cpp nonblocking: not served".into()],
        });
        let before = check_targets(&report());
        let after = check_targets(&r);
        assert_eq!(before.len(), after.len());
        for (a, b) in before.iter().zip(&after) {
            assert_eq!((&a.target, a.verdict), (&b.target, b.verdict));
        }
        r.targets = after;
        let md = markdown(&r);
        for needle in [
            "### compact+buffered, random alphanumeric payload",
            "### json+http, random alphanumeric payload",
            "### compact+zlib, repeated-sentence payload",
            "| rs | py | threaded | json+http | alnum | 1 MiB | 90.000 |",
            "- json+http, alnum: cpp nonblocking: not served",
            "### What zlib costs and saves",
            "| rs | threaded | 1 MiB | 0.140 (1.40x) | 5.000 (50.00x) | 0.900 (9.00x) |",
        ] {
            assert!(md.contains(needle), "no {needle:?} in\n{md}");
        }
        // The pass list first, then the passes in the order they ran.
        let json_at = md.find("### json+http").expect("json section");
        let cb_at = md.find("### compact+buffered").expect("cb section");
        assert!(json_at < cb_at, "{md}");
    }

    /// rs and cpp threaded at 1 MiB on compact+buffered with these
    /// latencies and server CPU figures (µs, each spread +- 20 %).
    fn rs_against_cpp(latency: (f64, f64), cpu: Option<(f64, f64)>) -> Vec<TargetCheck> {
        let mut r = report();
        r.latency = vec![
            with_figures(
                row("rs", "rs", "threaded", 1 << 20, 0.0),
                Some(spread(latency.0)),
                cpu.map(|c| spread(c.0)),
                None,
            ),
            with_figures(
                row("rs", "cpp", "threaded", 1 << 20, 0.0),
                Some(spread(latency.1)),
                cpu.map(|c| spread(c.1)),
                None,
            ),
        ];
        check_targets(&r)
    }

    #[test]
    fn a_latency_target_within_noise_is_decided_by_cpu_per_call() {
        let target = "Rust server p50 < cpp threaded p50, 1 MiB compact+buffered";
        // Both at the floor, 140 vs 141 µs: the latencies cannot tell.
        // The Rust server spends 70 µs of CPU per call, C++ 100.
        let checks = rs_against_cpp((140.0, 141.0), Some((70.0, 100.0)));
        let c = check(&checks, target);
        assert_eq!(c.verdict, Verdict::Met, "{c:?}");
        let decided = c.cpu_decides.expect("CPU decided it");
        assert!((decided.ratio - 0.70).abs() < 0.02, "{decided:?}");
        assert!(
            c.verdict_text()
                .starts_with("within noise; CPU decides: yes (0.70x, 0."),
            "{}",
            c.verdict_text()
        );
        // The latency interval is still the latencies'.
        let (lo, hi) = c.interval_95.expect("interval");
        assert!(lo < 1.0 && 1.0 < hi, "{c:?}");
        // CPU the other way round: decided against.
        let checks = rs_against_cpp((140.0, 141.0), Some((100.0, 70.0)));
        let c = check(&checks, target);
        assert_eq!(c.verdict, Verdict::Missed);
        assert!(
            c.verdict_text().contains("CPU decides: **no** (1.4"),
            "{}",
            c.verdict_text()
        );
        // No CPU figure: it stays within noise, and says nothing more.
        let checks = rs_against_cpp((140.0, 141.0), None);
        let c = check(&checks, target);
        assert_eq!((c.verdict, c.cpu_decides), (Verdict::WithinNoise, None));
        assert_eq!(c.verdict_text(), "within noise");
        // Latencies that do tell: CPU is not asked, even when it disagrees.
        let checks = rs_against_cpp((100.0, 160.0), Some((100.0, 70.0)));
        let c = check(&checks, target);
        assert_eq!((c.verdict, c.cpu_decides), (Verdict::Met, None));
        assert_eq!(c.verdict_text(), "yes");
    }

    #[test]
    fn the_server_cpu_target_is_0_8x_with_an_interval() {
        let target =
            "Rust threaded server CPU per call <= 0.8x C++ threaded's, 1 MiB compact+buffered";
        let verdict = |rs: f64, cpp: f64| {
            let checks = rs_against_cpp((140.0, 141.0), Some((rs, cpp)));
            check(&checks, target).verdict
        };
        assert_eq!(verdict(60.0, 100.0), Verdict::Met);
        assert_eq!(verdict(80.0, 100.0), Verdict::WithinNoise);
        assert_eq!(verdict(100.0, 100.0), Verdict::Missed);
        // Without figures the target is shown as not measured.
        let checks = rs_against_cpp((140.0, 141.0), None);
        let c = check(&checks, target);
        assert_eq!(
            (c.verdict, c.measured.as_str()),
            (Verdict::NotMeasured, "no figure")
        );
    }

    #[test]
    fn the_client_cpu_targets_cover_ping_and_output() {
        let mut r = report();
        let output = |mut r: LatencyRow| {
            r.call = "output".into();
            r
        };
        r.client_side = vec![
            with_figures(
                row("rs", "rs", "threaded", 1 << 20, 140.0),
                None,
                None,
                Some(spread(50.0)),
            ),
            with_figures(
                row("cpp", "rs", "threaded", 1 << 20, 150.0),
                None,
                None,
                Some(spread(80.0)),
            ),
            // The output series: Rust's read path slower than C++'s.
            output(with_figures(
                row("rs", "rs", "threaded", 1 << 20, 300.0),
                None,
                None,
                Some(spread(200.0)),
            )),
            output(with_figures(
                row("cpp", "rs", "threaded", 1 << 20, 250.0),
                None,
                None,
                Some(spread(120.0)),
            )),
        ];
        let checks = check_targets(&r);
        let c = check(
            &checks,
            "Rust client CPU per call <= C++ client's against the Rust server, ping, 1 MiB",
        );
        assert_eq!(c.verdict, Verdict::Met, "{c:?}");
        let c = check(
            &checks,
            "Rust client CPU per call <= C++ client's against the Rust server, output, 1 MiB",
        );
        assert_eq!(c.verdict, Verdict::Missed, "{c:?}");
        // The latency target stays on the ping series (140 vs 150).
        assert_eq!(
            check(&checks, "Rust client p50 <= C++").verdict,
            Verdict::Met
        );
        // A C++ client that reports no cpu_ns: not measured.
        r.client_side[1].client_cpu = None;
        let checks = check_targets(&r);
        let c = check(
            &checks,
            "Rust client CPU per call <= C++ client's against the Rust server, ping",
        );
        assert_eq!(c.verdict, Verdict::NotMeasured);
        r.targets = checks;
        let md = markdown(&r);
        for needle in [
            "### ping: a short reply",
            "### output: a reply as large as the payload",
            "| cpp | rs | threaded | compact+buffered | alnum | 1 MiB | 0.250 |",
            "| not measured |",
        ] {
            assert!(md.contains(needle), "no {needle:?} in\n{md}");
        }
        // The CPU columns: no server figure on the client side, the
        // client's median (the 30th of 60 figures spread over 160-240 µs).
        let rs_output = md
            .lines()
            .find(|l| {
                l.starts_with("| rs | rs | threaded | compact+buffered | alnum | 1 MiB | 0.300 |")
            })
            .expect("the Rust client's output row");
        assert!(rs_output.ends_with("| - | 0.199 |"), "{rs_output}");
    }

    fn instructions(
        server: &str,
        wire: (&str, &str),
        size: usize,
        per_call: u64,
    ) -> InstructionsRow {
        InstructionsRow {
            server: server.into(),
            model: "threaded".into(),
            protocol: wire.0.into(),
            transport: wire.1.into(),
            size,
            calls: 10,
            instructions: per_call * 10,
        }
    }

    #[test]
    fn instruction_targets_are_plain_ratios_and_missing_cells_are_not_measured() {
        let mut r = report();
        let (cb, bf) = (("compact", "buffered"), ("binary", "framed"));
        r.callgrind = Some(Callgrind {
            warmup: 3,
            calls: 10,
            seconds: 9.0,
            rows: vec![
                instructions("rs", cb, 1 << 20, 1_200_000),
                instructions("cpp", cb, 1 << 20, 1_600_000),
                instructions("rs", bf, 1 << 20, 1_000_000),
                instructions("cpp", bf, 1 << 20, 1_100_000),
            ],
            notes: vec!["cpp threaded, binary+framed at 128 KiB: no figure: refused.".into()],
        });
        let checks = check_targets(&r);
        let cb_check = check(
            &checks,
            "instructions per call (callgrind) <= 0.8x C++ threaded's, 1 MiB compact+buffered",
        );
        assert_eq!(
            (cb_check.verdict, cb_check.measured.as_str()),
            (Verdict::Met, "0.75x")
        );
        assert_eq!(cb_check.interval_95, None, "deterministic: no interval");
        let bf_check = check(
            &checks,
            "instructions per call (callgrind) <= 0.8x C++ threaded's, 1 MiB binary+framed",
        );
        assert_eq!(
            (bf_check.verdict, bf_check.measured.as_str()),
            (Verdict::Missed, "0.91x")
        );
        // The C++ cell is gone: not measured.
        r.callgrind.as_mut().expect("section").rows.pop();
        let checks = check_targets(&r);
        let bf_check = check(
            &checks,
            "instructions per call (callgrind) <= 0.8x C++ threaded's, 1 MiB binary+framed",
        );
        assert_eq!(bf_check.verdict, Verdict::NotMeasured);
        r.targets = checks;
        let md = markdown(&r);
        for needle in [
            "## Instructions per call under callgrind",
            "user space only",
            "| rs | threaded | compact+buffered | 1 MiB | 10 | 1200000 | 0.75x |",
            "| rs | threaded | binary+framed | 1 MiB | 10 | 1000000 | - |",
            "- cpp threaded, binary+framed at 128 KiB: no figure: refused.",
        ] {
            assert!(md.contains(needle), "no {needle:?} in\n{md}");
        }
        // A run without the section (the sweep alone) has no such targets.
        r.callgrind = None;
        assert!(!check_targets(&r)
            .iter()
            .any(|c| c.target.contains("callgrind")));
    }

    fn sweep_row(model: &str, server: &str, connections: usize, rate: f64, p99: f64) -> SweepRow {
        SweepRow {
            server: server.into(),
            model: model.into(),
            connections,
            error: None,
            calls: (rate * 2.0) as u64,
            calls_per_s: rate,
            // Slices spread +-5 % around the rate.
            slice_calls_per_s: (0..10)
                .map(|i| rate * (0.95 + 0.01 * f64::from(i)))
                .collect(),
            p50_us: p99 / 2.0,
            p99_us: p99,
            threads: Some(if model == "nonblocking" && server == "rs" {
                7
            } else {
                connections as u64 + 3
            }),
            rss_kib: Some(4096 + connections as u64),
            peak_rss_kib: Some(4096 + connections as u64),
            samples_us: (1..=100).map(|i| p99 * f64::from(i) / 99.0).collect(),
        }
    }

    #[test]
    fn the_sweep_targets_are_judged_from_its_cells() {
        let mut r = report();
        let mut rows = Vec::new();
        for n in [1, 256, 1024, 4096, 10_000] {
            // rs nonblocking: 2.5x C++ at 256, 1.5x at 1024, 2.0x +-5 % at 4096.
            let cpp = 40_000.0;
            let rs = match n {
                256 => 100_000.0,
                1024 => 60_000.0,
                4096 => 80_000.0,
                _ => 50_000.0,
            };
            rows.push(sweep_row("nonblocking", "rs", n, rs, 10.0));
            rows.push(sweep_row("nonblocking", "cpp", n, cpp, 10.0));
            rows.push(sweep_row("threaded", "rs", n, 45_000.0, 40.0));
        }
        // At 10,000 the threaded model did not make it.
        rows.last_mut().expect("a row").error = Some("refused".into());
        r.sweep = Some(Sweep {
            window_ms: 2000,
            slices: 10,
            rs_io_threads: 1,
            rs_workers: 4,
            rows,
            notes: vec!["rs threaded failed at 10000 connections: refused".into()],
        });
        let checks = check_targets(&r);
        let verdict = |needle: &str| {
            checks
                .iter()
                .find(|c| c.target.contains(needle))
                .map(|c| c.verdict)
                .unwrap_or_else(|| panic!("no check for {needle}: {checks:#?}"))
        };
        assert_eq!(verdict("holds 10000 connections"), Verdict::Met); // 13.7 MiB
        assert_eq!(
            verdict("threads with 10000 connections <= io threads + workers + 2 = 7"),
            Verdict::Met
        );
        assert_eq!(
            verdict(">= 2x cpp nonblocking's, 256 connections"),
            Verdict::Met
        );
        assert_eq!(
            verdict(">= 2x cpp nonblocking's, 1024 connections"),
            Verdict::Missed
        );
        assert_eq!(
            verdict(">= 2x cpp nonblocking's, 4096 connections"),
            Verdict::WithinNoise
        );
        assert_eq!(
            verdict(">= 1x rs threaded's, 256 connections"),
            Verdict::Met
        );
        // 60k against 45k.
        assert_eq!(verdict(">= 1x rs threaded's, 1024"), Verdict::Met);
        assert!(
            !checks
                .iter()
                .any(|c| c.target.contains("rs threaded's, 10000")),
            "no threaded cell at 10000"
        );
        assert!(
            !checks
                .iter()
                .any(|c| c.target.contains("cpp nonblocking's, 10000")),
            "not a target"
        );
        assert_eq!(verdict("p99 <= 1/3 of rs threaded's, 1024"), Verdict::Met); // 0.25x
        r.targets = checks;
        let md = markdown(&r);
        for needle in [
            "## Connection sweep",
            "| rs | threaded | 10000 | failed: refused |",
            "- rs threaded failed at 10000 connections: refused",
            "| rs | nonblocking | 10000 | 100000 | 50000 |",
        ] {
            assert!(md.contains(needle), "no {needle:?} in\n{md}");
        }
    }

    #[test]
    fn files_from_before_the_payload_field_still_parse() {
        let old = r#"{
          "machine": {"cpus": 2, "cpu_model": "x", "kernel": "6"},
          "quick": true, "warmup": 3, "calls_per_cell": 20,
          "throughput_window_ms": 100, "latency_cpus": [0, 1],
          "baseline": [{"client": "tcp", "server": "tcp", "model": "-",
            "protocol": "compact", "transport": "buffered", "size": 131072,
            "n": 20, "p50_us": 80.0, "p90_us": 90.0, "p99_us": 99.0,
            "max_us": 120.0, "mb_per_s": 1638.4, "ratio_to_tcp": 1.0}],
          "latency": [], "client_side": [], "throughput": [],
          "reconnect": {"samples_ms": [20.0], "median_ms": 20.0},
          "rss": [], "targets": [{"target": "t", "measured": "1.00x",
            "interval_95": [0.9, 1.1], "verdict": "within_noise"}]
        }"#;
        let r: BenchReport = serde_json::from_str(old).expect("an old bench.json");
        assert_eq!(r.baseline[0].payload, "alnum");
        assert_eq!(r.baseline[0].call, "ping");
        assert_eq!(r.baseline[0].server_cpu, None);
        assert!(r.callgrind.is_none());
        assert_eq!(r.targets[0].cpu_decides, None);
        assert!(r.passes.is_empty());
        assert_eq!(r.targets[0].verdict, Verdict::WithinNoise);
        assert!(markdown(&r).contains("### compact+buffered, random alphanumeric payload"));
        // And what this version writes reads back.
        let again: BenchReport =
            serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
        assert_eq!(again.baseline[0].summary, r.baseline[0].summary);
        // The committed run of the docs, where there is one.
        let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/bench/bench.json");
        if let Ok(text) = std::fs::read_to_string(docs) {
            let committed: BenchReport =
                serde_json::from_str(&text).expect("docs/bench/bench.json");
            assert!(!committed.baseline.is_empty());
        }
    }
}
