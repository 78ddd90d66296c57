//! SVG plots of a report: latency vs payload size (with the raw TCP floor),
//! one per large-payload pass, small-call throughput vs concurrency, and
//! the connection sweep's calls/s and p99 vs connections.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;

use crate::report::{pass_keys, BenchReport, LatencyRow, PassKey};
use crate::BenchError;

const COLOURS: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];

type Series = BTreeMap<String, Vec<(f64, f64)>>;

fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &Series,
    baseline: Option<&[(f64, f64)]>,
) -> Result<(), BenchError> {
    let fail = |e: &dyn std::fmt::Display| BenchError::Plot {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let points = series
        .values()
        .flatten()
        .chain(baseline.into_iter().flatten());
    let (mut x_max, mut y_max) = (1.0f64, 0.0f64);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_max = y_max.max(y);
    }
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max * 1.05, 0f64..(y_max * 1.1).max(1e-9))
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| fail(&e))?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| fail(&e))?;
    }
    if let Some(floor) = baseline {
        chart
            .draw_series(LineSeries::new(floor.to_vec(), BLACK.stroke_width(3)))
            .map_err(|e| fail(&e))?
            .label("raw TCP (floor)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// Like [`draw`], with a logarithmic x axis from 1 (connection counts).
fn draw_log_x(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &Series,
) -> Result<(), BenchError> {
    let fail = |e: &dyn std::fmt::Display| BenchError::Plot {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let (mut x_max, mut y_max) = (10.0f64, 0.0f64);
    for &(x, y) in series.values().flatten() {
        x_max = x_max.max(x);
        y_max = y_max.max(y);
    }
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (1f64..x_max * 1.5).log_scale(),
            0f64..(y_max * 1.1).max(1e-9),
        )
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| fail(&e))?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

fn in_pass(r: &LatencyRow, pass: &PassKey) -> bool {
    r.protocol == pass.0 && r.transport == pass.1 && r.payload == pass.2
}

fn latency_series(rows: &[LatencyRow], pass: &PassKey) -> Series {
    let mut series = Series::new();
    for r in rows.iter().filter(|r| in_pass(r, pass)) {
        series
            .entry(format!("{} {}", r.server, r.model))
            .or_default()
            .push((r.size as f64 / 1024.0, r.summary.p50_us / 1000.0));
    }
    series
}

/// The latency plot of a pass: latency-<protocol>-<transport>.svg, with
/// `-<payload>` before the extension when the payload is not the random one.
pub fn latency_file(pass: &PassKey) -> String {
    let (protocol, transport, payload) = pass;
    if payload == "alnum" {
        format!("latency-{protocol}-{transport}.svg")
    } else {
        format!("latency-{protocol}-{transport}-{payload}.svg")
    }
}

/// Writes a latency plot per pass ([`latency_file`]) and throughput.svg
/// into `dir`; returns the files written.
pub fn write_all(report: &BenchReport, dir: &Path) -> Result<Vec<String>, BenchError> {
    let mut written = Vec::new();
    for pass in pass_keys(report) {
        // The floor measured in this pass.
        let floor: Vec<(f64, f64)> = report
            .baseline
            .iter()
            .filter(|r| in_pass(r, &pass))
            .map(|r| (r.size as f64 / 1024.0, r.summary.p50_us / 1000.0))
            .collect();
        let series = latency_series(&report.latency, &pass);
        if series.is_empty() {
            continue;
        }
        let name = latency_file(&pass);
        let payload = if pass.2 == "alnum" {
            String::new()
        } else {
            format!(", {} payload", pass.2)
        };
        draw(
            &dir.join(&name),
            &format!(
                "ping p50 latency, Rust client, {}+{}{payload}",
                pass.0, pass.1
            ),
            "payload KiB",
            "p50 ms",
            &series,
            Some(&floor),
        )?;
        written.push(name);
    }
    let mut series = Series::new();
    for r in &report.throughput {
        series
            .entry(format!("{} {}", r.server, r.model))
            .or_default()
            .push((r.clients as f64, r.calls_per_s));
    }
    if !series.is_empty() {
        draw(
            &dir.join("throughput.svg"),
            "output(\"hi\") throughput vs concurrent clients",
            "clients",
            "calls/s",
            &series,
            None,
        )?;
        written.push("throughput.svg".into());
    }
    if let Some(sweep) = &report.sweep {
        // (file, title, y axis, figure of a row)
        type Figure = fn(&crate::report::SweepRow) -> f64;
        let plots: [(&str, &str, &str, Figure); 2] = [
            (
                "sweep-calls.svg",
                "output(\"hi\") calls/s vs connections, binary+framed",
                "calls/s",
                |r| r.calls_per_s,
            ),
            (
                "sweep-p99.svg",
                "output(\"hi\") p99 latency vs connections, binary+framed",
                "p99 ms",
                |r| r.p99_us / 1000.0,
            ),
        ];
        for (file, title, y_label, figure) in plots {
            let mut series = Series::new();
            for r in sweep.rows.iter().filter(|r| r.error.is_none()) {
                series
                    .entry(format!("{} {}", r.server, r.model))
                    .or_default()
                    .push((r.connections as f64, figure(r)));
            }
            if series.is_empty() {
                continue;
            }
            draw_log_x(
                &dir.join(file),
                title,
                "connections (log)",
                y_label,
                &series,
            )?;
            written.push(file.into());
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::latency_file;

    #[test]
    fn the_random_payload_keeps_the_old_file_names() {
        let pass = |p: &str, t: &str, payload: &str| (p.into(), t.into(), payload.into());
        assert_eq!(
            latency_file(&pass("compact", "buffered", "alnum")),
            "latency-compact-buffered.svg"
        );
        assert_eq!(
            latency_file(&pass("compact", "zlib", "repeated")),
            "latency-compact-zlib-repeated.svg"
        );
    }
}
