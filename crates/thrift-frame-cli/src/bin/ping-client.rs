//! `ping-client`: calls one or more servers round after round, checks every
//! reply, and reconnects whenever a server goes away (see interop/SPEC.md).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use thrift_frame_cli::args::{parse_size, ProtocolArg, ServiceArg, TransportArg};
use thrift_frame_cli::payload::{self, PayloadKind};
use thrift_frame_cli::report::{process_cpu_time, CallRecord};
use thrift_frame_client::{Backoff, ClientConfig, ClientStats, Limits, REQUEST_ID_HEADER};
use thrift_frame_demo::{
    ping_client, student_client, PingCalls, PingClient, StudentCalls, StudentClient,
};
use thrift_frame_wire::{HeaderTransform, WireConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CallArg {
    Ping,
    Output,
}

/// Thrift PingService / Serv client with reconnects (see interop/SPEC.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The server's host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9091)]
    port: u16,
    /// Servers to call in turn, one reconnecting client each: host:port,host:port.
    #[arg(long, value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Must match the server's.
    #[arg(long, value_enum, default_value = "compact")]
    protocol: ProtocolArg,
    /// Must match the server's.
    #[arg(long, value_enum, default_value = "buffered")]
    transport: TransportArg,
    /// ping: PingService (--call); student: Serv.put with a varying Student.
    #[arg(long, value_enum, default_value = "ping")]
    service: ServiceArg,
    /// Talk to a multiplexed server.
    #[arg(long)]
    multiplexed: bool,
    /// Which PingService call to make.
    #[arg(long, value_enum, default_value = "ping")]
    call: CallArg,
    /// Payload sizes in bytes (K = 1024, M = 1048576).
    #[arg(long, value_parser = parse_size, value_delimiter = ',', default_value = "128K,256K,512K,1M")]
    sizes: Vec<usize>,
    /// What the payloads are made of, exactly --sizes bytes each.
    #[arg(long, value_enum, default_value = "alnum")]
    payload: PayloadKind,
    /// Rounds to run; 0 runs forever.
    #[arg(long, default_value_t = 1)]
    rounds: u64,
    /// Pause between rounds.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
    /// One JSON object per call on stdout.
    #[arg(long)]
    json: bool,
    /// Log every message each way as TDebugProtocol text (long strings
    /// cut), at trace level for target thrift_frame::wire.
    #[arg(long)]
    trace_wire: bool,
    /// TCP connect timeout of each connection attempt.
    #[arg(long, default_value_t = 2000)]
    connect_timeout_ms: u64,
    /// While a connection attempt gets no answer (packets dropped), start a
    /// fresh one this often instead of waiting for the kernel's SYN retry.
    #[arg(long, default_value_t = 200)]
    connect_resend_ms: u64,
    /// Send and receive timeout of each call.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// First wait between connection attempts.
    #[arg(long, default_value_t = Backoff::default().initial.as_millis() as u64)]
    backoff_initial_ms: u64,
    /// Each wait between connection attempts is this times the last.
    #[arg(long, default_value_t = Backoff::default().multiplier)]
    backoff_multiplier: f64,
    /// Longest wait between connection attempts.
    #[arg(long, default_value_t = Backoff::default().max_delay.as_millis() as u64)]
    backoff_max_ms: u64,
    /// Give up connecting after this long (0: never).
    #[arg(long, default_value_t = 30_000)]
    reconnect_deadline_ms: u64,
    /// Give up connecting after this many attempts (0: no limit).
    #[arg(long, default_value_t = 0)]
    max_connect_attempts: u32,
    /// Attempts per idempotent call (ping, output), the first included.
    #[arg(long, default_value_t = 3)]
    call_attempts: u32,
    /// Header transport: send every request through the zlib transform.
    #[arg(long)]
    header_zlib: bool,
    /// Largest reply string accepted.
    #[arg(long, value_parser = parse_size, default_value = "16M")]
    max_string_size: usize,
}

/// One server's reconnecting client.
enum Target {
    Ping(PingClient),
    Student(StudentClient),
}

impl Target {
    fn stats(&self) -> ClientStats {
        match self {
            Target::Ping(c) => c.stats(),
            Target::Student(c) => c.stats(),
        }
    }

    /// Header transport: the request id the last call was sent with, and
    /// the one its reply carried back.
    fn request_ids(&self) -> (Option<String>, Option<String>) {
        let (sent, got) = match self {
            Target::Ping(c) => (c.last_request_id(), c.reply_header(REQUEST_ID_HEADER)),
            Target::Student(c) => (c.last_request_id(), c.reply_header(REQUEST_ID_HEADER)),
        };
        (sent.map(str::to_owned), got.map(str::to_owned))
    }
}

