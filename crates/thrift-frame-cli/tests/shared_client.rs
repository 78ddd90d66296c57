//! One `SharedClient` used by 16 threads while its server is SIGKILLed and
//! restarted on the same port: every call returns exactly one answer, its
//! own, and none is lost.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use support::ServerProcess;
use tempfile::TempDir;
use thrift_frame_client::{ClientConfig, Idempotency};
use thrift_frame_demo::ping::TPingServiceSyncClient;
use thrift_frame_demo::shared_ping_client;

const THREADS: usize = 16;
const CALLS_PER_THREAD: usize = 60;

#[test]
fn sixteen_threads_share_one_client_across_a_server_kill_and_restart() -> Result<()> {
    let dir = TempDir::new()?;
    let mut server = ServerProcess::start(&dir, support::restartable_port()?, &[])?;
    let port = server.port;
    let mut config = ClientConfig::new(format!("127.0.0.1:{port}"));
    config.call_timeout = Duration::from_secs(2);
    // Fewer connections than threads: calls wait for one another's connections.
    let client = Arc::new(shared_ping_client(config, 6)?);
    let done = Arc::new(AtomicUsize::new(0));

    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, done) = (client.clone(), done.clone());
            thread::spawn(move || -> Result<Vec<String>> {
                let mut replies = Vec::new();
                for i in 0..CALLS_PER_THREAD {
                    let msg = format!("thread {t} call {i}");
                    let reply = client
                        .call("output", Idempotency::Idempotent, |c| c.output(msg.clone()))
                        .with_context(|| format!("{msg} failed"))?;
                    ensure!(reply == format!("You said: {msg}"), "{msg} got {reply:?}");
                    replies.push(reply);
                    done.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(5));
                }
                Ok(replies)
            })
        })
        .collect();

    // Kill the server once the calls are under way, and bring it back.
    support::wait_until(Duration::from_secs(20), "100 calls are done", || {
        done.load(Ordering::SeqCst) >= 100
    })?;
    server.kill();
    let _restarted = ServerProcess::start(&dir, port, &[])?;

    let mut answered = 0;
    for t in threads {
        let replies = t.join().map_err(|_| anyhow!("a thread panicked"))??;
        ensure!(replies.len() == CALLS_PER_THREAD);
        answered += replies.len();
    }
    ensure!(answered == THREADS * CALLS_PER_THREAD);
    let stats = client.stats();
    ensure!(stats.reconnects >= 1, "{stats:?}");
    ensure!(stats.failures == 0, "{stats:?}");
    ensure!(
        client.connections() <= 6,
        "{} connections",
        client.connections()
    );
    Ok(())
}
