//! The non-blocking model on what only it does: many connections and large
//! calls on a few threads, requests pipelined in one write, a peer that
//! never reads its replies, a bound on bytes held for all connections
//! together, and trickling peers that must not delay anyone else. (The
//! bad-input, shutdown, limit and panic tests of the other models run on it
//! too, in bad_input.rs and hardening.rs.)

mod support;

use std::io::{Cursor, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use support::{wait_until, TestServer};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol,
    TStructIdentifier, TType,
};
use thrift_frame_client::ClientConfig;
use thrift_frame_demo::{ping_client, PingCalls};
use thrift_frame_server::{Limits, Protocol, ServerConfig, ServerModel, Transport};
use thrift_frame_wire::WireConfig;

fn nonblocking(io_threads: usize, workers: usize, max_buffered_bytes: usize) -> ServerModel {
    ServerModel::Nonblocking {
        io_threads,
        workers,
        max_buffered_bytes,
    }
}

fn config(protocol: Protocol, transport: Transport, model: ServerModel) -> ServerConfig {
    ServerConfig {
        wire: WireConfig {
            protocol,
            transport,
            ..WireConfig::default()
        },
        model,
        ..ServerConfig::default()
    }
}

fn client_for(server: &TestServer) -> Result<thrift_frame_demo::PingClient> {
    let mut config = ClientConfig::new(server.addr.to_string());
    config.wire = server.config.wire.clone();
    config.call_timeout = Duration::from_secs(10);
    config.max_call_attempts = 1;
    Ok(ping_client(config, false)?)
}

/// One call of `method(msg)` with `seqid`, unframed.
fn call(protocol: Protocol, method: &str, seqid: i32, msg: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut out: Box<dyn TOutputProtocol> = match protocol {
            Protocol::Binary => Box::new(TBinaryOutputProtocol::new(&mut buf, true)),
            _ => Box::new(TCompactOutputProtocol::new(&mut buf)),
        };
        let encode = |out: &mut dyn TOutputProtocol| -> thrift::Result<()> {
            out.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Call, seqid))?;
            out.write_struct_begin(&TStructIdentifier::new("args"))?;
            out.write_field_begin(&TFieldIdentifier::new("msg", TType::String, 1))?;
            out.write_string(msg)?;
            out.write_field_end()?;
            out.write_field_stop()?;
            out.write_struct_end()?;
            out.write_message_end()?;
            out.flush()
        };
        encode(out.as_mut()).expect("encoding into a Vec");
    }
    buf
}

fn framed(message: Vec<u8>) -> Vec<u8> {
    let mut frame = (message.len() as u32).to_be_bytes().to_vec();
    frame.extend(message);
    frame
}

/// Reads one reply: its seqid and its string result.
fn read_reply(input: &mut dyn TInputProtocol) -> Result<(i32, String)> {
    let header = input.read_message_begin()?;
    ensure!(
        header.message_type == TMessageType::Reply,
        "{:?}",
        header.message_type
    );
    input.read_struct_begin()?;
    let field = input.read_field_begin()?;
    ensure!(field.id == Some(0), "{field:?}");
    let result = input.read_string()?;
    input.read_field_end()?;
    ensure!(input.read_field_begin()?.field_type == TType::Stop);
    input.read_struct_end()?;
    input.read_message_end()?;
    Ok((header.sequence_number, result))
}

const WIRES: [(Protocol, Transport); 5] = [
    (Protocol::Binary, Transport::Framed),
    (Protocol::Compact, Transport::Framed),
    (Protocol::Json, Transport::Framed),
    (Protocol::Binary, Transport::Buffered),
    (Protocol::Compact, Transport::Buffered),
];

#[test]
fn large_calls_on_every_wire_it_serves_from_clients_at_once() -> Result<()> {
    let sizes = [0, 1, 128 << 10, 1 << 20];
    let header = [
        (Protocol::Binary, Transport::Header),
        (Protocol::Compact, Transport::Header),
    ];
    for model in [nonblocking(1, 2, 64 << 20), nonblocking(2, 0, 64 << 20)] {
        for (protocol, transport) in WIRES.into_iter().chain(header) {
            let server = TestServer::start(config(protocol, transport, model))?;
            let clients: Vec<_> = (0..3)
                .map(|n| {
                    let mut client = client_for(&server)?;
                    Ok(thread::spawn(move || -> Result<()> {
                        for size in sizes {
                            let msg: String = "é".repeat(size / 2) + &"x".repeat(n);
                            let echo = client.output(&msg)?;
                            ensure!(echo == format!("You said: {msg}"), "{size} B echo differs");
                            let len = client.ping(&msg)?;
                            ensure!(len == format!("receive len: {}", msg.len()), "{len}");
                        }
                        Ok(())
                    }))
                })
                .collect::<Result<_>>()?;
            for client in clients {
                client
                    .join()
                    .map_err(|_| anyhow!("a client panicked"))?
                    .with_context(|| format!("{model:?} {protocol:?} {transport:?}"))?;
            }
            let report = server.stop()?;
            ensure!(report.calls == 3 * 2 * sizes.len() as u64, "{report:?}");
            ensure!(report.bad_connections == 0, "{report:?}");
        }
    }
    Ok(())
}

