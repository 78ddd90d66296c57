//! Every kind of bad input closes that one connection, is counted as bad, and
//! leaves the server serving: checked for each server model.

mod support;

use std::time::Duration;

use anyhow::{ensure, Result};
use support::{assert_closed_by_server, ping_call, ping_header, send_raw, TestServer};
use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TStructIdentifier, TType,
};
use thrift_frame_server::{Limits, Protocol, ServerConfig, ServerModel, Transport};
use thrift_frame_wire::{write_header_frame, HeaderFrame, HeaderProtocol, WireConfig};

const MODELS: [ServerModel; 5] = [
    ServerModel::Simple,
    ServerModel::Threaded,
    ServerModel::Pool {
        workers: 2,
        queue: 4,
    },
    ServerModel::Nonblocking {
        io_threads: 1,
        workers: 2,
        max_buffered_bytes: 64 << 20,
    },
    // The processor on the I/O thread.
    ServerModel::Nonblocking {
        io_threads: 2,
        workers: 0,
        max_buffered_bytes: 64 << 20,
    },
];

/// Whether `model` serves the wire: the non-blocking model serves framed,
/// and buffered binary and compact, only.
fn serves(model: ServerModel, protocol: Protocol, transport: Transport) -> bool {
    match model {
        ServerModel::Nonblocking { .. } => match transport {
            Transport::Framed => true,
            Transport::Header => protocol != Protocol::Json,
            Transport::Buffered => protocol != Protocol::Json,
            _ => false,
        },
        _ => true,
    }
}

fn config(protocol: Protocol, transport: Transport, model: ServerModel) -> ServerConfig {
    ServerConfig {
        wire: WireConfig {
            protocol,
            transport,
            limits: Limits::default(),
        },
        model,
        stall_timeout: Some(Duration::from_millis(300)),
        ..ServerConfig::default()
    }
}

/// Sends `bytes` on a raw connection to a fresh server, then checks that the
/// server closed that connection, counted it as bad and served good clients
/// before and after.
fn rejects(config: ServerConfig, bytes: &[u8], then_hang_up: bool) -> Result<()> {
    let server = TestServer::start(config)?;
    server.assert_serves("before")?;
    let conn = send_raw(server.addr, bytes)?;
    if then_hang_up {
        // The peer goes away mid-call. A half close (FIN) looks the same to
        // the server as a full close and lets us watch it close its side.
        conn.shutdown(std::net::Shutdown::Write)?;
    }
    assert_closed_by_server(conn, Duration::from_secs(10))?;
    server.assert_serves("after")?;
    let report = server.stop()?;
    ensure!(
        report.bad_connections == 1,
        "expected 1 bad connection, got {report:?}"
    );
    ensure!(report.calls == 2, "expected 2 good calls, got {report:?}");
    Ok(())
}

#[test]
fn random_bytes_are_rejected() -> Result<()> {
    // Fixed "random" bytes so a failure reproduces; none starts a valid message.
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for model in MODELS {
        for (p, t) in [
            (Protocol::Compact, Transport::Buffered),
            (Protocol::Binary, Transport::Buffered),
            (Protocol::Binary, Transport::Framed),
            (Protocol::Json, Transport::Buffered),
            (Protocol::Compact, Transport::Zlib),
            (Protocol::Compact, Transport::Http),
            (Protocol::Binary, Transport::Header),
            (Protocol::Compact, Transport::Auto),
        ] {
            if !serves(model, p, t) {
                continue;
            }
            rejects(config(p, t, model), &garbage, false)?;
        }
    }
    Ok(())
}

#[test]
fn binary_client_on_a_compact_server_is_rejected() -> Result<()> {
    for model in MODELS {
        let cfg = config(Protocol::Compact, Transport::Buffered, model);
        rejects(cfg, &ping_call(Protocol::Binary), false)?;
    }
    Ok(())
}

#[test]
fn compact_client_on_a_binary_server_is_rejected() -> Result<()> {
    for model in MODELS {
        let cfg = config(Protocol::Binary, Transport::Buffered, model);
        rejects(cfg, &ping_call(Protocol::Compact), false)?;
    }
    Ok(())
}

#[test]
fn buffered_client_on_a_framed_server_is_rejected() -> Result<()> {
    for model in MODELS {
        for p in [Protocol::Binary, Protocol::Compact] {
            rejects(config(p, Transport::Framed, model), &ping_call(p), false)?;
        }
    }
    Ok(())
}

#[test]
fn frame_header_claiming_2_gib_is_rejected_before_allocating() -> Result<()> {
    for model in MODELS {
        let mut bytes = 0x7fff_ffffu32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&ping_call(Protocol::Compact));
        let cfg = config(Protocol::Compact, Transport::Framed, model);
        rejects(cfg, &bytes, false)?;
    }
    Ok(())
}

