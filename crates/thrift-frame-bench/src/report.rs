//! Everything one run measured: bench.json, the Markdown table and the
//! verdict on each target, all computed from the same figures.

use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::THROUGHPUT_WARMUP_CALLS;
use crate::stats::{median_ratio_interval, Summary};

/// One latency cell: `client` calling `ping` on `server` with `size` bytes.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    pub client: String,
    pub server: String,
    pub model: String,
    pub protocol: String,
    pub transport: String,
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
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct RssRow {
    pub server: String,
    pub model: String,
    pub peak_rss_kib: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reconnect {
    pub samples_ms: Vec<f64>,
    pub median_ms: f64,
}

/// What a run says about a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    Missed,
    /// The 95 % interval of the ratio straddles the threshold: the
    /// difference is within this run's noise, so the run cannot tell.
    WithinNoise,
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

    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "yes",
            Verdict::Missed => "**no**",
            Verdict::WithinNoise => "within noise",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// 95 % bootstrap interval of the measured ratio, where it is one.
    pub interval_95: Option<(f64, f64)>,
    pub verdict: Verdict,
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
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
}

#[derive(Debug, Clone, Serialize)]
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
    /// Raw TCP, one row per size and pass (client and server "tcp"; the
    /// protocol and transport say which wire's pass it was interleaved with).
    pub baseline: Vec<LatencyRow>,
    /// The Rust client against every server.
    pub latency: Vec<LatencyRow>,
    /// Every peer's client against the Rust server.
    pub client_side: Vec<LatencyRow>,
    pub throughput: Vec<ThroughputRow>,
    pub reconnect: Option<Reconnect>,
    pub rss: Vec<RssRow>,
    pub targets: Vec<TargetCheck>,
}

fn find<'a>(
    rows: &'a [LatencyRow],
    client: &str,
    server: &str,
    model: &str,
    wire: (&str, &str),
    size: usize,
) -> Option<&'a LatencyRow> {
    rows.iter().find(|r| {
        r.client == client
            && r.server == server
            && r.model == model
            && r.protocol == wire.0
            && r.transport == wire.1
            && r.size == size
    })
}

/// The targets, judged on this run's figures (ratios, never absolutes).
pub fn check_targets(report: &BenchReport) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    let cb = ("compact", "buffered");
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
    for wire in [cb, ("binary", "framed")] {
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
                    checks.push(ratio_check(target, rs, them, 1.0));
                }
            }
        }
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
    if let Some(reconnect) = &report.reconnect {
        checks.push(TargetCheck {
            target: "first successful call within 50 ms of the server accepting (median)".into(),
            measured: format!("{:.1} ms", reconnect.median_ms),
            interval_95: None,
            verdict: if reconnect.median_ms <= 50.0 {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        });
    }
    checks
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

fn latency_table(out: &mut String, rows: &[LatencyRow]) {
    let _ = writeln!(
        out,
        "| client | server | model | wire | size | p50 ms | p90 ms | p99 ms | max ms | MB/s | p50 / TCP |\n|---|---|---|---|---|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}+{} | {} | {} | {} | {} | {} | {:.0} | {:.2}x |",
            r.client,
            r.server,
            r.model,
            r.protocol,
            r.transport,
            size_label(r.size),
            ms(r.summary.p50_us),
            ms(r.summary.p90_us),
            ms(r.summary.p99_us),
            ms(r.summary.max_us),
            r.mb_per_s,
            r.ratio_to_tcp
        );
    }
}

/// The whole report as Markdown: the terminal table and bench.md.
pub fn markdown(report: &BenchReport) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "# thrift-frame benchmark\n\nMachine: {} CPUs, {}, Linux {}. {} calls per cell after {} warm-up calls{}. Loopback only; compare ratios, not absolute times across runs.\n",
        m.cpus,
        m.cpu_model,
        m.kernel,
        report.calls_per_cell,
        report.warmup,
        if report.quick { " (--quick)" } else { "" }
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
            t.verdict.label()
        );
    }
    let _ = writeln!(
        out,
        "\n## Large payloads: Rust client -> every server\n\n`tcp` rows are the raw TCP floor, measured call by call between the servers' calls of the pass for that wire; each p50 / TCP is to the floor of its own pass.\n"
    );
    latency_table(
        &mut out,
        &[report.baseline.clone(), report.latency.clone()].concat(),
    );
    let _ = writeln!(
        out,
        "\n## Client side: every client -> Rust server (threaded)\n"
    );
    latency_table(&mut out, &report.client_side);
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
    let _ = writeln!(out, "\n## Peak RSS of each server during the large-payload runs\n\n| server | model | peak RSS MiB |\n|---|---|---:|");
    for r in &report.rss {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} |",
            r.server,
            r.model,
            r.peak_rss_kib as f64 / 1024.0
        );
    }
    out
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
        }
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
}
