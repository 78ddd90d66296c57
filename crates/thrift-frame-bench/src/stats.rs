//! Percentiles of a set of latencies.

use std::time::Duration;

use serde::Serialize;

/// Latency percentiles in microseconds (nearest-rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn throughput_at_the_median() {
        let s = Summary::of(&[Duration::from_millis(1)]).expect("one");
        assert!((s.mb_per_s(1_000_000) - 1000.0).abs() < 1e-9);
    }
}
