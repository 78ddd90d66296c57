//! debug_view: messages encoded with every protocol and transport come back
//! as the text DebugOutputProtocol writes for the same calls without names;
//! bad bytes give errors, never panics or unbounded text.

use std::io::Write;
use std::sync::{Arc, Mutex};

use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TListIdentifier,
    TMapIdentifier, TMessageIdentifier, TMessageType, TOutputProtocol, TSetIdentifier,
    TStructIdentifier, TType,
};
use thrift_frame_debug::{debug_view, DebugError, DebugOutputProtocol, DebugView};
use thrift_frame_wire::{Limits, Protocol, Transport, WireConfig};

/// The transports whose write side feeds `input_protocol` directly.
const TRANSPORTS: [Transport; 3] = [Transport::Buffered, Transport::Framed, Transport::Zlib];

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

fn wire(protocol: Protocol, transport: Transport) -> WireConfig {
    WireConfig {
        protocol,
        transport,
        limits: Limits::default(),
    }
}

fn encode(
    wire: &WireConfig,
    write: impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()>,
) -> Vec<u8> {
    let sink = Sink::default();
    let mut out = wire.output_protocol(sink.clone());
    write(&mut *out).expect("encode");
    out.flush().expect("flush");
    drop(out);
    let bytes = sink.0.lock().expect("sink").clone();
    bytes
}

/// Names as the writer gives them, or none, as a reader sees them.
struct Names(bool);
impl Names {
    fn s(&self, name: &str) -> TStructIdentifier {
        TStructIdentifier::new(if self.0 { name } else { "" })
    }
    fn f(&self, name: &str, t: TType, id: i16) -> TFieldIdentifier {
        let name = if self.0 { Some(name.to_owned()) } else { None };
        TFieldIdentifier {
            name,
            field_type: t,
            id: Some(id),
        }
    }
}

/// A message with every kind of value.
fn rich(p: &mut dyn TOutputProtocol, names: &Names, binary_bytes: bool) -> thrift::Result<()> {
    p.write_message_begin(&TMessageIdentifier::new("testAll", TMessageType::Call, 42))?;
    p.write_struct_begin(&names.s("testAll_args"))?;
    p.write_field_begin(&names.f("yes", TType::Bool, 1))?;
    p.write_bool(true)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("no", TType::Bool, 2))?;
    p.write_bool(false)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("b", TType::I08, 3))?;
    p.write_i8(-128)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("s", TType::I16, 4))?;
    p.write_i16(-300)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("i", TType::I32, 20))?;
    p.write_i32(i32::MIN)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("l", TType::I64, -3))?;
    p.write_i64(i64::MAX)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("d", TType::Double, 5))?;
    p.write_double(0.1)?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("text", TType::String, 6))?;
    p.write_string("héllo \"w\"\n")?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("long", TType::String, 7))?;
    p.write_string(&"x".repeat(1000))?;
    p.write_field_end()?;
    if binary_bytes {
        p.write_field_begin(&names.f("raw", TType::String, 8))?;
        p.write_bytes(&[0, 1, 0xfe, 0xff])?;
        p.write_field_end()?;
    }
    p.write_field_begin(&names.f("nested", TType::Struct, 9))?;
    p.write_struct_begin(&names.s("Inner"))?;
    p.write_field_begin(&names.f("list", TType::List, 1))?;
    p.write_list_begin(&TListIdentifier::new(TType::Struct, 2))?;
    for i in 0..2 {
        p.write_struct_begin(&names.s("Leaf"))?;
        p.write_field_begin(&names.f("n", TType::I32, 1))?;
        p.write_i32(i)?;
        p.write_field_end()?;
        p.write_field_stop()?;
        p.write_struct_end()?;
    }
    p.write_list_end()?;
    p.write_field_end()?;
    p.write_field_stop()?;
    p.write_struct_end()?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("set", TType::Set, 10))?;
    p.write_set_begin(&TSetIdentifier::new(TType::Bool, 2))?;
    p.write_bool(false)?;
    p.write_bool(true)?;
    p.write_set_end()?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("map", TType::Map, 11))?;
    p.write_map_begin(&TMapIdentifier::new(TType::I64, TType::List, 1))?;
    p.write_i64(-1)?;
    p.write_list_begin(&TListIdentifier::new(TType::Double, 1))?;
    p.write_double(f64::NEG_INFINITY)?;
    p.write_list_end()?;
    p.write_map_end()?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("empty_map", TType::Map, 12))?;
    p.write_map_begin(&TMapIdentifier::new(TType::String, TType::I32, 0))?;
    p.write_map_end()?;
    p.write_field_end()?;
    p.write_field_begin(&names.f("empty_list", TType::List, 13))?;
    p.write_list_begin(&TListIdentifier::new(TType::I16, 0))?;
    p.write_list_end()?;
    p.write_field_end()?;
    p.write_field_stop()?;
    p.write_struct_end()?;
    p.write_message_end()
}