fn client_config(args: &Args, endpoint: &str) -> anyhow::Result<ClientConfig> {
    let limits = Limits::new(
        Limits::DEFAULT_MAX_FRAME_SIZE.max(args.max_string_size),
        Limits::DEFAULT_MAX_MESSAGE_SIZE.max(args.max_string_size),
        args.max_string_size,
    )
    .context("checking --max-string-size")?;
    let mut config = ClientConfig::new(endpoint);
    config.wire = WireConfig {
        protocol: args.protocol.into(),
        transport: args.transport.into(),
        limits,
    };
    config.trace_wire = args.trace_wire;
    if args.header_zlib {
        config.header_transforms = vec![HeaderTransform::Zlib];
    }
    config.connect_timeout = Duration::from_millis(args.connect_timeout_ms);
    config.connect_resend_interval = Duration::from_millis(args.connect_resend_ms);
    config.call_timeout = Duration::from_millis(args.timeout_ms);
    config.max_call_attempts = args.call_attempts;
    config.backoff = Backoff {
        initial: Duration::from_millis(args.backoff_initial_ms),
        multiplier: args.backoff_multiplier,
        max_delay: Duration::from_millis(args.backoff_max_ms),
        max_attempts: (args.max_connect_attempts > 0).then_some(args.max_connect_attempts),
        deadline: (args.reconnect_deadline_ms > 0)
            .then(|| Duration::from_millis(args.reconnect_deadline_ms)),
        ..Backoff::default()
    };
    Ok(config)
}

fn targets(args: &Args) -> anyhow::Result<Vec<(String, Target)>> {
    let endpoints = if args.endpoints.is_empty() {
        vec![format!("{}:{}", args.host, args.port)]
    } else {
        args.endpoints.clone()
    };
    endpoints
        .into_iter()
        .map(|endpoint| {
            let config = client_config(args, &endpoint)?;
            let target = match args.service {
                ServiceArg::Ping => Target::Ping(ping_client(config, args.multiplexed)?),
                ServiceArg::Student => Target::Student(student_client(config, args.multiplexed)?),
            };
            Ok((endpoint, target))
        })
        .collect()
}