/// A `ping` whose string claims 1 GiB, followed by a few bytes of it.
fn gigabyte_string_call(protocol: Protocol) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut out: Box<dyn TOutputProtocol> = match protocol {
            Protocol::Binary => Box::new(TBinaryOutputProtocol::new(&mut buf, true)),
            Protocol::Compact => Box::new(TCompactOutputProtocol::new(&mut buf)),
            Protocol::Json => unreachable!("a JSON string has no length prefix to claim"),
        };
        ping_header(out.as_mut());
        out.flush().expect("encode");
    }
    match protocol {
        Protocol::Binary => buf.extend_from_slice(&(1u32 << 30).to_be_bytes()),
        // varint of 2^30
        Protocol::Compact => buf.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x04]),
        Protocol::Json => unreachable!("a JSON string has no length prefix to claim"),
    }
    buf.extend_from_slice(b"xxxxxxxx");
    buf
}

#[test]
fn string_claiming_1_gib_is_rejected_before_allocating() -> Result<()> {
    for model in MODELS {
        for p in [Protocol::Binary, Protocol::Compact] {
            let cfg = config(p, Transport::Buffered, model);
            rejects(cfg, &gigabyte_string_call(p), false)?;
        }
    }
    Ok(())
}

#[test]
fn string_over_the_configured_limit_is_rejected() -> Result<()> {
    for model in MODELS {
        let mut cfg = config(Protocol::Compact, Transport::Buffered, model);
        cfg.wire.limits = Limits::new(64 * 1024, 64 * 1024, 1024)?;
        let server = TestServer::start(cfg)?;
        server.assert_serves(&"a".repeat(1024))?;
        ensure!(
            server.assert_serves(&"a".repeat(1025)).is_err(),
            "{model:?}: a 1025-byte string passed a 1024-byte limit"
        );
        let report = server.stop()?;
        ensure!(report.bad_connections >= 1, "{model:?}: {report:?}");
    }
    Ok(())
}

#[test]
fn half_a_message_then_silence_is_closed_after_the_stall_timeout() -> Result<()> {
    for model in MODELS {
        for t in [
            Transport::Buffered,
            Transport::Framed,
            Transport::Zlib,
            Transport::Http,
            Transport::Header,
            Transport::Auto,
        ] {
            if !serves(model, Protocol::Compact, t) {
                continue;
            }
            let call = ping_call(Protocol::Compact);
            let bytes = match t {
                // A frame header announcing the whole call, then half of it.
                Transport::Framed => {
                    let mut b = (call.len() as u32).to_be_bytes().to_vec();
                    b.extend_from_slice(&call[..call.len() / 2]);
                    b
                }
                Transport::Buffered => call[..call.len() / 2].to_vec(),
                // Half of the call, deflated and sync-flushed.
                Transport::Zlib => deflated(&call[..call.len() / 2]),
                // A POST announcing the whole call, then half of its body.
                Transport::Http => {
                    let mut b = post_head(call.len()).into_bytes();
                    b.extend_from_slice(&call[..call.len() / 2]);
                    b
                }
                // Half of a THeader frame (auto: once it is seen to be one).
                Transport::Header | Transport::Auto => {
                    let mut frame = Vec::new();
                    let header = HeaderFrame::new(HeaderProtocol::Compact);
                    write_header_frame(&header, &call, &mut frame)?;
                    frame.truncate(frame.len() / 2);
                    frame
                }
            };
            rejects(config(Protocol::Compact, t, model), &bytes, false)?;
        }
    }
    Ok(())
}

/// The head of a Thrift POST whose body is `length` bytes.
fn post_head(length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

#[test]
fn an_http_body_over_the_frame_limit_is_refused_before_it_is_read() -> Result<()> {
    for model in MODELS
        .into_iter()
        .filter(|m| serves(*m, Protocol::Compact, Transport::Http))
    {
        let mut cfg = config(Protocol::Compact, Transport::Http, model);
        cfg.wire.limits = Limits::new(64 * 1024, 64 * 1024, 1024)?;
        // Only the head is sent: the refusal must not wait for the body.
        rejects(cfg, post_head(64 * 1024 + 1).as_bytes(), false)?;
    }
    Ok(())
}

#[test]
fn a_message_longer_than_its_http_body_is_refused() -> Result<()> {
    for model in MODELS
        .into_iter()
        .filter(|m| serves(*m, Protocol::Compact, Transport::Http))
    {
        let call = ping_call(Protocol::Compact);
        let mut bytes = post_head(call.len() / 2).into_bytes();
        bytes.extend_from_slice(&call[..call.len() / 2]);
        rejects(
            config(Protocol::Compact, Transport::Http, model),
            &bytes,
            false,
        )?;
    }
    Ok(())
}

/// `bytes` as a zlib transport sends them: one stream, sync-flushed.
fn deflated(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).expect("deflate");
    z.flush().expect("deflate");
    z.get_ref().clone()
}

