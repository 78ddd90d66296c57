//! Writes the seed corpus from real calls: `seeds/server_request/` and
//! `seeds/client_reply/` under the directory given (default `seeds`).
//!
//! Requests are what the generated clients (and, for the multiplexed server,
//! `TMultiplexedOutputProtocol`) write through the wire crate; replies are
//! what the real processors answer to them, exceptions included. Every seed
//! exists for each protocol x transport, with the selector byte in front
//! (see the crate docs). Payloads are small: the fuzzer grows them itself.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use thrift::protocol::{
    TFieldIdentifier, TMessageIdentifier, TMessageType, TMultiplexedOutputProtocol,
    TOutputProtocol, TStructIdentifier, TType,
};
use thrift::{ApplicationError, ApplicationErrorKind};
use thrift_frame_demo::{Service, PING_SERVICE_NAME, STUDENT_SERVICE_NAME};
use thrift_frame_fuzz::{
    call_with_replies, selector, serve, student, wire, Call, Capture, CALLS, OUTPUT_MESSAGE,
    PING_MESSAGE, SERVICES, WIRES,
};
use thrift_frame_idl::ping::{PingServiceSyncClient, TPingServiceSyncClient};
use thrift_frame_idl::student::{ServSyncClient, Student, TServSyncClient};
use thrift_frame_wire::{OutputProtocol, Transport, WireConfig, ZlibWriter, IO_BUFFER_BYTES};

/// One request, as a client would send it.
#[derive(Debug, Clone, Copy)]
enum Request {
    Ping(&'static str),
    Output(&'static str),
    Put,
    /// A student without `sno`: the handler answers with an exception.
    PutWithoutSno,
    /// A method no service has, with one string argument.
    Unknown,
}

/// Encodes `requests` back to back, each under `mux` (a multiplexed service
/// name) if given, with sequence numbers 1, 2, ... as one client makes them.
fn requests(wire: &WireConfig, mux: Option<&str>, requests: &[Request]) -> Vec<u8> {
    if wire.transport == Transport::Zlib {
        // One zlib stream for the whole connection, whichever client wrote
        // each request: encode them plain, then deflate them together.
        let plain = WireConfig {
            transport: Transport::Buffered,
            ..wire.clone()
        };
        let capture = Capture::default();
        let mut deflated = ZlibWriter::new(capture.clone(), IO_BUFFER_BYTES);
        deflated
            .write_all(&self::requests(&plain, mux, requests))
            .and_then(|()| deflated.flush())
            .expect("writing to memory cannot fail");
        return capture.bytes();
    }
    let capture = Capture::default();
    let output = || -> OutputProtocol {
        let out = wire.output_protocol(capture.clone());
        match mux {
            Some(name) => Box::new(TMultiplexedOutputProtocol::new(name, out)),
            None => out,
        }
    };
    // A client with no replies to read: each call writes its request, then
    // fails at the end of its (empty) input, which is all we want of it.
    let input = || wire.input_protocol(Cursor::new(Vec::new()));
    let mut ping = PingServiceSyncClient::new(input(), output());
    let mut serv = ServSyncClient::new(input(), output());
    let mut unknown = output();
    for (seq, request) in (1..).zip(requests) {
        match *request {
            Request::Ping(msg) => drop(ping.ping(msg.to_owned())),
            Request::Output(msg) => drop(ping.output(msg.to_owned())),
            Request::Put => drop(serv.put(student())),
            Request::PutWithoutSno => drop(serv.put(Student {
                sno: None,
                ..student()
            })),
            Request::Unknown => {
                write_unknown_call(&mut *unknown, seq).expect("writing to memory cannot fail")
            }
        }
    }
    capture.bytes()
}

fn write_unknown_call(out: &mut dyn TOutputProtocol, seq: i32) -> thrift::Result<()> {
    out.write_message_begin(&TMessageIdentifier::new("nosuch", TMessageType::Call, seq))?;
    out.write_struct_begin(&TStructIdentifier::new("nosuch_args"))?;
    out.write_field_begin(&TFieldIdentifier::new("msg", TType::String, 1))?;
    out.write_string("hi")?;
    out.write_field_end()?;
    out.write_field_stop()?;
    out.write_struct_end()?;
    out.write_message_end()?;
    out.flush()
}

/// The exception reply a server sends for a call that failed in its handler
/// (the demo handlers never fail on input a client sends, so it is built here).
fn exception_reply(wire: &WireConfig, method: &str) -> thrift::Result<Vec<u8>> {
    let capture = Capture::default();
    // An auto server writes nothing before a request says what the client
    // speaks; the client side of auto speaks THeader.
    let wire = match wire.transport {
        Transport::Auto => WireConfig {
            transport: Transport::Header,
            ..wire.clone()
        },
        _ => wire.clone(),
    };
    // The server's side of the wire: over HTTP, a response, not a request.
    let mut out = wire
        .server_stack(Cursor::new(Vec::new()), capture.clone())
        .output;
    out.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Exception, 1))?;
    let error = ApplicationError::new(ApplicationErrorKind::InternalError, "handler failed");
    thrift::Error::write_application_error_to_out_protocol(&error, &mut *out)?;
    out.write_message_end()?;
    out.flush()?;
    Ok(capture.bytes())
}

