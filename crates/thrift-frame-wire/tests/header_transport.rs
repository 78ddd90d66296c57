//! The header transport and `auto` through server_stack and client_stack,
//! on the C++, Go and Python libraries' own frames and messages
//! (`tests/vectors/header/`, `tests/vectors/messages/`): what a Rust
//! server reads from them, and that what it answers is what those
//! libraries write.

use std::fs;
use std::io::{self, Cursor, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol,
    TStructIdentifier, TType,
};
use thrift_frame_wire::{
    describe, read_header_frame, ClientStack, HeaderProtocol, HttpTarget, Limits, Protocol,
    ServerStack, Transport, WireConfig,
};

const TEXT: &str = "Hello, 世界";

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
impl Sink {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("sink"))
    }
}

fn vector(dir: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(dir)
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn wire(protocol: Protocol, transport: Transport) -> WireConfig {
    WireConfig {
        protocol,
        transport,
        limits: Limits::default(),
    }
}

/// Reads `testString(s)` as a generated processor would.
fn read_call(input: &mut dyn TInputProtocol) -> thrift::Result<(TMessageIdentifier, String)> {
    let ident = input.read_message_begin()?;
    input.read_struct_begin()?;
    let field = input.read_field_begin()?;
    assert_eq!((field.field_type, field.id), (TType::String, Some(1)));
    let text = input.read_string()?;
    input.read_field_end()?;
    assert_eq!(input.read_field_begin()?.field_type, TType::Stop);
    input.read_struct_end()?;
    Ok((ident, text))
}

/// Writes what the generated processor writes for `testString`'s success.
fn write_reply(output: &mut dyn TOutputProtocol, seqid: i32, text: &str) {
    let ident = TMessageIdentifier::new("testString", TMessageType::Reply, seqid);
    output.write_message_begin(&ident).expect("begin");
    output
        .write_struct_begin(&TStructIdentifier::new("testString_result"))
        .expect("struct");
    output
        .write_field_begin(&TFieldIdentifier::new("success", TType::String, 0))
        .expect("field");
    output.write_string(text).expect("string");
    output.write_field_end().expect("field end");
    output.write_field_stop().expect("stop");
    output.write_struct_end().expect("struct end");
    output.write_message_end().expect("end");
    output.flush().expect("flush");
}

/// What the header's info says, as a sorted list.
fn info_of(frame: &[u8]) -> Vec<(String, String)> {
    let (header, _) = read_header_frame(&frame[4..], 1 << 20).expect("a frame");
    let mut info = header.info;
    info.sort();
    info
}

#[test]
fn a_header_server_reads_each_librarys_request_and_answers_in_its_protocol() {
    for case in [
        "binary_plain",
        "compact_plain",
        "binary_info",
        "compact_info_two",
    ] {
        for peer in ["cpp", "go", "py"] {
            let what = format!("{case}.{peer}");
            let request = vector("header", &what);
            // Configured for the other protocol: the frame decides.
            let configured = if case.starts_with("binary") {
                Protocol::Compact
            } else {
                Protocol::Binary
            };
            let replies = Sink::default();
            let ServerStack {
                mut input,
                mut output,
                header,
                ..
            } = wire(configured, Transport::Header)
                .server_stack(Cursor::new(request), replies.clone());
            let exchange = header.expect("a header exchange");
            let (ident, text) = read_call(&mut *input).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                (ident.name.as_str(), text.as_str()),
                ("testString", TEXT),
                "{what}"
            );
            let expected_info = info_of(&vector("header", &what));
            let mut received = exchange.received_headers();
            received.sort();
            assert_eq!(received, expected_info, "{what}");

            exchange.set_header("x-request-id", "req-42");
            write_reply(&mut *output, ident.sequence_number, TEXT);
            let reply = replies.take();
            let (frame, message) = read_header_frame(&reply[4..], 1 << 20).expect("our reply");
            let protocol = if case.starts_with("binary") {
                HeaderProtocol::Binary
            } else {
                HeaderProtocol::Compact
            };
            assert_eq!(frame.protocol, Some(protocol), "{what}: answered in kind");
            assert_eq!(frame.sequence, 1, "{what}");
            assert_eq!(frame.get("x-request-id"), Some("req-42"), "{what}");
            if case == "binary_info" && peer != "cpp" {
                // Go and Python wrote this very reply: the same bytes.
                assert_eq!(
                    reply,
                    vector("header", &format!("reply_binary_info.{peer}")),
                    "{what}"
                );
            }
            assert!(!message.is_empty());
        }
    }
}

