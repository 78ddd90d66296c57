//! The HTTP transport: calls and replies through client_stack and
//! server_stack, and what the server answers to requests that are not
//! Thrift calls or break its limits. Peers' bytes are proven by the interop
//! matrix (every client against every HTTP server); here, the edges.

use std::io::{self, Cursor, Read, Write};
use std::sync::{Arc, Mutex};

use thrift::protocol::{TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol};
use thrift_frame_wire::{
    describe, ClientStack, HttpEnd, HttpTarget, Limits, Protocol, ServerStack, Transport,
    WireConfig,
};

/// A `Write` whose bytes the test can read back.
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
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.take()).into_owned()
    }
}

fn wire(protocol: Protocol, max: usize) -> WireConfig {
    WireConfig {
        protocol,
        transport: Transport::Http,
        limits: Limits::new(max, max, max).expect("limits"),
    }
}

fn write_call(out: &mut dyn TOutputProtocol, name: &str, kind: TMessageType, text: &str) {
    out.write_message_begin(&TMessageIdentifier::new(name, kind, 3))
        .expect("begin");
    out.write_string(text).expect("string");
    out.write_message_end().expect("end");
    out.flush().expect("flush");
}

fn read_call(input: &mut dyn TInputProtocol) -> (String, String) {
    let ident = input.read_message_begin().expect("begin");
    let text = input.read_string().expect("string");
    input.read_message_end().expect("end");
    (ident.name, text)
}

/// The request bytes a client stack writes for one call.
fn request_bytes(protocol: Protocol, text: &str) -> Vec<u8> {
    let sink = Sink::default();
    let ClientStack {
        output: mut out, ..
    } = wire(protocol, 4 << 20).client_stack(
        io::empty(),
        sink.clone(),
        &HttpTarget::new("example:9091", "/thrift"),
    );
    write_call(&mut *out, "ping", TMessageType::Call, text);
    sink.take()
}

#[test]
fn a_call_and_its_reply_cross_in_every_protocol() {
    let text = "é".repeat(600_000);
    for protocol in Protocol::ALL {
        let request = request_bytes(protocol, &text);
        let head = String::from_utf8_lossy(&request[..200]).into_owned();
        assert!(head.starts_with("POST /thrift HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("\r\nHost: example:9091\r\n"), "{head}");
        assert!(
            head.contains("\r\nContent-Type: application/x-thrift\r\n"),
            "{head}"
        );

        let replies = Sink::default();
        let ServerStack {
            mut input,
            mut output,
            http,
            ..
        } = wire(protocol, 4 << 20).server_stack(Cursor::new(request), replies.clone());
        assert_eq!(read_call(&mut *input), ("ping".into(), text.clone()));
        write_call(&mut *output, "ping", TMessageType::Reply, &text);
        assert_eq!(http.expect("http").ended(), None);

        let response = replies.take();
        let ClientStack {
            input: mut client_in,
            ..
        } = wire(protocol, 4 << 20).client_stack(
            Cursor::new(response),
            io::sink(),
            &HttpTarget::new("h", "/"),
        );
        assert_eq!(
            read_call(&mut *client_in),
            ("ping".into(), text.clone()),
            "{protocol}"
        );
    }
}

/// Runs a server stack over `request`; returns what it answered, why the
/// transport ended, and the read error.
fn serve(request: &[u8], max: usize) -> (String, Option<HttpEnd>, Option<String>) {
    let replies = Sink::default();
    let stack =
        wire(Protocol::Binary, max).server_stack(Cursor::new(request.to_vec()), replies.clone());
    let ServerStack {
        mut input, http, ..
    } = stack;
    let error = input.read_message_begin().err().map(|e| describe(&e));
    (replies.text(), http.expect("http").ended(), error)
}

#[test]
fn a_get_on_the_health_path_is_answered_and_not_an_error() {
    let (answer, ended, _) = serve(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 1024);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
    assert_eq!(ended, Some(HttpEnd::HealthChecked));
}

#[test]
fn requests_that_are_not_thrift_calls_get_their_status() {
    let cases: [(&[u8], u16); 7] = [
        (b"GET / HTTP/1.1\r\n\r\n", 405),
        (b"PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (
            b"POST / HTTP/1.1\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\nabcd",
            415,
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            411,
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"\x80\x01\x00\x01\x00\x00\x00\x04ping", 400),
    ];
    for (request, status) in cases {
        let (answer, ended, error) = serve(request, 1024);
        let shown = String::from_utf8_lossy(request);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{shown:?}: {answer}"
        );
        assert!(
            answer.contains("Connection: close\r\n"),
            "{shown:?}: {answer}"
        );
        match ended {
            Some(HttpEnd::Refused { status: s, .. }) => assert_eq!(s, status, "{shown:?}"),
            other => panic!("{shown:?}: ended {other:?}"),
        }
        let error = error.expect("the read fails");
        assert!(
            error.contains(&format!("HTTP {status}")),
            "{shown:?}: {error}"
        );
    }
}

#[test]
fn a_head_larger_than_the_limit_is_refused_with_431() {
    let mut request = b"POST / HTTP/1.1\r\nX-Pad: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 20_000));
    let (answer, _, error) = serve(&request, 1 << 20);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(error.expect("fails").contains("431"));
}

#[test]
fn a_message_longer_than_its_body_is_a_bad_request() {
    // A strict binary ping call whose name claims 4 bytes, in a body of 10.
    let body = b"\x80\x01\x00\x01\x00\x00\x00\x04pi";
    let mut request =
        format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(body);
    request.extend_from_slice(b"POST / HTTP/1.1\r\n");
    let (answer, ended, _) = serve(&request, 1024);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("past the end of its HTTP body"), "{answer}");
    assert!(matches!(ended, Some(HttpEnd::Refused { status: 400, .. })));
}