/// What the real server answers to `stream`, and how many calls it served.
fn replies(selector: u8, stream: &[u8]) -> (Vec<u8>, usize) {
    let capture = Capture::default();
    let served = serve(selector, stream, capture.clone());
    (capture.bytes(), served)
}

fn write_seed(dir: &Path, name: &str, selector: u8, body: &[u8]) {
    let mut bytes = Vec::with_capacity(body.len() + 1);
    bytes.push(selector);
    bytes.extend_from_slice(body);
    let path = dir.join(format!("{name}-{selector:02x}"));
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    let server_dir = root.join("server_request");
    let client_dir = root.join("client_reply");
    for dir in [&server_dir, &client_dir] {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    use Request::*;
    let ping_cases: &[(&str, &[Request])] = &[
        ("ping", &[Ping(PING_MESSAGE)]),
        ("ping-empty", &[Ping("")]),
        ("output", &[Output(OUTPUT_MESSAGE)]),
        ("ping-output", &[Ping(PING_MESSAGE), Output(OUTPUT_MESSAGE)]),
        ("unknown-then-ping", &[Unknown, Ping(PING_MESSAGE)]),
    ];
    let student_cases: &[(&str, &[Request])] = &[
        ("put", &[Put]),
        ("put-put", &[Put, Put]),
        ("put-without-sno", &[PutWithoutSno]),
        ("unknown-then-put", &[Unknown, Put]),
    ];
    let mut server_seeds = 0;
    let mut client_seeds = 0;
    for (w, _) in WIRES.iter().enumerate() {
        let wire = wire(selector(w, 0));
        for (c, call) in CALLS.iter().enumerate() {
            let method = call.method();
            let reply = exception_reply(&wire, method).expect("writing to memory cannot fail");
            write_seed(
                &client_dir,
                &format!("{method}-exception"),
                selector(w, c),
                &reply,
            );
            client_seeds += 1;
        }
        for (s, service) in SERVICES.iter().enumerate() {
            let sel = selector(w, s);
            // (name, bytes, whether the server serves a call of it) of
            // every request stream for this service.
            let mut streams: Vec<(String, Vec<u8>, bool)> = Vec::new();
            let mut add = |mux: Option<&str>, cases: &[(&str, &[Request])], servable| {
                for (name, reqs) in cases {
                    let prefix = mux.map(|m| format!("{m}-")).unwrap_or_default();
                    let stream = requests(&wire, mux, reqs);
                    streams.push((format!("{prefix}{name}"), stream, servable));
                }
            };
            match service {
                Service::Ping => add(None, ping_cases, true),
                Service::Student => add(None, student_cases, true),
                Service::Multiplexed => {
                    add(Some(PING_SERVICE_NAME), ping_cases, true);
                    add(Some(STUDENT_SERVICE_NAME), student_cases, true);
                    // A service the server does not have, and no prefix at all.
                    add(Some("Nope"), &ping_cases[..1], false);
                    add(None, &ping_cases[..1], false);
                }
            }
            for (name, stream, servable) in &streams {
                // A seed meant as a real call that the server cannot serve
                // would only exercise the error path: fail loudly instead.
                let (_, served) = replies(sel, stream);
                assert!(
                    served > 0 || !servable,
                    "{name} ({sel:02x}): the server served no call"
                );
                write_seed(&server_dir, name, sel, stream);
                server_seeds += 1;
            }
            // The server's answers are the client target's input; a
            // multiplexed server answers with the bare method name, as
            // plain services do, so those are covered by the first two.
            if *service == Service::Multiplexed {
                continue;
            }
            for (name, stream, _) in &streams {
                let (reply, _) = replies(sel, stream);
                let call = match (service, name.as_str()) {
                    (Service::Student, _) => Call::Put,
                    (_, n) if n.starts_with("output") => Call::Output,
                    _ => Call::Ping,
                };
                let c = CALLS.iter().position(|&x| x == call).expect("call listed");
                let client_sel = selector(w, c);
                // A reply stream that starts with the call's own reply must
                // get through the client target, or the seed proves nothing.
                let good = call_with_replies(client_sel, &reply, std::io::sink());
                let first_is_own = !name.starts_with("unknown");
                assert!(
                    good > 0 || !first_is_own,
                    "{name} ({client_sel:02x}): the client read no reply"
                );
                write_seed(&client_dir, name, client_sel, &reply);
                client_seeds += 1;
            }
        }
    }
    let boundary_seeds = boundary_seeds(&root.join("message_boundary"));
    let header_seeds = header_seeds(&root.join("header_frame"));
    println!(
        "wrote {server_seeds} seeds to {}, {client_seeds} to {}, {boundary_seeds} to \
         message_boundary and {header_seeds} to header_frame",
        server_dir.display(),
        client_dir.display()
    );
}

/// The C++, Go and Python libraries' own messages (the wire crate's
/// vectors), in chunks of 1 and of 64 bytes; run from the repository root.
fn boundary_seeds(dir: &Path) -> usize {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let vectors = Path::new("crates/thrift-frame-wire/tests/vectors/messages");
    let entries = fs::read_dir(vectors)
        .unwrap_or_else(|e| panic!("reading {} (run from the root): {e}", vectors.display()));
    let mut seeds = 0;
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let protocol_bit = match path.extension().and_then(|e| e.to_str()) {
            Some("binary") => 0,
            Some("compact") => 1,
            _ => continue,
        };
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        for chunk_bits in [0u8, 63 << 1] {
            write_seed(dir, name, protocol_bit | chunk_bits, &bytes);
            seeds += 1;
        }
    }
    assert!(seeds > 0, "no vectors in {}", vectors.display());
    seeds
}

/// The C++, Go and Python libraries' THeader frames (the wire crate's
/// vectors) without their 4-byte length; run from the repository root.
fn header_seeds(dir: &Path) -> usize {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let vectors = Path::new("crates/thrift-frame-wire/tests/vectors/header");
    let entries = fs::read_dir(vectors)
        .unwrap_or_else(|e| panic!("reading {} (run from the root): {e}", vectors.display()));
    let mut seeds = 0;
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("cpp" | "go" | "py")
        ) {
            continue;
        }
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        let path = dir.join(name);
        fs::write(&path, bytes.get(4..).unwrap_or(&[]))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        seeds += 1;
    }
    assert!(seeds > 0, "no vectors in {}", vectors.display());
    seeds
}