#[test]
fn a_zlib_request_is_answered_in_zlib() {
    for peer in ["cpp", "go", "py"] {
        let replies = Sink::default();
        let ServerStack {
            mut input,
            mut output,
            ..
        } = wire(Protocol::Binary, Transport::Header).server_stack(
            Cursor::new(vector("header", &format!("compact_zlib.{peer}"))),
            replies.clone(),
        );
        let (ident, text) = read_call(&mut *input).expect("read");
        assert_eq!(text, TEXT, "{peer}");
        write_reply(
            &mut *output,
            ident.sequence_number,
            "z".repeat(10_000).as_str(),
        );
        let reply = replies.take();
        assert!(
            reply.len() < 1000,
            "{peer}: 10,000 z's deflate to {} bytes",
            reply.len()
        );
        let (frame, _) = read_header_frame(&reply[4..], 1 << 20).expect("our reply");
        assert_eq!(frame.transforms.len(), 1, "{peer}");
        assert_eq!(frame.protocol, Some(HeaderProtocol::Compact), "{peer}");
    }
}

#[test]
fn a_header_client_writes_the_libraries_request_and_reads_their_reply() {
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let requests = Sink::default();
        let reply = vector("header", "reply_binary_info.go");
        let ClientStack {
            mut input,
            mut output,
            header,
        } = wire(protocol, Transport::Header).client_stack(
            Cursor::new(reply),
            requests.clone(),
            &HttpTarget::new("h", "/"),
        );
        let exchange = header.expect("a header exchange");
        exchange.set_header("x-request-id", "req-42");
        let ident = TMessageIdentifier::new("testString", TMessageType::Call, 1);
        output.write_message_begin(&ident).expect("begin");
        output
            .write_struct_begin(&TStructIdentifier::new("testString_args"))
            .expect("struct");
        output
            .write_field_begin(&TFieldIdentifier::new("s", TType::String, 1))
            .expect("field");
        output.write_string(TEXT).expect("string");
        output.write_field_end().expect("field end");
        output.write_field_stop().expect("stop");
        output.write_struct_end().expect("struct end");
        output.write_message_end().expect("end");
        output.flush().expect("flush");
        let sent = requests.take();
        if protocol == Protocol::Binary {
            assert_eq!(
                sent,
                vector("header", "binary_info.py"),
                "our request is Python's"
            );
            assert_eq!(sent, vector("header", "binary_info.go"), "and Go's");
        } else {
            let (frame, _) = read_header_frame(&sent[4..], 1 << 20).expect("ours");
            assert_eq!(frame.protocol, Some(HeaderProtocol::Compact));
        }
        // Headers sent once are not sent again.
        assert!(exchange.outgoing().is_empty());

        let reply = input.read_message_begin().expect("the reply");
        assert_eq!(reply.message_type, TMessageType::Reply);
        input.read_struct_begin().expect("struct");
        input.read_field_begin().expect("field");
        assert_eq!(input.read_string().expect("string"), TEXT);
        assert_eq!(
            exchange.received_header("x-request-id").as_deref(),
            Some("req-42")
        );
    }
}

#[test]
fn an_auto_server_answers_each_kind_of_client_in_kind() {
    let framed = |m: &[u8]| [&(m.len() as u32).to_be_bytes()[..], m].concat();
    for peer in ["cpp", "go", "py"] {
        for (protocol, ext) in [(Protocol::Binary, "binary"), (Protocol::Compact, "compact")] {
            let message = vector("messages", &format!("call_string.{peer}.{ext}"));
            let case = match protocol {
                Protocol::Binary => "binary_info",
                _ => "compact_info_two",
            };
            let header = vector("header", &format!("{case}.{peer}"));
            for (transport, request) in [
                (Transport::Buffered, message.clone()),
                (Transport::Framed, framed(&message)),
                (Transport::Header, header),
            ] {
                let what = format!("{peer} {protocol} {transport}");
                let replies = Sink::default();
                // Configured json: the client's bytes decide.
                let ServerStack {
                    mut input,
                    mut output,
                    detected,
                    ..
                } = wire(Protocol::Json, Transport::Auto)
                    .server_stack(Cursor::new(request), replies.clone());
                let (ident, text) =
                    read_call(&mut *input).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(text, TEXT, "{what}");
                assert_eq!(
                    detected.expect("auto").get(),
                    Some((protocol, transport)),
                    "{what}"
                );
                write_reply(&mut *output, ident.sequence_number, TEXT);
                let reply = replies.take();
                // The reply reads back with a plain client of that kind.
                let ClientStack { mut input, .. } = wire(protocol, transport).client_stack(
                    Cursor::new(reply),
                    io::sink(),
                    &HttpTarget::new("h", "/"),
                );
                let ident = input
                    .read_message_begin()
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(ident.message_type, TMessageType::Reply, "{what}");
            }
        }
    }
}