#[test]
fn requests_pipelined_in_one_write_are_answered_in_order() -> Result<()> {
    for (protocol, transport) in WIRES {
        if protocol == Protocol::Json {
            continue;
        }
        let server = TestServer::start(config(protocol, transport, nonblocking(1, 2, 64 << 20)))?;
        let mut bytes = Vec::new();
        for seqid in 1..=3 {
            let message = call(protocol, "ping", seqid, &"a".repeat(seqid as usize));
            bytes.extend(match transport {
                Transport::Framed => framed(message),
                _ => message,
            });
        }
        let mut s = TcpStream::connect(server.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(&bytes)?;
        let mut replies = Vec::new();
        for _ in 1..=3 {
            let message = match transport {
                Transport::Framed => {
                    let mut header = [0u8; 4];
                    s.read_exact(&mut header)?;
                    let mut frame = vec![0u8; u32::from_be_bytes(header) as usize];
                    s.read_exact(&mut frame)?;
                    frame
                }
                _ => Vec::new(),
            };
            let reply = match (transport, protocol) {
                (Transport::Framed, Protocol::Binary) => {
                    read_reply(&mut TBinaryInputProtocol::new(Cursor::new(message), true))?
                }
                (Transport::Framed, _) => {
                    read_reply(&mut TCompactInputProtocol::new(Cursor::new(message)))?
                }
                (_, Protocol::Binary) => read_reply(&mut TBinaryInputProtocol::new(&s, true))?,
                _ => read_reply(&mut TCompactInputProtocol::new(&s))?,
            };
            replies.push(reply);
        }
        let expected: Vec<(i32, String)> =
            (1..=3).map(|n| (n, format!("receive len: {n}"))).collect();
        ensure!(
            replies == expected,
            "{protocol:?} {transport:?}: {replies:?}"
        );
        drop(s);
        server.stop()?;
    }
    Ok(())
}

/// Writes `output` calls of `size` bytes back to back, never reading, until
/// the server closes the connection or `give_up` passes; returns the bytes
/// the socket took.
fn send_without_reading(addr: SocketAddr, size: usize, give_up: Duration) -> Result<usize> {
    let request = call(Protocol::Compact, "output", 1, &"r".repeat(size));
    let mut s = TcpStream::connect(addr)?;
    s.set_write_timeout(Some(Duration::from_millis(200)))?;
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < give_up {
        match s.write(&request) {
            Ok(n) => sent += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Blocked by the server not reading: is it still there?
                s.set_nonblocking(true)?;
                let mut probe = [0u8; 1];
                let gone =
                    matches!(s.peek(&mut probe), Ok(0)) || matches!(s.take_error(), Ok(Some(_)));
                s.set_nonblocking(false)?;
                if gone {
                    return Ok(sent);
                }
            }
            Err(_) => return Ok(sent),
        }
    }
    bail!("still connected after {} ms", give_up.as_millis())
}

#[test]
fn a_peer_that_never_reads_its_replies_is_cut_and_holds_one_call_meanwhile() -> Result<()> {
    let mut cfg = config(
        Protocol::Compact,
        Transport::Buffered,
        nonblocking(1, 2, 64 << 20),
    );
    cfg.write_timeout = Some(Duration::from_millis(800));
    let server = TestServer::start(cfg)?;
    let addr = server.addr;
    let size = 256 << 10;
    let hog = thread::spawn(move || send_without_reading(addr, size, Duration::from_secs(20)));
    // Once the server is stuck writing to it, everyone else is still served.
    wait_until(Duration::from_secs(10), "the peer is not reading", || {
        server.monitor.busy_connections() == 1 && server.monitor.report().calls >= 2
    })?;
    for n in 0..3 {
        server.assert_serves(&format!("while the hog waits {n}"))?;
    }
    let sent = hog.join().map_err(|_| anyhow!("the hog panicked"))??;
    let report = server.stop()?;
    ensure!(report.bad_connections == 1, "{report:?}");
    // It sent far more than the server held for it: one request and one
    // reply at a time, and a read's worth of what came after.
    ensure!(sent > 8 * size, "the hog sent only {sent} bytes");
    let held = report.peak_buffered_bytes as usize;
    ensure!(held <= 4 * size, "the server held {held} bytes for it");
    Ok(())
}