/// What the view of `rich` must be: DebugOutputProtocol's text for the same
/// calls without names, except that an empty compact map has no types.
fn expected(protocol: Protocol, binary_bytes: bool) -> String {
    let mut p = DebugOutputProtocol::new(Vec::new());
    rich(&mut p, &Names(false), binary_bytes).expect("debug");
    let text = String::from_utf8(p.into_inner()).expect("utf-8");
    if protocol == Protocol::Compact {
        text.replace("map<string,i32>[0]", "map<stop,stop>[0]")
    } else {
        text
    }
}

#[test]
fn every_protocol_and_transport_shows_the_message() {
    for protocol in Protocol::ALL {
        // JSON binaries are base64 text, shown as such: left out here.
        let binary_bytes = protocol != Protocol::Json;
        for transport in TRANSPORTS {
            let wire = wire(protocol, transport);
            let bytes = encode(&wire, |p| rich(p, &Names(true), binary_bytes));
            let text = debug_view(&wire, &bytes)
                .unwrap_or_else(|e| panic!("{protocol}/{transport}: {e:?}"));
            assert_eq!(
                text,
                expected(protocol, binary_bytes),
                "{protocol}/{transport}"
            );
        }
    }
}

#[test]
fn the_text_starts_as_cpp_would_print_it() {
    let wire = wire(Protocol::Compact, Transport::Framed);
    let bytes = encode(&wire, |p| rich(p, &Names(true), true));
    let text = debug_view(&wire, &bytes).expect("view");
    assert!(
        text.starts_with("(call) testAll( {\n    01:  (bool) = true,\n    02:  (bool) = false,\n    03:  (byte) = 0x80,\n"),
        "{text}"
    );
    assert!(text.contains("    06:  (string) = \"h\\xc3\\xa9llo \\\"w\\\"\\n\",\n"));
    assert!(text.contains("    07:  (string) = \"xxxxxxxxxxxxxxxx[...](1000)\",\n"));
    assert!(text.contains("    -3:  (i64) = 9223372036854775807,\n"));
    assert!(text.ends_with("  })\n"), "{text}");
}

#[test]
fn json_binaries_show_as_their_base64() {
    let wire = wire(Protocol::Json, Transport::Buffered);
    let bytes = encode(&wire, |p| {
        p.write_message_begin(&TMessageIdentifier::new("b", TMessageType::Reply, 1))?;
        p.write_struct_begin(&TStructIdentifier::new("r"))?;
        p.write_field_begin(&TFieldIdentifier::new("raw", TType::String, 0))?;
        p.write_bytes(&[0, 1, 0xfe, 0xff])?;
        p.write_field_end()?;
        p.write_field_stop()?;
        p.write_struct_end()?;
        p.write_message_end()
    });
    let text = debug_view(&wire, &bytes).expect("view");
    assert_eq!(
        text,
        "(reply) b( {\n    00:  (string) = \"AAH+/w\",\n  })\n"
    );
}

#[test]
fn string_limits_apply() {
    let wire = wire(Protocol::Binary, Transport::Buffered);
    let bytes = encode(&wire, |p| rich(p, &Names(true), true));
    let whole = DebugView::new(wire.clone())
        .without_string_limit()
        .view(&bytes)
        .expect("view");
    assert!(whole.contains(&format!("\"{}\"", "x".repeat(1000))));
    let short = DebugView::new(wire)
        .with_string_limit(3)
        .with_string_prefix(1)
        .view(&bytes)
        .expect("view");
    assert!(short.contains("(string) = \"x[...](1000)\""), "{short}");
    assert!(short.contains("(string) = \"\\x00[...](4)\""), "{short}");
}

fn binary_message(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut p = TBinaryOutputProtocol::new(&mut bytes, true);
        p.write_message_begin(&TMessageIdentifier::new("m", TMessageType::Call, 1))
            .expect("begin");
    }
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn nesting_is_bounded_by_the_wire_limit() {
    // 10,000 nested lists of lists: one list header each.
    let mut body = vec![15u8, 0, 1]; // field 1: list
    for _ in 0..10_000 {
        body.extend_from_slice(&[15, 0, 0, 0, 1]); // list<list>[1]
    }
    let bytes = binary_message(&body);
    let wire = wire(Protocol::Binary, Transport::Buffered);
    match debug_view(&wire, &bytes) {
        Err(DebugError::DepthLimit { limit, partial }) => {
            assert_eq!(limit, Limits::DEFAULT_MAX_RECURSION_DEPTH);
            assert!(partial.starts_with("(call) m( {\n    01:  (list) = list<list>[1] {\n"));
        }
        other => panic!("{other:?}"),
    }
    // Deeper limits are the walk's own stack, not the thread's.
    let mut deep = wire.clone();
    deep.limits.max_recursion_depth = 1_000_000;
    let view = DebugView::new(deep).with_max_text(usize::MAX);
    assert!(matches!(view.view(&bytes), Err(DebugError::Decode { .. })));
}

