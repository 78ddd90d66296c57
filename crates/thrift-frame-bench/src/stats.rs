//! Percentiles of a set of latencies.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Latency percentiles in microseconds (nearest-rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Summary {
    /// `None` for an empty sample.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            // Nearest rank: the smallest value with at least p% of samples at or below it.
            let index = ((p / 100.0) * us.len() as f64).ceil() as usize;
            us[index.clamp(1, us.len()) - 1]
        };
        Some(Summary {
            n: us.len(),
            p50_us: rank(50.0),
            p90_us: rank(90.0),
            p99_us: rank(99.0),
            max_us: us[us.len() - 1],
        })
    }

    /// Payload megabytes (10^6 B) per second at the median.
    pub fn mb_per_s(&self, bytes: usize) -> f64 {
        if self.p50_us <= 0.0 {
            return 0.0;
        }
        bytes as f64 / self.p50_us
    }
}

/// CPU time per call of one side (server or client) of a latency cell, in
/// microseconds (nearest-rank), over the calls that have a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuSummary {
    /// Calls with a figure.
    pub n: usize,
    /// Timed calls without one (see [`crate::cpu`]: a server thread gone,
    /// a server that did not settle, a client that reported none).
    pub missing: usize,
    pub p50_us: f64,
    pub p90_us: f64,
}

impl CpuSummary {
    /// The summary of `samples` (one per timed call, `None` where the call
    /// has no figure) and the figures in microseconds; `None` when no call
    /// has one.
    pub fn of(samples: &[Option<Duration>]) -> Option<(CpuSummary, Vec<f64>)> {
        let us: Vec<f64> = samples
            .iter()
            .flatten()
            .map(|d| d.as_secs_f64() * 1e6)
            .collect();
        let mut sorted = us.clone();
        let p50_us = quantile_of(&mut sorted, 0.5)?;
        let p90_us = quantile_of(&mut sorted, 0.9)?;
        Some((
            CpuSummary {
                n: us.len(),
                missing: samples.len() - us.len(),
                p50_us,
                p90_us,
            },
            us,
        ))
    }
}

/// Nearest-rank `q` quantile (0 < q <= 1) of `values`, reordering them;
/// `None` if empty.
fn quantile_of(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = (q * values.len() as f64).ceil() as usize;
    let index = rank.clamp(1, values.len()) - 1;
    let (_, at, _) = values.select_nth_unstable_by(index, f64::total_cmp);
    Some(*at)
}

/// The 95 % bootstrap interval of `median(a) / median(b)`: each side is
/// resampled with replacement `resamples` times and the 2.5th and 97.5th
/// percentiles of the ratios are taken. Seeded, so the same samples give the
/// same interval. `None` if either side is empty.
///
/// It says whether a difference between two medians is larger than what
/// this run's noise alone produces: an interval that contains 1.0 means
/// the run cannot tell the two apart.
pub fn median_ratio_interval(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    quantile_ratio_interval(a, b, 0.5, resamples, seed)
}

/// [`median_ratio_interval`] for the `q` quantiles (0.99: the p99s).
pub fn quantile_ratio_interval(
    a: &[f64],
    b: &[f64],
    q: f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if a.is_empty() || b.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut draw = |from: &[f64], into: &mut Vec<f64>| {
        into.clear();
        into.extend((0..from.len()).map(|_| from[rng.gen_range(0..from.len())]));
    };
    let (mut left, mut right) = (Vec::with_capacity(a.len()), Vec::with_capacity(b.len()));
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        draw(a, &mut left);
        draw(b, &mut right);
        let (Some(top), Some(bottom)) = (quantile_of(&mut left, q), quantile_of(&mut right, q))
        else {
            return None;
        };
        ratios.push(top / bottom);
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * resamples as f64) as usize).min(resamples - 1)];
    Some((at(0.025), at(0.975)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_interval_separates_real_differences_from_noise() {
        // Two draws of the same noisy distribution: the interval holds 1.0.
        let mut rng = StdRng::seed_from_u64(3);
        let mut noisy = |centre: f64| -> Vec<f64> {
            (0..200).map(|_| centre * rng.gen_range(0.7..1.5)).collect()
        };
        let (a, b) = (noisy(100.0), noisy(100.0));
        let (lo, hi) = median_ratio_interval(&a, &b, 1000, 1).expect("samples");
        assert!(lo < 1.0 && 1.0 < hi, "({lo}, {hi})");
        // A 30 % slower side: the whole interval is above 1.0.
        let slow = noisy(130.0);
        let (lo, hi) = median_ratio_interval(&slow, &b, 1000, 1).expect("samples");
        assert!(1.0 < lo && lo < hi, "({lo}, {hi})");
        assert_eq!(
            median_ratio_interval(&slow, &b, 1000, 1),
            Some((lo, hi)),
            "seeded"
        );
        assert!(median_ratio_interval(&[], &b, 1000, 1).is_none());
    }

    #[test]
    fn the_p99_interval_sees_a_tail_the_medians_do_not() {
        // Same body, but one side has a 5 % tail ten times slower.
        let body = |i: u32| 100.0 + f64::from(i % 50);
        let calm: Vec<f64> = (0..2000).map(body).collect();
        let tailed: Vec<f64> = (0..2000)
            .map(|i| {
                if i % 20 == 0 {
                    1000.0 + body(i)
                } else {
                    body(i)
                }
            })
            .collect();
        let (lo, hi) = median_ratio_interval(&tailed, &calm, 500, 1).expect("samples");
        assert!(lo < 1.1 && hi < 1.2, "medians ({lo}, {hi})");
        let (lo, _) = quantile_ratio_interval(&tailed, &calm, 0.99, 500, 1).expect("samples");
        assert!(lo > 5.0, "p99 lower bound {lo}");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let s = Summary::of(&samples).expect("non-empty");
        assert_eq!(
            (s.n, s.p50_us, s.p90_us, s.p99_us, s.max_us),
            (100, 50.0, 90.0, 99.0, 100.0)
        );
        let one = Summary::of(&[Duration::from_micros(7)]).expect("one");
        assert_eq!((one.p50_us, one.p99_us), (7.0, 7.0));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn cpu_per_call_counts_the_calls_without_a_figure_apart() {
        let us = |u: u64| Some(Duration::from_micros(u));
        let calls = [us(300), None, us(100), us(200), None, us(400)];
        let (s, figures) = CpuSummary::of(&calls).expect("four figures");
        assert_eq!((s.n, s.missing), (4, 2));
        assert_eq!((s.p50_us, s.p90_us), (200.0, 400.0));
        assert_eq!(figures, [300.0, 100.0, 200.0, 400.0], "in call order");
        assert!(CpuSummary::of(&[None, None]).is_none());
        assert!(CpuSummary::of(&[]).is_none());
    }

    #[test]
    fn throughput_at_the_median() {
        let s = Summary::of(&[Duration::from_millis(1)]).expect("one");
        assert!((s.mb_per_s(1_000_000) - 1000.0).abs() < 1e-9);
    }
}