#[test]
fn a_zlib_bomb_is_cut_at_the_message_limit() -> Result<()> {
    // A ping carrying 64 unknown fields of 1 MiB of zeros each: every
    // string is within the 1 MiB string limit and the server would skip
    // them all, but the message inflates to 64 MiB from about 64 KiB.
    let mut inflated = Vec::new();
    {
        let mut out = TCompactOutputProtocol::new(&mut inflated);
        ping_header(&mut out);
        out.write_string("hello").expect("encode");
        out.write_field_end().expect("encode");
        let zeros = vec![0u8; (1 << 20) - 64];
        for id in 2..66 {
            out.write_field_begin(&TFieldIdentifier::new("junk", TType::String, id))
                .expect("encode");
            out.write_bytes(&zeros).expect("encode");
            out.write_field_end().expect("encode");
        }
        out.write_field_stop().expect("encode");
        out.write_struct_end().expect("encode");
        out.write_message_end().expect("encode");
        out.flush().expect("encode");
    }
    let bomb = deflated(&inflated);
    ensure!(bomb.len() < 200_000, "the bomb is {} bytes", bomb.len());
    let mut cfg = config(Protocol::Compact, Transport::Zlib, ServerModel::Threaded);
    cfg.wire.limits = Limits::new(1 << 20, 1 << 20, 1 << 20)?;
    rejects(cfg, &bomb, false)
}

#[test]
fn a_json_string_over_the_limit_is_rejected_as_it_is_read() -> Result<()> {
    let mut cfg = config(Protocol::Json, Transport::Buffered, ServerModel::Threaded);
    cfg.wire.limits = Limits::new(64 * 1024, 64 * 1024, 1024)?;
    // A string that never ends: the limit, not the end, stops the read.
    let mut bytes = br#"[1,"ping",1,1,{"1":{"str":""#.to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 32 * 1024));
    rejects(cfg, &bytes, false)
}

#[test]
fn client_disconnecting_mid_call_is_logged_and_forgotten() -> Result<()> {
    for model in MODELS {
        let call = ping_call(Protocol::Binary);
        let cfg = config(Protocol::Binary, Transport::Buffered, model);
        rejects(cfg, &call[..call.len() - 3], true)?;
    }
    Ok(())
}

#[test]
fn unknown_method_gets_an_exception_and_the_connection_stays_usable() -> Result<()> {
    // JSON too: its arguments are skipped through the boxed protocol.
    for model in MODELS {
        for protocol in [Protocol::Compact, Protocol::Json] {
            if serves(model, protocol, Transport::Buffered) {
                unknown_method_then_ping(protocol, model)?;
            }
        }
    }
    Ok(())
}

fn unknown_method_then_ping(protocol: Protocol, model: ServerModel) -> Result<()> {
    // `nope(1: string)` followed by a good `ping("hello")` on one connection.
    let mut bytes = Vec::new();
    {
        let mut out: Box<dyn TOutputProtocol> = match protocol {
            Protocol::Json => Box::new(thrift_frame_wire::TJsonOutputProtocol::new(&mut bytes)),
            _ => Box::new(TCompactOutputProtocol::new(&mut bytes)),
        };
        out.write_message_begin(&TMessageIdentifier::new("nope", TMessageType::Call, 1))?;
        out.write_struct_begin(&TStructIdentifier::new("nope_args"))?;
        out.write_field_begin(&TFieldIdentifier::new("x", TType::String, 1))?;
        out.write_string("ignored")?;
        out.write_field_end()?;
        out.write_field_stop()?;
        out.write_struct_end()?;
        out.write_message_end()?;
        out.flush()?;
    }
    bytes.extend_from_slice(&ping_call(protocol));
    let cfg = config(protocol, Transport::Buffered, model);
    let server = TestServer::start(cfg)?;
    let mut conn = send_raw(server.addr, &bytes)?;
    conn.shutdown(std::net::Shutdown::Write)?;
    let mut replies = Vec::new();
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    std::io::Read::read_to_end(&mut conn, &mut replies)?;
    let text = String::from_utf8_lossy(&replies);
    ensure!(
        text.contains("unknown method nope"),
        "{protocol}: no exception in {text:?}"
    );
    ensure!(
        text.contains("receive len: 5"),
        "{protocol}: no ping reply in {text:?}"
    );
    let report = server.stop()?;
    ensure!(
        report.bad_connections == 0 && report.calls == 1,
        "{protocol}: {report:?}"
    );
    Ok(())
}