fn main() {
    let args = Args::parse();
    thrift_frame_cli::init_logging_traced("info", args.trace_wire);
    let targets = match targets(&args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ping-client: {e:#}");
            std::process::exit(2);
        }
    };
    match run(&args, targets) {
        Ok(0) => {}
        Ok(failures) => {
            eprintln!("ping-client: {failures} call(s) failed");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("ping-client: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Runs every round; returns the number of failed calls.
fn run(args: &Args, mut targets: Vec<(String, Target)>) -> anyhow::Result<u64> {
    let mut rng = rand::thread_rng();
    // Generated once, reused every round, as the original main loop does.
    let payloads: Vec<String> = args
        .sizes
        .iter()
        .map(|&size| payload::generate(args.payload, size, &mut rng))
        .collect();
    let mut out = std::io::stdout().lock();
    let mut failures = 0u64;
    let mut next_sno = 0i32;
    let mut round = 0u64;
    while args.rounds == 0 || round < args.rounds {
        round += 1;
        if round > 1 && args.interval_ms > 0 {
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
        for (endpoint, target) in targets.iter_mut() {
            let mut records = Vec::new();
            match target {
                Target::Ping(_) => {
                    for msg in &payloads {
                        let Target::Ping(client) = &mut *target else {
                            unreachable!("matched above");
                        };
                        let outcome = ping_call(client, args.call, msg)?;
                        records.push((outcome, target.request_ids()));
                    }
                }
                Target::Student(client) => {
                    next_sno = next_sno.wrapping_add(1);
                    let outcome = put_call(client, next_sno)?;
                    records.push((outcome, target.request_ids()));
                }
            }
            let reconnects = target.stats().reconnects;
            let header = args.transport == TransportArg::Header;
            for ((call, size, (latency, cpu), mut error), (sent, got)) in records {
                let echoed = match (&sent, &got) {
                    (Some(sent), Some(got)) if sent != got => {
                        error.get_or_insert(format!(
                            "x-request-id mismatch: sent {sent}, got {got}"
                        ));
                        false
                    }
                    (Some(_), Some(_)) => true,
                    _ => false,
                };
                if error.is_some() {
                    failures += 1;
                }
                let record = CallRecord {
                    endpoint: endpoint.clone(),
                    round,
                    call: call.to_string(),
                    size,
                    latency_ns: latency.as_nanos() as u64,
                    cpu_ns: cpu.as_nanos() as u64,
                    ok: error.is_none(),
                    error,
                    reconnects,
                    request_id: if header { sent } else { None },
                    request_id_echoed: header.then_some(echoed),
                };
                let line = if args.json {
                    record.to_json()
                } else {
                    record.to_text()
                };
                writeln!(out, "{line}").context("writing to stdout")?;
            }
            out.flush().context("writing to stdout")?;
        }
    }
    for (endpoint, target) in &targets {
        let s = target.stats();
        eprintln!(
            "ping-client: {endpoint}: {} calls, {} failed, {} reconnects, {} ms reconnecting",
            s.calls,
            s.failures,
            s.reconnects,
            s.time_reconnecting.as_millis()
        );
    }
    Ok(failures)
}

/// Call name, size, (latency, CPU time) and error of one call.
type Outcome = (&'static str, usize, (Duration, Duration), Option<String>);

/// The wall clock and the process's CPU clock, read together before a call
/// and after it, so `latency_ns` and `cpu_ns` cover the same span
/// (reconnects and retries included).
struct CallTimer {
    wall: Instant,
    cpu: Duration,
}

impl CallTimer {
    fn start() -> anyhow::Result<CallTimer> {
        let wall = Instant::now();
        let cpu = process_cpu_time().context("reading CLOCK_PROCESS_CPUTIME_ID")?;
        Ok(CallTimer { wall, cpu })
    }

    /// Wall time and CPU time since [`CallTimer::start`].
    fn stop(&self) -> anyhow::Result<(Duration, Duration)> {
        let cpu = process_cpu_time().context("reading CLOCK_PROCESS_CPUTIME_ID")?;
        Ok((self.wall.elapsed(), cpu.saturating_sub(self.cpu)))
    }
}

fn ping_call(client: &mut PingClient, call: CallArg, msg: &str) -> anyhow::Result<Outcome> {
    let timer = CallTimer::start()?;
    let (name, result) = match call {
        CallArg::Ping => ("ping", client.ping(msg)),
        CallArg::Output => ("output", client.output(msg)),
    };
    let times = timer.stop()?;
    // Checked after the clocks stop: the figures are the call's, not the check's.
    let error = match result {
        Ok(reply) => wrong_reply(call, msg, &reply),
        Err(e) => Some(e.to_string()),
    };
    Ok((name, msg.len(), times, error))
}

/// Why `reply` is not the answer to `call` with `msg`, if it is not. The
/// expected reply is not built unless it is needed (1 MiB for output).
fn wrong_reply(call: CallArg, msg: &str, reply: &str) -> Option<String> {
    let right = match call {
        CallArg::Ping => reply
            .strip_prefix("receive len: ")
            .is_some_and(|n| n == msg.len().to_string()),
        CallArg::Output => reply.strip_prefix("You said: ") == Some(msg),
    };
    (!right).then(|| {
        let expected = match call {
            CallArg::Ping => format!("receive len: {}", msg.len()),
            CallArg::Output => format!("You said: {}", abbreviate(msg)),
        };
        format!(
            "wrong reply: expected {:?}, got {:?}",
            abbreviate(&expected),
            abbreviate(reply)
        )
    })
}

fn put_call(client: &mut StudentClient, sno: i32) -> anyhow::Result<Outcome> {
    let student = payload::student(sno);
    let size = student.sname.as_ref().map_or(0, String::len);
    let timer = CallTimer::start()?;
    let result = client.put(&student);
    let times = timer.stop()?;
    let error = match result {
        Ok(got) if got == sno => None,
        Ok(got) => Some(format!("wrong reply: expected sno {sno}, got {got}")),
        Err(e) => Some(e.to_string()),
    };
    Ok(("put", size, times, error))
}

/// Keeps megabyte payloads out of error messages.
fn abbreviate(s: &str) -> String {
    const KEEP: usize = 60;
    if s.len() <= KEEP {
        return s.to_string();
    }
    let cut = (0..=KEEP)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &s[..cut], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_reply_passes() {
        let msg = "é".repeat(100);
        assert_eq!(wrong_reply(CallArg::Ping, &msg, "receive len: 200"), None);
        assert_eq!(
            wrong_reply(CallArg::Output, &msg, &format!("You said: {msg}")),
            None
        );
        for (call, reply) in [
            (CallArg::Ping, "receive len: 100"),
            (CallArg::Ping, "receive len: 2000"),
            (CallArg::Ping, "You said: 200"),
            (CallArg::Output, "You said: é"),
            (CallArg::Output, "you said: "),
            (CallArg::Output, "receive len: 200"),
        ] {
            let why = wrong_reply(call, &msg, reply).expect("a wrong reply");
            assert!(why.starts_with("wrong reply: expected"), "{why}");
        }
        let cut = format!("You said: {}", &msg[..198]);
        assert!(wrong_reply(CallArg::Output, &msg, &cut).is_some());
    }
}
