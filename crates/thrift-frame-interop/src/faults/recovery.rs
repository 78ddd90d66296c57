//! `outage_recovery`'s arithmetic: the seeded outage schedule, the median
//! and maximum of the recovery times, and the verdict on the Rust client's
//! target.

use std::time::Duration;

use serde::Serialize;

/// Outages per cell and their range (issue 11: at least 10, of 1-5 s).
pub const OUTAGES: usize = 10;
pub const SHORTEST_OUTAGE_MS: u64 = 1_000;
pub const LONGEST_OUTAGE_MS: u64 = 5_000;

/// The Rust client's target: from the path coming back to its first good
/// call, median and maximum over the outages. Reported, never asserted.
pub const TARGET_MEDIAN_MS: u64 = 250;
pub const TARGET_MAX_MS: u64 = 600;

/// The same `seed` gives the same outages, so every client of a run faces
/// the same schedule and a run can be repeated.
pub fn outage_schedule(seed: u64, count: usize) -> Vec<Duration> {
    let mut state = seed;
    let span = LONGEST_OUTAGE_MS - SHORTEST_OUTAGE_MS + 1;
    (0..count)
        .map(|_| Duration::from_millis(SHORTEST_OUTAGE_MS + splitmix64(&mut state) % span))
        .collect()
}

/// SplitMix64: a few lines, good enough to spread outage lengths, and no
/// dependency.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The median (the mean of the middle two for an even count).
pub fn median(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]).div_ceil(2)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    Missed,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
        }
    }
}

/// The target and how this cell did against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub median_limit_ms: u64,
    pub max_limit_ms: u64,
    pub verdict: Verdict,
}

/// The verdict for a cell whose every outage was recovered from.
pub fn judge_target(median_ms: u64, max_ms: u64) -> Target {
    let met = median_ms <= TARGET_MEDIAN_MS && max_ms <= TARGET_MAX_MS;
    Target {
        median_limit_ms: TARGET_MEDIAN_MS,
        max_limit_ms: TARGET_MAX_MS,
        verdict: if met { Verdict::Met } else { Verdict::Missed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_seeded_varied_and_in_range() {
        let a = outage_schedule(7, OUTAGES);
        assert_eq!(a, outage_schedule(7, OUTAGES));
        assert_ne!(a, outage_schedule(8, OUTAGES));
        assert_eq!(a.len(), OUTAGES);
        for outage in &a {
            let ms = outage.as_millis() as u64;
            assert!(
                (SHORTEST_OUTAGE_MS..=LONGEST_OUTAGE_MS).contains(&ms),
                "{ms}"
            );
        }
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert!(distinct.len() > OUTAGES / 2, "{a:?}");
    }

    #[test]
    fn medians_and_verdicts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[9, 1, 5]), Some(5));
        assert_eq!(median(&[1, 2, 3, 10]), Some(3));
        assert_eq!(judge_target(250, 600).verdict, Verdict::Met);
        assert_eq!(judge_target(251, 100).verdict, Verdict::Missed);
        assert_eq!(judge_target(100, 601).verdict, Verdict::Missed);
    }
}
