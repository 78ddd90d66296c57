//! TJSONProtocol on its own: round trips, what it accepts beyond what C++
//! writes, malformed input, and the limits.

use std::io::{Cursor, Read};

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::{ProtocolErrorKind, TransportErrorKind};
use thrift_frame_wire::{Limits, TJsonInputProtocol, TJsonOutputProtocol};

fn input(bytes: &[u8]) -> TJsonInputProtocol<Cursor<Vec<u8>>> {
    TJsonInputProtocol::new(Cursor::new(bytes.to_vec()), Limits::default())
}

fn output() -> TJsonOutputProtocol<Vec<u8>> {
    TJsonOutputProtocol::new(Vec::new())
}

fn field(o: &mut dyn TOutputProtocol, id: i16, t: TType) {
    o.write_field_begin(&TFieldIdentifier::new("f", t, id))
        .expect("field");
}

fn next_field(i: &mut dyn TInputProtocol, id: i16, t: TType) {
    let f = i.read_field_begin().expect("field begin");
    assert_eq!((f.id, f.field_type), (Some(id), t));
}

/// The kind of a protocol error; panics on any other outcome.
fn protocol_error<T: std::fmt::Debug>(r: thrift::Result<T>) -> (ProtocolErrorKind, String) {
    match r {
        Err(thrift::Error::Protocol(e)) => (e.kind, e.message),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

fn is_eof<T: std::fmt::Debug>(r: thrift::Result<T>) -> bool {
    matches!(r, Err(thrift::Error::Transport(e)) if e.kind == TransportErrorKind::EndOfFile)
}

const UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

#[test]
fn a_message_with_every_type_round_trips() {
    let uuid = uuid::Uuid::parse_str(UUID).expect("uuid");
    let text = "\"\\/\u{0}\u{1f}\u{7f}é中😀\u{2028}";
    let bytes = vec![0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0x10];
    let mut o = output();
    o.write_message_begin(&TMessageIdentifier::new("m", TMessageType::Reply, -9))
        .unwrap();
    o.write_struct_begin(&TStructIdentifier::new("s")).unwrap();
    field(&mut o, -1, TType::Bool);
    o.write_bool(true).unwrap();
    o.write_field_end().unwrap();
    field(&mut o, 2, TType::String);
    o.write_string(text).unwrap();
    o.write_field_end().unwrap();
    field(&mut o, 3, TType::String);
    o.write_bytes(&bytes).unwrap();
    o.write_field_end().unwrap();
    field(&mut o, 4, TType::Uuid);
    o.write_uuid(&uuid).unwrap();
    o.write_field_end().unwrap();
    field(&mut o, i16::MAX, TType::Map);
    o.write_map_begin(&TMapIdentifier::new(TType::Double, TType::Set, 2))
        .unwrap();
    for key in [f64::NAN, -0.0] {
        o.write_double(key).unwrap();
        o.write_set_begin(&TSetIdentifier::new(TType::Struct, 1))
            .unwrap();
        o.write_struct_begin(&TStructIdentifier::new("e")).unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
        o.write_set_end().unwrap();
    }
    o.write_map_end().unwrap();
    o.write_field_end().unwrap();
    o.write_field_stop().unwrap();
    o.write_struct_end().unwrap();
    o.write_message_end().unwrap();
    let wire = o.into_inner();
    assert_eq!(
        String::from_utf8_lossy(&wire),
        format!(
            "[1,\"m\",2,-9,{{\"-1\":{{\"tf\":1}},\
             \"2\":{{\"str\":\"\\\"\\\\/\\u0000\\u001f\u{7f}é中😀\u{2028}\"}},\
             \"3\":{{\"str\":\"//79/PsAEA\"}},\"4\":{{\"uid\":\"{UUID}\"}},\
             \"32767\":{{\"map\":[\"dbl\",\"set\",2,{{\"NaN\":[\"rec\",1,{{}}],\"-0\":[\"rec\",1,{{}}]}}]}}}}]"
        )
    );

    let mut i = input(&wire);
    let m = i.read_message_begin().unwrap();
    assert_eq!(
        (m.name.as_str(), m.message_type, m.sequence_number),
        ("m", TMessageType::Reply, -9)
    );
    assert_eq!(i.read_struct_begin().unwrap(), None);
    next_field(&mut i, -1, TType::Bool);
    assert!(i.read_bool().unwrap());
    i.read_field_end().unwrap();
    next_field(&mut i, 2, TType::String);
    assert_eq!(i.read_string().unwrap(), text);
    i.read_field_end().unwrap();
    next_field(&mut i, 3, TType::String);
    assert_eq!(i.read_bytes().unwrap(), bytes);
    i.read_field_end().unwrap();
    next_field(&mut i, 4, TType::Uuid);
    assert_eq!(i.read_uuid().unwrap(), uuid);
    i.read_field_end().unwrap();
    next_field(&mut i, i16::MAX, TType::Map);
    let map = i.read_map_begin().unwrap();
    assert_eq!(map, TMapIdentifier::new(TType::Double, TType::Set, 2));
    assert!(i.read_double().unwrap().is_nan());
    i.skip(TType::Set).unwrap();
    assert_eq!(i.read_double().unwrap().to_bits(), (-0.0f64).to_bits());
    let set = i.read_set_begin().unwrap();
    assert_eq!(set, TSetIdentifier::new(TType::Struct, 1));
    i.read_struct_begin().unwrap();
    assert_eq!(i.read_field_begin().unwrap().field_type, TType::Stop);
    i.read_struct_end().unwrap();
    i.read_set_end().unwrap();
    i.read_map_end().unwrap();
    i.read_field_end().unwrap();
    assert_eq!(i.read_field_begin().unwrap().field_type, TType::Stop);
    i.read_struct_end().unwrap();
    i.read_message_end().unwrap();
    assert!(is_eof(i.read_byte()));
}

#[test]
fn doubles_round_trip_bit_for_bit() {
    let mut values = vec![
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 3.0,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        9007199254740993.0,
        1e23,
        0.1 + 0.2,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    // A deterministic spread over every exponent.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = f64::from_bits(x);
        if !d.is_nan() {
            values.push(d);
        }
    }
    let mut o = output();
    o.write_list_begin(&TListIdentifier::new(TType::Double, values.len() as i32))
        .unwrap();
    values.iter().for_each(|&d| o.write_double(d).unwrap());
    o.write_list_end().unwrap();
    // The same values as map keys, where numbers are quoted.
    o.write_map_begin(&TMapIdentifier::new(
        TType::Double,
        TType::Bool,
        values.len() as i32,
    ))
    .unwrap();
    for &d in &values {
        o.write_double(d).unwrap();
        o.write_bool(false).unwrap();
    }
    o.write_map_end().unwrap();
    let mut i = input(&o.into_inner());
    i.read_list_begin().unwrap();
    for &d in &values {
        assert_eq!(i.read_double().unwrap().to_bits(), d.to_bits(), "{d:e}");
    }
    i.read_list_end().unwrap();
    i.read_map_begin().unwrap();
    for &d in &values {
        assert_eq!(i.read_double().unwrap().to_bits(), d.to_bits(), "key {d:e}");
        assert!(!i.read_bool().unwrap());
    }
    i.read_map_end().unwrap();
}

#[test]
fn every_code_point_and_integer_edge_round_trips() {
    let text: String = (0..0x3000u32)
        .chain(0xe000..0xe100)
        .chain(0x1f000..0x1f100)
        .chain([0x10ffff])
        .filter_map(char::from_u32)
        .collect();
    let mut o = output();
    o.write_string(&text).unwrap();
    o.write_list_begin(&TListIdentifier::new(TType::I64, 4))
        .unwrap();
    for l in [i64::MIN, i64::MAX, (1 << 53) + 1, -1] {
        o.write_i64(l).unwrap();
    }
    o.write_list_end().unwrap();
    // Top-level numbers would run together: C++'s format has no separator
    // between top-level values.
    o.write_list_begin(&TListIdentifier::new(TType::I32, 3))
        .unwrap();
    o.write_i8(i8::MIN).unwrap();
    o.write_i16(i16::MIN).unwrap();
    o.write_i32(i32::MIN).unwrap();
    o.write_list_end().unwrap();
    let mut i = input(&o.into_inner());
    assert_eq!(i.read_string().unwrap(), text);
    i.read_list_begin().unwrap();
    for l in [i64::MIN, i64::MAX, (1 << 53) + 1, -1] {
        assert_eq!(i.read_i64().unwrap(), l);
    }
    i.read_list_end().unwrap();
    i.read_list_begin().unwrap();
    assert_eq!(i.read_i8().unwrap(), i8::MIN);
    assert_eq!(i.read_i16().unwrap(), i16::MIN);
    assert_eq!(i.read_i32().unwrap(), i32::MIN);
    i.read_list_end().unwrap();
}

#[test]
fn reads_what_other_writers_may_send() {
    // \/ (Go, Python, JSON), upper-case hex, surrogate pairs, padded and
    // unpadded base64, non-zero bools, raw control characters (Python).
    let mut i = input(
        br#"["str",6,"a\/b","\u00E9\u00e9","\uD83D\ude00x","YWI=","YWI","tab	nul"]["tf",2,2,-1]"#,
    );
    i.read_list_begin().unwrap();
    assert_eq!(i.read_string().unwrap(), "a/b");
    assert_eq!(i.read_string().unwrap(), "éé");
    assert_eq!(i.read_string().unwrap(), "😀x");
    assert_eq!(i.read_bytes().unwrap(), b"ab");
    assert_eq!(i.read_bytes().unwrap(), b"ab");
    assert_eq!(i.read_string().unwrap(), "tab\tnul");
    i.read_list_end().unwrap();
    i.read_list_begin().unwrap();
    assert!(i.read_bool().unwrap());
    assert!(i.read_bool().unwrap());
    i.read_list_end().unwrap();
}

#[test]
fn unknown_fields_of_every_type_are_skipped() {
    let body = br#"{"1":{"str":"not base64!"},"2":{"lst":["map",1,["str","rec",1,{"k":{"1":{"dbl":"NaN"}}}]]},"3":{"uid":"01234567-89ab-cdef-0123-456789abcdef"},"4":{"set":["tf",1,1]},"5":{"i64":-1},"9":{"i32":7}}"#;
    let mut i = input(body);
    i.read_struct_begin().unwrap();
    loop {
        let f = i.read_field_begin().unwrap();
        match f.id {
            _ if f.field_type == TType::Stop => break,
            Some(9) => assert_eq!(i.read_i32().unwrap(), 7),
            _ => i.skip(f.field_type).unwrap(),
        }
        i.read_field_end().unwrap();
    }
    i.read_struct_end().unwrap();
}

/// Reads a message whose body is a struct, skipping every field.
fn read_message(bytes: &[u8], limits: Limits) -> thrift::Result<()> {
    let mut i = TJsonInputProtocol::new(Cursor::new(bytes.to_vec()), limits);
    i.read_message_begin()?;
    i.skip(TType::Struct)?;
    i.read_message_end()
}

fn body(fields: &str) -> Vec<u8> {
    format!(r#"[1,"m",1,1,{{{fields}}}]"#).into_bytes()
}

#[test]
fn well_formed_messages_are_read() {
    read_message(&body(""), Limits::default()).expect("empty");
    read_message(
        &body(r#""1":{"i32":1},"2":{"dbl":-1.5e-3}"#),
        Limits::default(),
    )
    .expect("fields");
}

#[test]
fn malformed_input_is_a_protocol_error() {
    use ProtocolErrorKind::*;
    let long_number = "1".repeat(100_000);
    let cases: Vec<(Vec<u8>, ProtocolErrorKind, &str)> = vec![
        (br#"[2,"m",1,1,{}]"#.to_vec(), BadVersion, "version 2"),
        (br#"[1,"m",9,1,{}]"#.to_vec(), InvalidData, "TMessageType"),
        (
            br#"[1,"m",1,2147483648,{}]"#.to_vec(),
            InvalidData,
            "sequence id",
        ),
        (br#"[1,m,1,1,{}]"#.to_vec(), InvalidData, "expected '\"'"),
        (br#"[1, "m",1,1,{}]"#.to_vec(), InvalidData, "found ' '"),
        (br#"{}"#.to_vec(), InvalidData, "expected '['"),
        (
            b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(1000),
            InvalidData,
            "expected a number",
        ),
        (body(r#""1":{"zz":1}"#), NotImplemented, "type tag"),
        (body(r#"1:{"i32":1}"#), InvalidData, "expected '\"'"),
        (body(r#""x":{"i32":1}"#), InvalidData, "expected a number"),
        (body(r#""1":{"i32":1.5}"#), InvalidData, "integer"),
        (
            body(r#""1":{"i32":2147483648}"#),
            InvalidData,
            "out of range",
        ),
        (body(r#""1":{"i8":128}"#), InvalidData, "out of range"),
        (
            body(r#""1":{"i64":9223372036854775808}"#),
            InvalidData,
            "integer",
        ),
        (body(r#""40000":{"i64":1}"#), InvalidData, "field id"),
        (
            body(&format!(r#""1":{{"i64":{long_number}}}"#)),
            InvalidData,
            "longer than",
        ),
        (
            body(&format!(r#""1":{{"dbl":{long_number}}}"#)),
            InvalidData,
            "longer than",
        ),
        (
            body(r#""1":{"dbl":"1.5"}"#),
            InvalidData,
            "unexpectedly quoted",
        ),
        (body(r#""1":{"dbl":nope}"#), InvalidData, "expected 'a'"),
        (body(r#""1":{"dbl":x}"#), InvalidData, "expected a number"),
        (body(r#""1":{"dbl":1e}"#), InvalidData, "double"),
        (body(r#""1":{"dbl":--1}"#), InvalidData, "double"),
        (body(r#""1":{"str":"a\qb"}"#), InvalidData, "escape"),
        (body(r#""1":{"str":"\u00zz"}"#), InvalidData, "hex digit"),
        (
            body(r#""1":{"str":"\ud83d"}"#),
            InvalidData,
            "high surrogate",
        ),
        (
            body(r#""1":{"str":"\ud83d\u0041"}"#),
            InvalidData,
            "not a low surrogate",
        ),
        (
            body(r#""1":{"str":"\ude00"}"#),
            InvalidData,
            "low surrogate",
        ),
        (body(r#""1":{"lst":["i32",-1]}"#), NegativeSize, "negative"),
        (
            body(r#""1":{"lst":["i32",3,1,2]}"#),
            InvalidData,
            "expected ','",
        ),
        (
            body(r#""1":{"lst":["i32",1,1,2]}"#),
            InvalidData,
            "expected ']'",
        ),
        (
            body(r#""1":{"map":["i32","i32",1,{1:2}]}"#),
            InvalidData,
            "expected '\"'",
        ),
        (
            body(r#""1":{"map":["i32","i32",1,{"1":"2"}]}"#),
            InvalidData,
            "expected a number",
        ),
        (body(r#""1":{"uid":"not-a-uuid"}"#), InvalidData, "UUID"),
        (
            body(r#""1":{"i32":1}"2":{"i32":1}"#),
            InvalidData,
            "expected ','",
        ),
        (
            body(r#""1":{"i32":1,"i32":2}"#),
            InvalidData,
            "expected '}'",
        ),
    ];
    for (bytes, kind, needle) in cases {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
        let (got, message) = protocol_error(read_message(&bytes, Limits::default()));
        assert_eq!(got, kind, "{shown}: {message}");
        assert!(
            message.contains(needle),
            "{shown}: {message:?} lacks {needle:?}"
        );
    }
}

#[test]
fn strings_and_binary_are_checked_for_content() {
    let (kind, message) = protocol_error(input(b"\"\xff\"").read_string());
    assert_eq!(kind, ProtocolErrorKind::InvalidData);
    assert!(message.contains("UTF-8"), "{message}");
    for bad in [&b"\"!!!!\""[..], b"\"YWJjZ\"", b"\"YW=I\""] {
        let (kind, message) = protocol_error(input(bad).read_bytes());
        assert_eq!(kind, ProtocolErrorKind::InvalidData, "{message}");
        assert!(message.contains("base64"), "{message}");
    }
}

#[test]
fn truncated_input_is_end_of_file() {
    for bytes in [
        &b""[..],
        b"[1,\"unterminated",
        b"[1,\"m\",1,1,{\"1\":{\"i32\":1}",
        b"[1,\"m\",1,1,{\"1\":{\"str\":\"\\u00",
        b"[1,\"m\",1,1,{\"1\":{\"i32\":12",
    ] {
        assert!(
            is_eof(read_message(bytes, Limits::default())),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// An endless stream: `head`, then `fill` forever.
struct Endless {
    head: Vec<u8>,
    fill: &'static [u8],
    pos: usize,
}

impl thrift_frame_wire::ReadToVec for Endless {}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for b in buf.iter_mut() {
            *b = match self.head.get(self.pos) {
                Some(&h) => h,
                None => self.fill[(self.pos - self.head.len()) % self.fill.len()],
            };
            self.pos += 1;
        }
        Ok(buf.len())
    }
}

fn small_limits() -> Limits {
    Limits {
        max_frame_size: 1 << 20,
        max_message_size: 1 << 20,
        max_string_size: 1000,
        max_recursion_depth: 8,
    }
}

#[test]
fn endless_strings_numbers_and_containers_stop_at_the_limits() {
    use ProtocolErrorKind::*;
    let cases: [(&str, &'static [u8], ProtocolErrorKind); 6] = [
        (r#""1":{"str":""#, b"a", SizeLimit),
        (r#""1":{"str":""#, b"\\u0000", SizeLimit),
        (r#""1":{"str":""#, "😀".as_bytes(), SizeLimit),
        (r#""1":{"i64":"#, b"9", InvalidData),
        (r#""1":{"lst":["i32",2000000000"#, b",1", SizeLimit),
        (
            r#""1":{"map":["i32","str",300000,{"#,
            b"\"1\":\"a\",",
            SizeLimit,
        ),
    ];
    for (head, fill, kind) in cases {
        let head = format!(r#"[1,"m",1,1,{{{head}"#).into_bytes();
        let mut endless = Endless { head, fill, pos: 0 };
        let mut i = TJsonInputProtocol::new(&mut endless, small_limits());
        let result = i.read_message_begin().and_then(|_| i.skip(TType::Struct));
        let (got, message) = protocol_error(result);
        assert_eq!(got, kind, "{message}");
        assert!(endless.pos < 100_000, "read {} bytes", endless.pos);
    }
    // A binary of exactly the limit is fine, one byte more is not.
    for (len, ok) in [(1000, true), (1001, false)] {
        let mut o = output();
        o.write_bytes(&vec![7; len]).unwrap();
        let mut i = TJsonInputProtocol::new(Cursor::new(o.into_inner()), small_limits());
        assert_eq!(i.read_bytes().is_ok(), ok, "{len}");
    }
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let depth = 20;
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str(r#"["lst",1,"#);
    }
    text.push_str(r#"["i32",0]"#);
    text.push_str(&"]".repeat(depth));
    let limits = small_limits(); // depth 8
    let mut i = TJsonInputProtocol::new(Cursor::new(text.clone().into_bytes()), limits);
    let (kind, message) = protocol_error(i.skip(TType::List));
    assert_eq!(kind, ProtocolErrorKind::DepthLimit, "{message}");
    let deep = Limits {
        max_recursion_depth: 64,
        ..limits
    };
    let mut i = TJsonInputProtocol::new(Cursor::new(text.into_bytes()), deep);
    i.skip(TType::List).expect("within the limit");
}

#[test]
fn what_json_cannot_encode_is_refused_on_write() {
    let mut o = output();
    let (kind, _) = protocol_error(o.write_list_begin(&TListIdentifier::new(TType::I32, -1)));
    assert_eq!(kind, ProtocolErrorKind::NegativeSize);
    let (kind, _) = protocol_error(o.write_map_begin(&TMapIdentifier::new(None, None, 0)));
    assert_eq!(kind, ProtocolErrorKind::InvalidData);
    let (kind, _) =
        protocol_error(o.write_field_begin(&TFieldIdentifier::new("f", TType::Utf7, 1)));
    assert_eq!(kind, ProtocolErrorKind::NotImplemented);
}

#[test]
fn a_message_left_open_is_closed_before_the_next_begins() {
    // The thrift crate's generated processors never call read_message_end:
    // every JSON connection was dropped after its first call.
    let mut bytes = Vec::new();
    {
        let mut o = TJsonOutputProtocol::new(&mut bytes);
        for seq in [1, 2] {
            let ident = TMessageIdentifier::new("ping", TMessageType::Call, seq);
            o.write_message_begin(&ident).expect("w");
            o.write_string("x").expect("w");
            o.write_message_end().expect("w");
        }
        o.flush().expect("w");
    }
    let mut p = TJsonInputProtocol::new(Cursor::new(bytes), Limits::default());
    assert_eq!(p.read_message_begin().expect("first").sequence_number, 1);
    assert_eq!(p.read_string().expect("string"), "x");
    // As a generated processor does: no read_message_end.
    assert_eq!(p.read_message_begin().expect("second").sequence_number, 2);
}

/// Boxed, as processors and generated clients hold it: the thrift crate's
/// `Box<P>` forwards only the required methods, so `skip` runs the trait's
/// default, which never calls `read_field_end`. A server skipping an
/// unknown method's arguments, and generated code skipping an unknown
/// field, skip this way.
#[test]
fn the_traits_default_skip_through_a_box_leaves_the_stream_in_step() {
    let bytes = br#"[1,"nosuch",1,1,{"1":{"str":"hi"},"2":{"rec":{"1":{"i32":5}}}}][1,"ping",1,2,{"1":{"str":"hello"}}]"#;
    let mut boxed: Box<dyn TInputProtocol + Send> = Box::new(input(bytes));
    assert_eq!(boxed.read_message_begin().expect("first").name, "nosuch");
    boxed.skip(TType::Struct).expect("skip the arguments");
    boxed.read_message_end().expect("first ends");
    assert_eq!(boxed.read_message_begin().expect("second").name, "ping");
    boxed.read_struct_begin().expect("args");
    next_field(&mut *boxed, 1, TType::String);
    assert_eq!(boxed.read_string().expect("msg"), "hello");
}
