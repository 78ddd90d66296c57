//! Which calls may be sent again after their connection broke.

use std::collections::BTreeSet;

/// Whether a call may be sent again on a fresh connection when its
/// connection breaks mid-call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Executing it twice has the same effect as once (a read, a `set` to a
    /// fixed value): retried up to `ClientConfig::max_call_attempts` times.
    Idempotent,
    /// Executing it twice may differ from once (an append, a transfer):
    /// never retried; a broken connection gives
    /// [`ClientError::OutcomeUnknown`](crate::ClientError::OutcomeUnknown).
    NotIdempotent,
}

/// The methods of a service that are idempotent, declared once per client.
/// Nothing is retried unless it is declared here (or the call says so).
///
/// ```
/// use thrift_frame_client::{Idempotency, RetryPolicy};
///
/// let policy = RetryPolicy::idempotent(["get", "size"]);
/// assert_eq!(policy.of("get"), Idempotency::Idempotent);
/// assert_eq!(policy.of("put"), Idempotency::NotIdempotent);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryPolicy {
    idempotent: BTreeSet<String>,
}

impl RetryPolicy {
    /// No method is idempotent: nothing is retried.
    pub fn none() -> Self {
        RetryPolicy::default()
    }

    /// These methods are idempotent; every other one is not.
    pub fn idempotent<S: Into<String>>(methods: impl IntoIterator<Item = S>) -> Self {
        RetryPolicy {
            idempotent: methods.into_iter().map(Into::into).collect(),
        }
    }

    /// The idempotency of `method` under this policy.
    pub fn of(&self, method: &str) -> Idempotency {
        if self.idempotent.contains(method) {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        }
    }
}
