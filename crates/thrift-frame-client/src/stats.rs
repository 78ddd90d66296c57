//! What a client counts.

use std::time::Duration;

/// Counters the caller can read at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Calls made through this client.
    pub calls: u64,
    /// Calls that returned an error to the caller.
    pub failures: u64,
    /// Connections opened after the first one.
    pub reconnects: u64,
    /// Connection attempts that failed.
    pub failed_attempts: u64,
    /// Time spent connecting again after a broken connection, backoff waits included.
    pub time_reconnecting: Duration,
}

impl ClientStats {
    /// Adds what happened between two snapshots of another client.
    pub(crate) fn add_difference(&mut self, before: &ClientStats, after: &ClientStats) {
        self.calls += after.calls - before.calls;
        self.failures += after.failures - before.failures;
        self.reconnects += after.reconnects - before.reconnects;
        self.failed_attempts += after.failed_attempts - before.failed_attempts;
        self.time_reconnecting += after.time_reconnecting - before.time_reconnecting;
    }
}
