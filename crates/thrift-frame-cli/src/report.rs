//! One record per call: printed as a JSON line (`--json`) or as text.

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
