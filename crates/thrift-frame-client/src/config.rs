//! How to reach a server and how hard to try.

use std::time::Duration;

use thrift_frame_wire::{
    HeaderExchange, HeaderTransform, WireConfig, DEADLINE_HEADER, REQUEST_ID_HEADER,
};

use crate::{Backoff, ClientError, RetryPolicy};

/// How to reach a server and how hard to try.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port`, resolved again on every connection attempt (a restarted
    /// container may come back under a new address).
    pub endpoint: String,
    /// Protocol, transport and size limits; must match the server's.
    pub wire: WireConfig,
    /// For a multiplexed server: the name the service is registered under
    /// there; every call is sent as `name:method`.
    pub multiplexed: Option<String>,
    /// HTTP transport only: the path every call is POSTed to (the `Host`
    /// header is the endpoint).
    pub http_path: String,
    /// How long one connection attempt may wait for the server to answer.
    pub connect_timeout: Duration,
    /// While a connection attempt waits unanswered (its SYN dropped by a
    /// network outage), a fresh one is started this often; the first to
    /// connect wins. Without it, the kernel's own SYN retries (1 s, then
    /// 3 s, ...) would decide how soon a returning path is used.
    pub connect_resend_interval: Duration,
    /// Read and write timeout of each call.
    pub call_timeout: Duration,
    /// Waits between connection attempts, and when to give up.
    pub backoff: Backoff,
    /// Attempts per idempotent call, the first included.
    pub max_call_attempts: u32,
    /// Which methods [`ReconnectingClient::call_declared`] may retry.
    pub retry_policy: RetryPolicy,
    /// Log every message each way in TDebugProtocol's text, at trace level
    /// for target `thrift_frame::wire`; costs nothing unless enabled.
    pub trace_wire: bool,
    /// Header transport: each call is sent with the info header
    /// `x-request-id: <prefix>-<call number>` (default prefix `rs-<pid>`)
    /// and `x-deadline-ms: <call_timeout>`, the time the attempt waits for
    /// its reply.
    pub request_id_prefix: String,
    /// Header transport: the transforms requests are sent through (zlib);
    /// servers answer in kind where they can (the C++, Go and Python
    /// libraries answer without them). Default none.
    pub header_transforms: Vec<HeaderTransform>,
}

impl ClientConfig {
    /// Defaults: compact protocol, buffered transport, 2000 ms connect and
    /// call timeouts, a fresh connect attempt every 200 ms while one waits,
    /// [`Backoff::default`], 3 attempts per idempotent call.
    pub fn new(endpoint: impl Into<String>) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            wire: WireConfig::default(),
            multiplexed: None,
            http_path: "/".into(),
            connect_timeout: Duration::from_millis(2000),
            connect_resend_interval: Duration::from_millis(200),
            call_timeout: Duration::from_millis(2000),
            backoff: Backoff::default(),
            max_call_attempts: 3,
            retry_policy: RetryPolicy::none(),
            trace_wire: false,
            request_id_prefix: format!("rs-{}", std::process::id()),
            header_transforms: Vec::new(),
        }
    }

    /// Sets the info headers of one attempt of call number `call`: request
    /// id, deadline, then the caller's own (which may replace either).
    /// Returns the request id sent.
    pub(crate) fn headers_for_call(
        &self,
        header: &HeaderExchange,
        call: u64,
        extra: &[(String, String)],
    ) -> String {
        // The caller's id, if it set one (the last wins, as set_header
        // replaces), else one made up.
        let request_id = extra
            .iter()
            .rev()
            .find(|(k, _)| k == REQUEST_ID_HEADER)
            .map_or_else(
                || format!("{}-{call}", self.request_id_prefix),
                |(_, v)| v.clone(),
            );
        // A reply's headers must be this attempt's, never an earlier one's.
        header.clear_received();
        header.set_header(REQUEST_ID_HEADER, request_id.clone());
        header.set_header(DEADLINE_HEADER, self.call_timeout.as_millis().to_string());
        for (key, value) in extra {
            header.set_header(key.clone(), value.clone());
        }
        request_id
    }

    pub(crate) fn validate(&self) -> Result<(), ClientError> {
        let invalid = |m: String| ClientError::InvalidConfig(m);
        if self.connect_timeout.is_zero()
            || self.call_timeout.is_zero()
            || self.connect_resend_interval.is_zero()
        {
            return Err(invalid("timeouts must be positive".into()));
        }
        if !self.http_path.starts_with('/') {
            return Err(invalid(format!(
                "the HTTP path {:?} must start with /",
                self.http_path
            )));
        }
        if self.max_call_attempts == 0 {
            return Err(invalid("max call attempts must be at least 1".into()));
        }
        self.backoff.validate().map_err(invalid)?;
        self.wire.check(true).map_err(|e| invalid(e.to_string()))?;
        self.wire
            .limits
            .validate()
            .map_err(|e| invalid(e.to_string()))
    }
}
