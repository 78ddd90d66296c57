//! Measurements made with the project's Rust client library in this process.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use thrift_frame_cli::payload::{self, PayloadKind};
use thrift_frame_client::ClientConfig;
use thrift_frame_demo::{ping_client, PingCalls, PingClient};
use thrift_frame_wire::WireConfig;

use crate::stats::Summary;
use crate::BenchError;

/// A client for `addr` speaking `wire`, with timeouts roomy enough for a
/// slow peer under load.
pub fn client(addr: &str, wire: &WireConfig) -> Result<PingClient, BenchError> {
    let mut config = ClientConfig::new(addr);
    config.wire = wire.clone();
    config.call_timeout = Duration::from_secs(30);
    ping_client(config, false).map_err(|e| BenchError::client(format!("client for {addr}"), e))
}

/// Times one ping of `payload` and checks its reply. The benchmark sends
/// one call at a time to each server in turn, so this is its unit.
pub fn ping_once(client: &mut PingClient, payload: &str) -> Result<Duration, BenchError> {
    let start = Instant::now();
    let reply = client
        .ping(payload)
        .map_err(|e| BenchError::client(format!("ping of {} B", payload.len()), e))?;
    let elapsed = start.elapsed();
    let expected = format!("receive len: {}", payload.len());
    if reply != expected {
        return Err(BenchError::Invalid(format!(
            "ping reply {reply:?}, expected {expected:?}"
        )));
    }
    Ok(elapsed)
}

/// What the large payloads are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Random `[A-Za-z0-9]`, as `ping-client --payload alnum` sends: deflate
    /// gets it to about three quarters of its size, no further.
    Alnum,
    /// [`REPEATED_TEXT`] over and over: what compresses best, so the zlib
    /// rows show what compression saves as well as what it costs.
    Repeated,
}

/// The sentence of [`Payload::Repeated`].
pub const REPEATED_TEXT: &str = "The quick brown fox jumps over the lazy dog. ";

impl Payload {
    /// Its name in bench.json and bench.md (a row's `payload`).
    pub fn label(self) -> &'static str {
        match self {
            Payload::Alnum => "alnum",
            Payload::Repeated => "repeated",
        }
    }

    /// A payload of exactly `size` bytes (ASCII either way).
    pub fn generate(self, size: usize, rng: &mut impl Rng) -> String {
        match self {
            Payload::Alnum => payload::generate(PayloadKind::Alnum, size, rng),
            Payload::Repeated => REPEATED_TEXT.chars().cycle().take(size).collect(),
        }
    }
}

/// Small-call throughput of one server at one concurrency.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub calls: usize,
    pub elapsed: Duration,
    pub latency: Summary,
}

impl Throughput {
    pub fn calls_per_s(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }
}

/// Calls each client makes, connected, before the clock starts.
pub const THROUGHPUT_WARMUP_CALLS: usize = 50;

/// `clients` connections make `output("hi")` calls for `window`, all
/// starting together once every client is connected and warmed up; each
/// stops at the first call that ends after the window closes.
///
/// A time window rather than a fixed number of calls: a fast server would
/// finish a fixed count in a few tens of milliseconds, too short to rise
/// above a shared machine's noise, and a slow one would take seconds.
pub fn output_throughput(
    addr: &str,
    wire: &WireConfig,
    clients: usize,
    window: Duration,
) -> Result<Throughput, BenchError> {
    // Every client connected before any thread starts: this measures calls,
    // not connects, and a failed connect leaves no thread at the start line.
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut client = client(addr, wire)?;
        client
            .connect()
            .map_err(|e| BenchError::client(format!("connecting to {addr}"), e))?;
        connected.push(client);
    }
    let start_line = Arc::new(Barrier::new(clients + 1));
    let mut workers = Vec::with_capacity(clients);
    for mut client in connected {
        let start_line = start_line.clone();
        workers.push(thread::spawn(
            move || -> Result<Vec<Duration>, BenchError> {
                let call = |client: &mut PingClient| -> Result<Duration, BenchError> {
                    let start = Instant::now();
                    let reply = client
                        .output("hi")
                        .map_err(|e| BenchError::client("output(\"hi\")", e))?;
                    let elapsed = start.elapsed();
                    if reply != "You said: hi" {
                        return Err(BenchError::Invalid(format!("output reply {reply:?}")));
                    }
                    Ok(elapsed)
                };
                // A worker that failed must still reach the start line, or
                // the others would wait for it forever.
                let warm =
                    (0..THROUGHPUT_WARMUP_CALLS).try_for_each(|_| call(&mut client).map(drop));
                start_line.wait();
                warm?;
                let end = Instant::now() + window;
                let mut samples = Vec::new();
                while Instant::now() < end {
                    samples.push(call(&mut client)?);
                }
                Ok(samples)
            },
        ));
    }
    start_line.wait();
    let start = Instant::now();
    let mut samples = Vec::new();
    for worker in workers {
        let mine = worker
            .join()
            .map_err(|_| BenchError::Invalid("a throughput client panicked".into()))??;
        samples.extend(mine);
    }
    let elapsed = start.elapsed();
    let latency =
        Summary::of(&samples).ok_or_else(|| BenchError::Invalid("no throughput samples".into()))?;
    Ok(Throughput {
        calls: samples.len(),
        elapsed,
        latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn payloads_have_exact_sizes_and_their_kind() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for size in [0, 1, 45, 46, 128 << 10, 1 << 20] {
            for kind in [Payload::Alnum, Payload::Repeated] {
                assert_eq!(kind.generate(size, &mut rng).len(), size, "{kind:?} {size}");
            }
        }
        let repeated = Payload::Repeated.generate(1000, &mut rng);
        assert!(repeated.starts_with(REPEATED_TEXT));
        assert_eq!(
            &repeated[REPEATED_TEXT.len()..2 * REPEATED_TEXT.len()],
            REPEATED_TEXT
        );
        assert!(Payload::Alnum
            .generate(1000, &mut rng)
            .bytes()
            .all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(Payload::Alnum.label(), Payload::Repeated.label());
    }
}