#[test]
fn large_requests_from_many_peers_stay_within_the_buffered_bytes_bound() -> Result<()> {
    let message = 1 << 20;
    let bound = 3 << 20;
    let mut cfg = config(
        Protocol::Binary,
        Transport::Framed,
        nonblocking(1, 2, bound),
    );
    cfg.wire.limits = Limits::new(message + 1024, message + 1024, message)?;
    let server = TestServer::start(cfg)?;
    let served = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|n| {
            let mut client = client_for(&server)?;
            let served = served.clone();
            Ok(thread::spawn(move || -> Result<()> {
                for round in 0..2 {
                    let msg = format!("{n}{round}") + &"m".repeat(message - 64);
                    ensure!(client.output(&msg)? == format!("You said: {msg}"));
                    served.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }))
        })
        .collect::<Result<_>>()?;
    for client in clients {
        client.join().map_err(|_| anyhow!("a client panicked"))??;
    }
    ensure!(served.load(Ordering::Relaxed) == 16);
    let report = server.stop()?;
    // Reads wait for room; a reply is counted when it is made, so the bound
    // can be passed by the replies of requests already read.
    let held = report.peak_buffered_bytes as usize;
    ensure!(
        held <= bound + 2 * message,
        "held {held} bytes over a {bound}-byte bound"
    );
    ensure!(held >= message, "held only {held}: the count is not kept");
    Ok(())
}

/// Sends the start of a call one byte per `gap`, never finishing it, until
/// the server closes the connection; returns how long that took.
fn trickle(addr: SocketAddr, gap: Duration, give_up: Duration) -> Result<Duration> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    // A compact call whose string claims 1 MiB: it never ends.
    let mut bytes = call(Protocol::Compact, "ping", 1, "");
    bytes.truncate(bytes.len() - 2);
    bytes.extend_from_slice(&[0x80, 0x80, 0x40]);
    let started = Instant::now();
    for byte in bytes.into_iter().chain(std::iter::repeat(b'a')) {
        if started.elapsed() > give_up {
            bail!("still connected after {} ms", give_up.as_millis());
        }
        if s.write(&[byte]).is_err() {
            return Ok(started.elapsed());
        }
        s.set_nonblocking(true)?;
        let mut probe = [0u8; 1];
        let closed = match s.peek(&mut probe) {
            Ok(_) => true,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        };
        s.set_nonblocking(false)?;
        if closed {
            return Ok(started.elapsed());
        }
        thread::sleep(gap);
    }
    bail!("the byte stream ended")
}

#[test]
fn trickling_peers_delay_nobody_and_are_cut_at_the_request_deadline() -> Result<()> {
    let mut cfg = config(
        Protocol::Compact,
        Transport::Buffered,
        nonblocking(1, 1, 64 << 20),
    );
    cfg.stall_timeout = Some(Duration::from_secs(5));
    cfg.request_timeout = Some(Duration::from_millis(1500));
    let server = TestServer::start(cfg)?;
    let addr = server.addr;
    let tricklers: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                trickle(addr, Duration::from_millis(100), Duration::from_secs(20))
            })
        })
        .collect();
    wait_until(Duration::from_secs(5), "the tricklers are in", || {
        server.monitor.busy_connections() >= 4
    })?;
    // Served while the tricklers are still connected, on the only worker.
    let mut client = client_for(&server)?;
    for n in 0..5 {
        ensure!(client.ping(&"t".repeat(n))? == format!("receive len: {n}"));
    }
    ensure!(
        server.monitor.busy_connections() >= 4,
        "the tricklers were cut before the calls"
    );
    drop(client);
    for t in tricklers {
        let held = t.join().map_err(|_| anyhow!("trickler panicked"))??;
        ensure!(
            held < Duration::from_secs(4),
            "held {} ms",
            held.as_millis()
        );
    }
    let report = server.stop()?;
    ensure!(report.bad_connections == 4, "{report:?}");
    Ok(())
}
