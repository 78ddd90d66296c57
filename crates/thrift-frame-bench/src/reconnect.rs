//! Reconnect cost: from a restarted server accepting again to the Rust
//! client's first successful call, with the client's default backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use thrift_frame_demo::PingCalls;
use thrift_frame_wire::WireConfig;

use crate::measure;
use crate::peers::Peers;
use crate::BenchError;

/// How long the server stays down each time: several backoff steps, so the
/// client is deep in its backoff when the server returns, as in a real outage.
const OUTAGE: Duration = Duration::from_millis(400);

/// Kills and restarts the Rust server `restarts` times while a client pings
/// it continuously; returns each recovery time.
pub fn recovery_times(peers: &Peers, restarts: usize) -> Result<Vec<Duration>, BenchError> {
    let mut server = peers.start_server("rs", "threaded", 0, &[])?;
    let port = server.port;
    let successes: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let pinger = {
        let mut client = measure::client(&server.addr(), &WireConfig::default())?;
        let (successes, stop) = (successes.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // Failures are expected during the outage; only successes count.
                if client.ping("x").is_ok() {
                    if let Ok(mut s) = successes.lock() {
                        s.push(Instant::now());
                    }
                }
                thread::sleep(Duration::from_millis(1));
            }
        })
    };

    let mut recoveries = Vec::with_capacity(restarts);
    let result = (|| {
        for _ in 0..restarts {
            server.kill()?;
            thread::sleep(OUTAGE); // the outage under measurement, not a readiness wait
            server = peers.start_server("rs", "threaded", port, &[])?;
            let back = server.listening_at();
            let until = Instant::now() + Duration::from_secs(30);
            let first = loop {
                let seen = successes
                    .lock()
                    .map_err(|_| BenchError::Invalid("pinger panicked".into()))?
                    .iter()
                    .copied()
                    .find(|t| *t > back);
                if let Some(t) = seen {
                    break t;
                }
                if Instant::now() > until {
                    return Err(BenchError::Invalid("the client never came back".into()));
                }
                thread::sleep(Duration::from_millis(1));
            };
            recoveries.push(first - back);
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    let _ = pinger.join();
    result.map(|()| recoveries)
}
