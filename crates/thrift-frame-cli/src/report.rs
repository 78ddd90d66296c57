//! One record per call: printed as a JSON line (`--json`) or as text.

use std::time::Duration;

use serde::Serialize;

/// The fields are the interop contract (interop/SPEC.md); every peer's
/// client prints the same.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct CallRecord {
    pub endpoint: String,
    pub round: u64,
    pub call: String,
    pub size: usize,
    pub latency_ns: u64,
    /// CPU time (user + system, every thread) the client process spent
    /// over the same span as `latency_ns`: see [`process_cpu_time`].
    pub cpu_ns: u64,
    pub ok: bool,
    pub error: Option<String>,
    pub reconnects: u64,
    /// Header transport only: the `x-request-id` sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Header transport only: the reply carried the same `x-request-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id_echoed: Option<bool>,
}

impl CallRecord {
    pub fn to_json(&self) -> String {
        // Serializing plain fields cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        let ms = self.latency_ns as f64 / 1e6;
        let status = match &self.error {
            None => "ok".to_string(),
            Some(e) => format!("FAILED: {e}"),
        };
        format!(
            "{} round {} {} {} B: {ms:.3} ms, reconnects {}: {status}",
            self.endpoint, self.round, self.call, self.size, self.reconnects
        )
    }
}

/// CPU time (user + system, every thread) this process has used so far,
/// from `CLOCK_PROCESS_CPUTIME_ID`. Read before and after a call, the
/// difference is the call's `cpu_ns`.
pub fn process_cpu_time() -> std::io::Result<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The kernel keeps tv_sec >= 0 and tv_nsec below 10^9 for this clock.
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}
