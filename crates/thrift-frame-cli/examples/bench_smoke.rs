//! `make bench-smoke`: a 1 MiB ping through thrift-frame (compact protocol,
//! buffered transport, threaded server) next to a raw TCP loopback exchange of
//! the same bytes, in one process, one after the other, reported as a ratio.
//!
//! The raw exchange is the floor: the client writes a 4-byte length and the
//! payload, the server reads all of it and answers with a short line, just as
//! `ping` does, minus Thrift. Both sides use TCP_NODELAY.
//!
//! Prints medians and the ratio; it asserts nothing about time (a loaded CI
//! machine would make such an assertion flaky). The full benchmark is `make bench`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use rand::SeedableRng;
use thrift_frame_cli::payload::{self, PayloadKind};
use thrift_frame_client::{ClientConfig, PingClient};
use thrift_frame_server::{serve, ServerConfig, ServerModel, ShutdownSignal};
use thrift_frame_wire::{Protocol, Transport, WireConfig};

const PAYLOAD: usize = 1024 * 1024;
const WARMUP: usize = 20;
const CALLS: usize = 200;

fn main() -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let msg = payload::generate(PayloadKind::Alnum, PAYLOAD, &mut rng);

    // Interleave the two measurements in rounds so that a burst of noise on
    // the machine hits both rather than one.
    let mut raw = RawTcp::start()?;
    let mut thrift = ThriftPing::start()?;
    let (mut raw_ns, mut thrift_ns) = (Vec::new(), Vec::new());
    for i in 0..WARMUP + CALLS {
        let r = raw.exchange(msg.as_bytes())?;
        let t = thrift.ping(&msg)?;
        if i >= WARMUP {
            raw_ns.push(r);
            thrift_ns.push(t);
        }
    }
    thrift.stop()?;

    let raw_p50 = median(&mut raw_ns);
    let thrift_p50 = median(&mut thrift_ns);
    println!("1 MiB round trip on loopback, median of {CALLS} after {WARMUP} warm-up calls:");
    println!("  raw TCP                          {:>9.3} ms", ms(raw_p50));
    println!(
        "  thrift-frame compact+buffered    {:>9.3} ms",
        ms(thrift_p50)
    );
    println!(
        "  ratio thrift/raw                 {:>9.2}x   (target <= 2.00x)",
        thrift_p50.as_secs_f64() / raw_p50.as_secs_f64()
    );
    Ok(())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A raw TCP echo-length server on a thread, and a connected client.
struct RawTcp {
    stream: TcpStream,
}

impl RawTcp {
    fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the raw TCP server")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || -> Result<()> {
            let (mut conn, _) = listener.accept()?;
            conn.set_nodelay(true)?;
            let mut buf = vec![0u8; PAYLOAD];
            loop {
                let mut len = [0u8; 4];
                if conn.read_exact(&mut len).is_err() {
                    return Ok(()); // client gone
                }
                let n = u32::from_be_bytes(len) as usize;
                ensure!(n <= buf.len(), "raw frame of {n} bytes");
                conn.read_exact(&mut buf[..n])?;
                conn.write_all(format!("receive len: {n}\n").as_bytes())?;
            }
        });
        let stream = TcpStream::connect(addr).context("connecting to the raw TCP server")?;
        stream.set_nodelay(true)?;
        Ok(RawTcp { stream })
    }

    fn exchange(&mut self, payload: &[u8]) -> Result<Duration> {
        let start = Instant::now();
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame)?;
        let mut reply = Vec::with_capacity(32);
        let mut byte = [0u8; 1];
        while byte[0] != b'\n' {
            self.stream.read_exact(&mut byte)?;
            reply.push(byte[0]);
        }
        let elapsed = start.elapsed();
        ensure!(
            reply.starts_with(b"receive len: "),
            "raw reply {:?}",
            String::from_utf8_lossy(&reply)
        );
        Ok(elapsed)
    }
}

/// The thrift-frame server on a thread and a `PingClient` connected to it.
struct ThriftPing {
    client: PingClient,
    shutdown: ShutdownSignal,
    server: thread::JoinHandle<Result<thrift_frame_server::ServeReport>>,
}

impl ThriftPing {
    fn start() -> Result<Self> {
        let wire = WireConfig {
            protocol: Protocol::Compact,
            transport: Transport::Buffered,
            ..WireConfig::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the thrift server")?;
        let addr = listener.local_addr()?;
        let shutdown = ShutdownSignal::new();
        let config = ServerConfig {
            wire: wire.clone(),
            model: ServerModel::Threaded,
            ..ServerConfig::default()
        };
        let signal = shutdown.clone();
        let server =
            thread::spawn(move || serve(listener, signal, config).context("thrift server"));
        let mut client_config = ClientConfig::new(addr.to_string());
        client_config.wire = wire;
        let client = PingClient::new(client_config)?;
        Ok(ThriftPing {
            client,
            shutdown,
            server,
        })
    }

    fn ping(&mut self, msg: &str) -> Result<Duration> {
        let start = Instant::now();
        let reply = self.client.ping(msg)?;
        let elapsed = start.elapsed();
        let expected = format!("receive len: {}", msg.len());
        if reply != expected {
            bail!("thrift reply {reply:?}, expected {expected:?}");
        }
        Ok(elapsed)
    }

    fn stop(mut self) -> Result<()> {
        self.client.disconnect();
        self.shutdown.trigger();
        match self.server.join() {
            Ok(report) => report.map(|_| ()),
            Err(_) => bail!("the thrift server thread panicked"),
        }
    }
}
