//! The tracing wrappers with trace enabled: every call forwarded unchanged,
//! each message logged once at its end, after its label, on the
//! `thrift_frame::wire` target.

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, OnceLock};

use thrift::protocol::{
    TBinaryInputProtocol, TFieldIdentifier, TInputProtocol, TListIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TStructIdentifier, TType,
};
use thrift_frame_debug::{debug_view, TracingInputProtocol, TracingOutputProtocol, TRACE_TARGET};
use thrift_frame_wire::{InputProtocol, Limits, OutputProtocol, Protocol, Transport, WireConfig};

struct Capture(Mutex<Vec<(String, log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if let Ok(mut records) = self.0.lock() {
            records.push((
                record.target().to_owned(),
                record.level(),
                record.args().to_string(),
            ));
        }
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("one logger");
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

/// The messages logged after `label` (tests run in parallel: each has its
/// own label).
fn logged(label: &str) -> Vec<String> {
    let records = capture().0.lock().expect("records");
    records
        .iter()
        .filter(|(_, _, m)| m.starts_with(label))
        .map(|(target, level, m)| {
            assert_eq!(target, TRACE_TARGET);
            assert_eq!(*level, log::Level::Trace);
            m.clone()
        })
        .collect()
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn wire(protocol: Protocol) -> WireConfig {
    WireConfig {
        protocol,
        transport: Transport::Framed,
        limits: Limits::default(),
    }
}

/// `ping_result { 0: success: string, 1: sizes: list<i32> }` in a reply.
fn write_reply(p: &mut dyn TOutputProtocol, text: &str) -> thrift::Result<()> {
    p.write_message_begin(&TMessageIdentifier::new("ping", TMessageType::Reply, 3))?;
    p.write_struct_begin(&TStructIdentifier::new("ping_result"))?;
    p.write_field_begin(&TFieldIdentifier::new("success", TType::String, 0))?;
    p.write_string(text)?;
    p.write_field_end()?;
    p.write_field_begin(&TFieldIdentifier::new("sizes", TType::List, 1))?;
    p.write_list_begin(&TListIdentifier::new(TType::I32, 2))?;
    p.write_i32(1)?;
    p.write_i32(-2)?;
    p.write_list_end()?;
    p.write_field_end()?;
    p.write_field_stop()?;
    p.write_struct_end()?;
    p.write_message_end()?;
    p.flush()
}

fn encode(wire: &WireConfig, text: &str) -> Vec<u8> {
    let sink = Sink::default();
    let mut out = wire.output_protocol(sink.clone());
    write_reply(&mut *out, text).expect("encode");
    drop(out);
    let bytes = sink.0.lock().expect("sink").clone();
    bytes
}

/// Reads what `write_reply` wrote, as generated code would.
fn read_reply(p: &mut dyn TInputProtocol) -> thrift::Result<(String, Vec<i32>)> {
    let ident = p.read_message_begin()?;
    assert_eq!(ident.name, "ping");
    p.read_struct_begin()?;
    let mut text = String::new();
    let mut sizes = Vec::new();
    loop {
        let field = p.read_field_begin()?;
        match (field.field_type, field.id) {
            (TType::Stop, _) => break,
            (TType::String, Some(0)) => text = p.read_string()?,
            (TType::List, Some(1)) => {
                let list = p.read_list_begin()?;
                for _ in 0..list.size {
                    sizes.push(p.read_i32()?);
                }
                p.read_list_end()?;
            }
            (t, _) => p.skip(t)?,
        }
        p.read_field_end()?;
    }
    p.read_struct_end()?;
    p.read_message_end()?;
    Ok((text, sizes))
}

const READ_TEXT: &str = "(reply) ping( {\n    00:  (string) = \"pong\",\n    01:  (list) = list<i32>[2] {\n      [0] = 1,\n      [1] = -2,\n    },\n  })";

#[test]
fn input_over_a_boxed_protocol_logs_each_message_read() {
    capture();
    for protocol in Protocol::ALL {
        let wire = wire(protocol);
        let mut bytes = encode(&wire, "pong");
        bytes.extend(encode(&wire, "pong"));
        let inner: InputProtocol = wire.input_protocol(Cursor::new(bytes));
        let label = format!("conn#1 {protocol} <-");
        let mut traced = TracingInputProtocol::new(inner, label.clone());
        for _ in 0..2 {
            let (text, sizes) = read_reply(&mut traced).expect("read");
            assert_eq!((text.as_str(), sizes.as_slice()), ("pong", &[1, -2][..]));
            assert!(!traced.is_tracing());
        }
        let want = format!("{label} {READ_TEXT}");
        assert_eq!(logged(&label), vec![want.clone(), want], "{protocol}");
    }
}

#[test]
fn output_over_a_boxed_protocol_logs_and_forwards_unchanged() {
    capture();
    for protocol in Protocol::ALL {
        let wire = wire(protocol);
        let sink = Sink::default();
        let inner: OutputProtocol = wire.output_protocol(sink.clone());
        let label = format!("conn#2 127.0.0.1:5000 {protocol} ->");
        let mut traced = TracingOutputProtocol::new(inner, label.clone());
        write_reply(&mut traced, "pong").expect("write");
        drop(traced);
        let written = sink.0.lock().expect("sink").clone();
        assert_eq!(written, encode(&wire, "pong"), "{protocol}: bytes changed");
        assert_eq!(
            logged(&label),
            vec![format!(
                "{label} (reply) ping(ping_result {{\n    00: success (string) = \"pong\",\n    01: sizes (list) = list<i32>[2] {{\n      [0] = 1,\n      [1] = -2,\n    }},\n  }})"
            )]
        );
        assert!(debug_view(&wire, &written).is_ok());
    }
}

#[test]
fn the_wrappers_are_send_and_box_as_the_wire_types() {
    fn send<T: Send>(_: &T) {}
    let wire = wire(Protocol::Compact);
    let input = TracingInputProtocol::new(wire.input_protocol(Cursor::new(Vec::new())), "in");
    let output = TracingOutputProtocol::new(wire.output_protocol(Sink::default()), "out");
    send(&input);
    send(&output);
    let _: InputProtocol = Box::new(input);
    let _: OutputProtocol = Box::new(output);
}

#[test]
fn long_strings_are_cut_as_configured() {
    capture();
    let wire = wire(Protocol::Binary);
    let long = "y".repeat(300);
    let label = "conn#3 limit <-";
    let mut traced = TracingInputProtocol::new(
        wire.input_protocol(Cursor::new(encode(&wire, &long))),
        label,
    );
    read_reply(&mut traced).expect("read");
    let mut short = TracingInputProtocol::new(
        wire.input_protocol(Cursor::new(encode(&wire, "pong"))),
        label,
    )
    .with_string_limit(2)
    .with_string_prefix(1);
    read_reply(&mut short).expect("read");
    let mut whole = TracingInputProtocol::new(
        wire.input_protocol(Cursor::new(encode(&wire, &long))),
        label,
    )
    .without_string_limit();
    let (text, _) = read_reply(&mut whole).expect("read");
    assert_eq!(text, long, "the value read is never cut");
    let logs = logged(label);
    assert_eq!(logs.len(), 3);
    assert!(
        logs[0].contains("(string) = \"yyyyyyyyyyyyyyyy[...](300)\""),
        "{}",
        logs[0]
    );
    assert!(logs[1].contains("(string) = \"p[...](4)\""), "{}", logs[1]);
    assert!(
        logs[2].contains(&format!("(string) = \"{long}\"")),
        "{}",
        logs[2]
    );
}

#[test]
fn a_failed_read_logs_the_text_so_far_with_the_error() {
    capture();
    let wire = WireConfig {
        transport: Transport::Buffered,
        ..wire(Protocol::Binary)
    };
    let bytes = encode(&wire, "pong");
    // Cut inside the second i32 (4 bytes, then the stop field: 1).
    let cut = bytes[..bytes.len() - 3].to_vec();
    let label = "conn#4 cut <-";
    let mut traced = TracingInputProtocol::new(wire.input_protocol(Cursor::new(cut)), label);
    assert!(read_reply(&mut traced).is_err());
    assert!(!traced.is_tracing());
    let logs = logged(label);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].starts_with(&format!("{label} (reply) ping( {{\n    00:  (string) = \"pong\",\n    01:  (list) = list<i32>[2] {{\n      [0] = 1, [error: ")),
        "{}",
        logs[0]
    );
    assert!(logs[0].contains(" [error: "), "{}", logs[0]);
}

#[test]
fn skipped_values_are_marked() {
    capture();
    let wire = wire(Protocol::Compact);
    let bytes = encode(&wire, "pong");
    let label = "conn#5 skip <-";
    let mut traced = TracingInputProtocol::new(wire.input_protocol(Cursor::new(bytes)), label);
    traced.read_message_begin().expect("begin");
    traced.read_struct_begin().expect("struct");
    let field = traced.read_field_begin().expect("field");
    traced.skip(field.field_type).expect("skip");
    traced.read_field_end().expect("field end");
    let field = traced.read_field_begin().expect("field");
    traced.skip(field.field_type).expect("skip");
    traced.read_field_end().expect("field end");
    assert_eq!(
        traced.read_field_begin().expect("stop").field_type,
        TType::Stop
    );
    traced.read_struct_end().expect("struct end");
    traced.read_message_end().expect("end");
    assert_eq!(
        logged(label),
        vec![format!("{label} (reply) ping( {{\n    00:  (string) = <skipped string>,\n    01:  (list) = <skipped list>,\n  }})")]
    );
}

#[test]
fn unfinished_and_oversized_messages_say_so() {
    capture();
    let wire = wire(Protocol::Binary);
    let label = "conn#6 unfinished ->";
    let mut traced = TracingOutputProtocol::new(wire.output_protocol(Sink::default()), label);
    traced
        .write_message_begin(&TMessageIdentifier::new("half", TMessageType::Call, 1))
        .expect("begin");
    assert!(traced.is_tracing());
    drop(traced);
    assert_eq!(
        logged(label),
        vec![format!("{label} (call) half( [message not finished]")]
    );

    let label = "conn#7 big ->";
    let mut traced =
        TracingOutputProtocol::new(wire.output_protocol(Sink::default()), label).with_max_text(40);
    write_reply(&mut traced, "pong").expect("writes go on");
    let logs = logged(label);
    assert_eq!(logs.len(), 1);
    assert!(logs[0].ends_with(" [cut at 40 bytes]"), "{}", logs[0]);
    assert!(logs[0].len() < label.len() + 40 + 30, "{}", logs[0]);
}

#[test]
fn the_wrapped_protocol_reads_the_same_values() {
    // Mixed use of the thrift crate's protocol directly: unchanged results.
    let mut bytes = Vec::new();
    {
        let mut out = thrift::protocol::TBinaryOutputProtocol::new(&mut bytes, true);
        write_reply(&mut out, "pong").expect("write");
    }
    let plain = read_reply(&mut TBinaryInputProtocol::new(
        Cursor::new(bytes.clone()),
        true,
    ));
    let mut traced = TracingInputProtocol::new(
        TBinaryInputProtocol::new(Cursor::new(bytes), true),
        "conn#8 <-",
    );
    assert_eq!(
        plain.expect("plain"),
        read_reply(&mut traced).expect("traced")
    );
    assert_eq!(traced.label(), "conn#8 <-");
    let _inner: TBinaryInputProtocol<Cursor<Vec<u8>>> = traced.into_inner();
}

/// Generated processors never call `read_message_end`: a request must be
/// logged when its arguments are read, before the reply it causes.
#[test]
fn a_message_read_without_its_end_is_logged_when_its_struct_closes() {
    capture();
    let wire = wire(Protocol::Compact);
    let label = "no-end <-";
    let mut input = TracingInputProtocol::new(
        wire.input_protocol(Cursor::new(encode(&wire, "pong"))),
        label,
    );
    input.read_message_begin().expect("begin");
    input.read_struct_begin().expect("struct");
    loop {
        let field = input.read_field_begin().expect("field");
        if field.field_type == TType::Stop {
            break;
        }
        input.skip(field.field_type).expect("skip");
        input.read_field_end().expect("field end");
    }
    input.read_struct_end().expect("struct end");
    let messages = logged(label);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("no-end <- (reply) ping("),
        "{messages:?}"
    );
    // A read_message_end after all does not log it twice.
    input.read_message_end().expect("end");
    assert_eq!(logged(label).len(), 1);
}
