//! When to try connecting again.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with jitter, bounded by attempts and/or a deadline.
///
/// The n-th wait (n from 0) is `min(initial * multiplier^n, max_delay)`, then
/// shortened by a random fraction of up to `jitter` so that many clients cut
/// off by the same failure do not reconnect in lockstep.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// Each wait is this many times the one before.
    pub multiplier: f64,
    /// No wait is longer than this.
    pub max_delay: Duration,
    /// 0.0 = no jitter, 1.0 = anywhere between zero and the full delay.
    pub jitter: f64,
    /// Give up after this many connection attempts (None: no limit).
    pub max_attempts: Option<u32>,
    /// Give up once this much time has passed since the first attempt.
    pub deadline: Option<Duration>,
}

impl Default for Backoff {
    /// 10 ms doubling to at most 40 ms, up to 50% jitter, give up after 30 s.
    /// The low cap keeps the gap between a server accepting again and the
    /// first successful call under 50 ms (measured by `make bench`), at the
    /// cost of 25 to 50 connection attempts a second while a server is down;
    /// raise `max_delay` where fewer attempts matter more than a fast return.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(10),
            multiplier: 2.0,
            max_delay: Duration::from_millis(40),
            jitter: 0.5,
            max_attempts: None,
            deadline: Some(Duration::from_secs(30)),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1`, without jitter.
    pub fn nominal_delay(&self, attempt: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(attempt.min(64) as i32);
        let secs = self.initial.as_secs_f64() * factor;
        if !secs.is_finite() || secs >= self.max_delay.as_secs_f64() {
            self.max_delay
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// The wait before attempt `attempt + 1`, with jitter.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let nominal = self.nominal_delay(attempt);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return nominal;
        }
        let cut: f64 = rng.gen_range(0.0..=jitter);
        nominal.mul_f64(1.0 - cut)
    }

    /// Whether another attempt is allowed after `attempts` tries over `elapsed`.
    pub fn allows(&self, attempts: u32, elapsed: Duration) -> bool {
        self.max_attempts.is_none_or(|max| attempts < max)
            && self.deadline.is_none_or(|d| elapsed < d)
    }

    /// Checks that the values make sense; the error says which does not.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(format!(
                "backoff multiplier must be >= 1, got {}",
                self.multiplier
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!(
                "backoff jitter must be within 0..=1, got {}",
                self.jitter
            ));
        }
        if self.initial > self.max_delay {
            return Err("initial backoff exceeds the maximum delay".into());
        }
        if self.max_attempts == Some(0) {
            return Err("max attempts must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::mock::StepRng;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            multiplier: 2.0,
            max_delay: Duration::from_millis(100),
            jitter: 0.0,
            ..Backoff::default()
        };
        let delays: Vec<u128> = (0..6).map(|n| b.nominal_delay(n).as_millis()).collect();
        assert_eq!(delays, vec![10, 20, 40, 80, 100, 100]);
        assert_eq!(b.nominal_delay(u32::MAX), Duration::from_millis(100));
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_bounds() {
        let b = Backoff {
            jitter: 0.5,
            ..Backoff::default()
        };
        let mut rng = rand::thread_rng();
        for n in 0..50 {
            let d = b.delay(n, &mut rng);
            let nominal = b.nominal_delay(n);
            assert!(d <= nominal && d >= nominal / 2, "{d:?} vs {nominal:?}");
        }
        let mut fixed = StepRng::new(0, 0);
        assert_eq!(b.delay(0, &mut fixed), b.nominal_delay(0));
    }

    #[test]
    fn budget_ends_on_attempts_or_deadline() {
        let b = Backoff {
            max_attempts: Some(3),
            deadline: Some(Duration::from_secs(1)),
            ..Backoff::default()
        };
        assert!(b.allows(2, Duration::ZERO));
        assert!(!b.allows(3, Duration::ZERO));
        assert!(!b.allows(1, Duration::from_secs(2)));
    }

    #[test]
    fn nonsense_is_rejected() {
        let bad = [
            Backoff {
                multiplier: 0.5,
                ..Backoff::default()
            },
            Backoff {
                jitter: 2.0,
                ..Backoff::default()
            },
            Backoff {
                max_attempts: Some(0),
                ..Backoff::default()
            },
            Backoff {
                initial: Duration::from_secs(5),
                ..Backoff::default()
            },
        ];
        for b in bad {
            assert!(b.validate().is_err(), "{b:?}");
        }
        Backoff::default().validate().expect("defaults valid");
    }
}