#[test]
fn an_unanswered_oneway_request_gets_an_empty_200_and_the_next_request_is_read() {
    let mut request = request_bytes(Protocol::Compact, "first");
    request.extend(request_bytes(Protocol::Compact, "second"));
    let replies = Sink::default();
    let ServerStack {
        mut input, http, ..
    } = wire(Protocol::Compact, 1024).server_stack(Cursor::new(request), replies.clone());
    let http = http.expect("http");
    assert_eq!(read_call(&mut *input).1, "first");
    assert!(http.owes_response());
    http.answer_unanswered().expect("answer");
    assert!(!http.owes_response());
    let answer = replies.text();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Length: 0\r\n"), "{answer}");
    assert_eq!(read_call(&mut *input).1, "second");
}

/// A reply message's bytes in `protocol`, without any transport.
fn reply_body(protocol: Protocol, text: &str) -> Vec<u8> {
    let sink = Sink::default();
    let plain = WireConfig {
        protocol,
        transport: Transport::Buffered,
        limits: Limits::default(),
    };
    let mut out = plain.output_protocol(sink.clone());
    write_call(&mut *out, "ping", TMessageType::Reply, text);
    sink.take()
}

fn client_reads(response: Vec<u8>) -> thrift::Result<String> {
    let ClientStack { mut input, .. } = wire(Protocol::Binary, 1 << 20).client_stack(
        Cursor::new(response),
        io::sink(),
        &HttpTarget::new("h", "/"),
    );
    input.read_message_begin()?;
    let text = input.read_string()?;
    input.read_message_end()?;
    Ok(text)
}

#[test]
fn the_client_reads_chunked_close_delimited_and_oneway_answered_responses() {
    let body = reply_body(Protocol::Binary, &"x".repeat(5000));
    // Go's server: chunked, after an empty 200 for an earlier oneway call.
    let mut chunked = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
    chunked.extend(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in body.chunks(1000) {
        chunked.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend(piece);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    assert_eq!(client_reads(chunked).expect("chunked"), "x".repeat(5000));
    // Python's HTTP/1.0 server: no length, the body ends with the connection.
    let mut until_close = b"HTTP/1.0 200 OK\r\nContent-Type: application/x-thrift\r\n\r\n".to_vec();
    until_close.extend(&body);
    assert_eq!(
        client_reads(until_close).expect("until close"),
        "x".repeat(5000)
    );
}

#[test]
fn the_client_reports_an_error_status_with_the_servers_words() {
    let response = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large".to_vec();
    let e = client_reads(response).expect_err("413");
    let text = describe(&e);
    assert!(
        text.contains("HTTP 413 Payload Too Large from the server: too large"),
        "{text}"
    );
}

#[test]
fn the_client_refuses_a_response_longer_than_its_limit_before_reading_it() {
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n".to_vec();
    let e = client_reads(response).expect_err("too long");
    assert!(describe(&e).contains("exceeds the limit"), "{e}");
}

/// Reads fail like a stalled socket once the bytes run out.
struct ThenStalls(Cursor<Vec<u8>>);

impl thrift_frame_wire::ReadToVec for ThenStalls {}

impl Read for ThenStalls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::new(io::ErrorKind::TimedOut, "stalled")),
            n => Ok(n),
        }
    }
}

#[test]
fn a_reply_is_read_without_reading_past_its_response() {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        reply_body(Protocol::Binary, "hi").len()
    )
    .into_bytes();
    response.extend(reply_body(Protocol::Binary, "hi"));
    let ClientStack { mut input, .. } = wire(Protocol::Binary, 1024).client_stack(
        ThenStalls(Cursor::new(response)),
        io::sink(),
        &HttpTarget::new("h", "/"),
    );
    input.read_message_begin().expect("begin");
    assert_eq!(input.read_string().expect("string"), "hi");
    input.read_message_end().expect("end");
}

/// The thrift crate's exception path (`handle_process_result`, as every
/// generated processor uses it) flushes inside the message, before its end:
/// over HTTP that must still be one response holding the whole message.
#[test]
fn an_exception_reply_is_one_response_with_the_whole_message() {
    for protocol in Protocol::ALL {
        let replies = Sink::default();
        let mut stack = wire(protocol, 1 << 20)
            .server_stack(Cursor::new(request_bytes(protocol, "x")), replies.clone());
        let ident = stack.input.read_message_begin().expect("begin");
        let failed = Err(thrift::Error::Application(thrift::ApplicationError::new(
            thrift::ApplicationErrorKind::InternalError,
            "handler failed",
        )));
        thrift::server::handle_process_result(&ident, failed, &mut *stack.output)
            .expect("exception written");
        let answer = replies.take();
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert_eq!(
            text.matches("HTTP/1.1 200 OK").count(),
            1,
            "{protocol}: {text}"
        );
        let ClientStack { mut input, .. } = wire(protocol, 1 << 20).client_stack(
            Cursor::new(answer),
            io::sink(),
            &HttpTarget::new("h", "/"),
        );
        let reply = input.read_message_begin().expect("reply");
        assert_eq!(reply.message_type, TMessageType::Exception, "{protocol}");
        let error = thrift::Error::read_application_error_from_in_protocol(&mut *input)
            .expect("the exception");
        assert_eq!(error.message, "handler failed");
        input
            .read_message_end()
            .expect("the whole message, its end included");
    }
}