#[test]
fn what_is_not_a_header_frame_is_refused_with_what_it_looks_like() {
    let message = vector("messages", "call_string.go.binary");
    let framed = [&(message.len() as u32).to_be_bytes()[..], &message].concat();
    for (bytes, says) in [
        (message.clone(), "buffered"),
        (framed, "framed binary"),
        (b"POST / HTTP/1.1\r\n\r\n".to_vec(), "HTTP"),
    ] {
        let ServerStack { mut input, .. } =
            wire(Protocol::Binary, Transport::Header).server_stack(Cursor::new(bytes), io::sink());
        let error = describe(&input.read_message_begin().expect_err("refused"));
        assert!(
            error.contains("not a THeader frame") && error.contains(says),
            "{error}"
        );
    }
    // A frame over the limit is refused on its length, before its bytes.
    let mut big = vec![0x01, 0x00, 0x00, 0x00, 0x0f, 0xff];
    big.extend_from_slice(&[0; 10]);
    let limits = Limits {
        max_frame_size: 1 << 20,
        ..Limits::default()
    };
    let config = WireConfig {
        limits,
        ..wire(Protocol::Binary, Transport::Header)
    };
    let ServerStack { mut input, .. } = config.server_stack(Cursor::new(big), io::sink());
    let error = describe(&input.read_message_begin().expect_err("refused"));
    assert!(error.contains("exceeds the limit"), "{error}");
    // A frame cut short is the end of the stream, not a short message.
    let mut cut = vector("header", "binary_plain.go");
    cut.truncate(cut.len() - 3);
    let ServerStack { mut input, .. } =
        wire(Protocol::Binary, Transport::Header).server_stack(Cursor::new(cut), io::sink());
    match input.read_message_begin() {
        Err(thrift::Error::Transport(t)) => {
            assert_eq!(t.kind, thrift::TransportErrorKind::EndOfFile, "{t:?}")
        }
        other => panic!("{other:?}"),
    }
    // Auto: bytes that are no Thrift this server knows.
    let ServerStack { mut input, .. } = wire(Protocol::Binary, Transport::Auto).server_stack(
        Cursor::new(b"\x16\x03\x01\x02\x00\x01".to_vec()),
        io::sink(),
    );
    let error = describe(&input.read_message_begin().expect_err("refused"));
    assert!(error.contains("not a Thrift message"), "{error}");
}

/// The frame C++'s THeaderTransport writes when it closes: no message.
const CPP_CLOSING_FRAME: [u8; 18] = [
    0, 0, 0, 0x0e, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
];

#[test]
fn an_empty_frame_is_skipped_and_then_the_end_is_an_orderly_close() {
    // Empty frame, then a call: the call is read.
    let mut stream = CPP_CLOSING_FRAME.to_vec();
    stream.extend(vector("header", "binary_plain.cpp"));
    let ServerStack { mut input, .. } =
        wire(Protocol::Binary, Transport::Header).server_stack(Cursor::new(stream), io::sink());
    assert_eq!(read_call(&mut *input).expect("the call").1, TEXT);
    // Empty frame, then the end: the end between frames, not a truncation.
    let ServerStack { mut input, .. } = wire(Protocol::Binary, Transport::Header)
        .server_stack(Cursor::new(CPP_CLOSING_FRAME.to_vec()), io::sink());
    match input.read_message_begin() {
        Err(thrift::Error::Transport(t)) => {
            assert_eq!(t.kind, thrift::TransportErrorKind::EndOfFile);
            assert_eq!(t.message, thrift_frame_wire::CLOSED_BETWEEN_FRAMES);
        }
        other => panic!("{other:?}"),
    }
}
