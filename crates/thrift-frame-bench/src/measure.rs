//! Measurements made with the project's Rust client library in this process.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use thrift_frame_client::{ClientConfig, PingClient};
use thrift_frame_wire::WireConfig;

use crate::stats::Summary;
use crate::BenchError;

/// A client for `addr` speaking `wire`, with timeouts roomy enough for a
/// slow peer under load.
pub fn client(addr: &str, wire: &WireConfig) -> Result<PingClient, BenchError> {
    let mut config = ClientConfig::new(addr);
    config.wire = wire.clone();
    config.call_timeout = Duration::from_secs(30);
    PingClient::new(config).map_err(|e| BenchError::client(format!("client for {addr}"), e))
}

/// Times `calls` pings of `payload` after `warmup` untimed ones, on one
/// connection. Every reply is checked.
pub fn ping_latencies(
    client: &mut PingClient,
    payload: &str,
    warmup: usize,
    calls: usize,
) -> Result<Vec<Duration>, BenchError> {
    let expected = format!("receive len: {}", payload.len());
    let mut samples = Vec::with_capacity(calls);
    for i in 0..warmup + calls {
        let start = Instant::now();
        let reply = client
            .ping(payload)
            .map_err(|e| BenchError::client(format!("ping of {} B", payload.len()), e))?;
        let elapsed = start.elapsed();
        if reply != expected {
            return Err(BenchError::Invalid(format!(
                "ping reply {reply:?}, expected {expected:?}"
            )));
        }
        if i >= warmup {
            samples.push(elapsed);
        }
    }
    Ok(samples)
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

/// `clients` connections each make `calls_per_client` `output("hi")` calls,
/// all starting together once every client is connected.
pub fn output_throughput(
    addr: &str,
    wire: &WireConfig,
    clients: usize,
    calls_per_client: usize,
) -> Result<Throughput, BenchError> {
    let start_line = Arc::new(Barrier::new(clients + 1));
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut client = client(addr, wire)?;
        // Connected before the clock starts: this measures calls, not connects.
        client
            .connect()
            .map_err(|e| BenchError::client(format!("connecting to {addr}"), e))?;
        let start_line = start_line.clone();
        workers.push(thread::spawn(
            move || -> Result<Vec<Duration>, BenchError> {
                start_line.wait();
                let mut samples = Vec::with_capacity(calls_per_client);
                for _ in 0..calls_per_client {
                    let start = Instant::now();
                    let reply = client
                        .output("hi")
                        .map_err(|e| BenchError::client("output(\"hi\")", e))?;
                    samples.push(start.elapsed());
                    if reply != "You said: hi" {
                        return Err(BenchError::Invalid(format!("output reply {reply:?}")));
                    }
                }
                Ok(samples)
            },
        ));
    }
    start_line.wait();
    let start = Instant::now();
    let mut samples = Vec::with_capacity(clients * calls_per_client);
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
