//! The bound on bytes buffered for peers, shared by every I/O thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::stats::ServerStats;

/// Bytes of requests and replies held now, against a limit. The count is
/// the server's `buffered_bytes` statistic, so a monitor can watch it.
#[derive(Debug)]
pub(crate) struct Budget {
    stats: Arc<ServerStats>,
    limit: u64,
}

impl Budget {
    pub(crate) fn new(limit: usize, stats: Arc<ServerStats>) -> Self {
        Budget {
            stats,
            limit: limit as u64,
        }
    }

    fn took(&self, now: u64) {
        self.stats
            .peak_buffered_bytes
            .fetch_max(now, Ordering::Relaxed);
    }

    /// Takes `bytes` if they fit; false (and nothing taken) if not.
    pub(crate) fn try_take(&self, bytes: usize) -> bool {
        let used = &self.stats.buffered_bytes;
        let mut now = used.load(Ordering::Relaxed);
        loop {
            let Some(next) = now.checked_add(bytes as u64).filter(|n| *n <= self.limit) else {
                return false;
            };
            match used.compare_exchange_weak(now, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    self.took(next);
                    return true;
                }
                Err(seen) => now = seen,
            }
        }
    }

    /// Takes `bytes` whether or not they fit: for bytes already read or
    /// replies already made, which exist either way.
    pub(crate) fn take(&self, bytes: usize) {
        let before = self
            .stats
            .buffered_bytes
            .fetch_add(bytes as u64, Ordering::AcqRel);
        self.took(before + bytes as u64);
    }

    /// Gives back bytes taken before.
    pub(crate) fn give_back(&self, bytes: usize) {
        self.stats
            .buffered_bytes
            .fetch_sub(bytes as u64, Ordering::AcqRel);
    }

    /// Whether anything is left to take.
    pub(crate) fn has_room(&self) -> bool {
        self.stats.buffered_bytes.load(Ordering::Relaxed) < self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_only_what_fits_and_gets_it_back() {
        let stats = Arc::new(ServerStats::default());
        let budget = Budget::new(100, stats.clone());
        assert!(budget.try_take(60));
        assert!(!budget.try_take(41));
        assert!(budget.try_take(40));
        assert!(!budget.has_room());
        budget.give_back(50);
        assert!(budget.has_room());
        budget.take(80);
        assert!(!budget.try_take(1));
        assert_eq!(stats.report().peak_buffered_bytes, 130);
    }
}