#[test]
fn a_huge_declared_size_allocates_nothing() {
    // list<i64> claiming i32::MAX elements, then nothing.
    let bytes = binary_message(&[15, 0, 1, 10, 0x7f, 0xff, 0xff, 0xff]);
    let wire = wire(Protocol::Binary, Transport::Buffered);
    let err = debug_view(&wire, &bytes).expect_err("over the limits");
    assert!(matches!(err, DebugError::Decode { .. }), "{err:?}");
    // A string claiming 1 GiB.
    let bytes = binary_message(&[11, 0, 1, 0x40, 0, 0, 0]);
    let err = debug_view(&wire, &bytes).expect_err("over the limits");
    assert!(matches!(err, DebugError::Decode { .. }), "{err:?}");
}

#[test]
fn valueless_types_are_errors() {
    // A field of type void (1).
    let bytes = binary_message(&[1, 0, 1]);
    let wire = wire(Protocol::Binary, Transport::Buffered);
    let err = debug_view(&wire, &bytes).expect_err("void");
    assert!(
        matches!(
            err,
            DebugError::UnexpectedType {
                ttype: TType::Void,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "cannot show a value of type void");
    assert_eq!(err.partial(), Some("(call) m( {\n    01:  (void) = "));
}

#[test]
fn truncated_messages_keep_what_was_shown() {
    let wire = wire(Protocol::Compact, Transport::Buffered);
    let bytes = encode(&wire, |p| rich(p, &Names(true), true));
    for cut in [0, 1, 5, bytes.len() / 2, bytes.len() - 1] {
        let err = debug_view(&wire, &bytes[..cut]).expect_err("truncated");
        match &err {
            DebugError::Decode { source, partial } => {
                assert!(
                    matches!(
                        source,
                        thrift::Error::Transport(_) | thrift::Error::Protocol(_)
                    ),
                    "{source:?}"
                );
                assert!(
                    expected(Protocol::Compact, true).starts_with(partial.as_str()),
                    "{cut}: {partial}"
                );
            }
            other => panic!("{cut}: {other:?}"),
        }
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[test]
fn the_text_is_bounded() {
    let wire = wire(Protocol::Compact, Transport::Buffered);
    let bytes = encode(&wire, |p| rich(p, &Names(true), true));
    let err = DebugView::new(wire)
        .with_max_text(100)
        .view(&bytes)
        .expect_err("over");
    assert!(
        matches!(err, DebugError::TextLimit { limit: 100 }),
        "{err:?}"
    );
}

#[test]
fn invalid_limits_are_refused() {
    let mut wire = wire(Protocol::Binary, Transport::Buffered);
    wire.limits.max_string_size = 0;
    let err = debug_view(&wire, &binary_message(&[0])).expect_err("limits");
    assert!(matches!(err, DebugError::Limits(_)), "{err:?}");
}

/// xorshift64*: deterministic garbage, no dependency.
struct Bits(u64);
impl Bits {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn garbage_gives_errors_not_panics() {
    let mut bits = Bits(0x1234_5678_9abc_def1);
    for protocol in Protocol::ALL {
        for transport in TRANSPORTS {
            let wire = wire(protocol, transport);
            let valid = encode(&wire, |p| rich(p, &Names(true), protocol != Protocol::Json));
            for round in 0..300 {
                // Valid messages with bytes flipped, and pure noise.
                let mut bytes = valid.clone();
                if round % 3 == 0 {
                    let len = (bits.next() % 200) as usize;
                    bytes = (0..len).map(|_| bits.next() as u8).collect();
                } else {
                    for _ in 0..1 + round % 4 {
                        let at = (bits.next() as usize) % bytes.len();
                        bytes[at] = bits.next() as u8;
                    }
                }
                // Ok or Err: neither a panic nor unbounded time or memory.
                let _ = debug_view(&wire, &bytes);
            }
        }
    }
}

#[test]
fn compact_and_binary_encoders_of_the_thrift_crate_agree() {
    // The same calls through the thrift crate's protocols directly.
    let mut binary = Vec::new();
    rich(
        &mut TBinaryOutputProtocol::new(&mut binary, true),
        &Names(true),
        true,
    )
    .expect("binary");
    let mut compact = Vec::new();
    rich(
        &mut TCompactOutputProtocol::new(&mut compact),
        &Names(true),
        true,
    )
    .expect("compact");
    let b = debug_view(&wire(Protocol::Binary, Transport::Buffered), &binary).expect("binary");
    let c = debug_view(&wire(Protocol::Compact, Transport::Buffered), &compact).expect("compact");
    assert_eq!(b.replace("map<string,i32>[0]", "map<stop,stop>[0]"), c);
}
