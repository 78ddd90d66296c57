//! TJSONProtocol against the bytes of the C++, Go and Python libraries: the
//! files in tests/vectors/json (see its README), written by
//! interop/{cpp,go,python}/tools from the values in [`cases`].
//!
//! (a) every peer's bytes read back into the values, except where a peer
//! writes what no reader (C++'s included) accepts; (b) we write C++'s bytes
//! exactly; (c) where Go and Python write other bytes, the difference is
//! pinned here as data.

use std::io::Cursor;

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier, TType,
};
use thrift_frame_wire::{Limits, TJsonInputProtocol, TJsonOutputProtocol};

/// A Thrift value, enough to describe every vector.
#[derive(Debug, Clone)]
enum V {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Dbl(f64),
    Str(String),
    Bin(Vec<u8>),
    Struct(Vec<(i16, V)>),
    List(TType, Vec<V>),
    Set(TType, Vec<V>),
    Map(TType, TType, Vec<(V, V)>),
    Message(&'static str, TMessageType, i32, Box<V>),
}

impl PartialEq for V {
    fn eq(&self, other: &V) -> bool {
        use V::*;
        match (self, other) {
            // Bit for bit: -0 is not 0, and NaN is NaN.
            (Dbl(a), Dbl(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Bool(a), Bool(b)) => a == b,
            (I8(a), I8(b)) => a == b,
            (I16(a), I16(b)) => a == b,
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Bin(a), Bin(b)) => a == b,
            (Struct(a), Struct(b)) => a == b,
            (List(t, a), List(u, b)) | (Set(t, a), Set(u, b)) => t == u && a == b,
            (Map(k, v, a), Map(l, w, b)) => k == l && v == w && a == b,
            (Message(n, t, s, a), Message(m, u, r, b)) => n == m && t == u && s == r && a == b,
            _ => false,
        }
    }
}

fn ttype(v: &V) -> TType {
    match v {
        V::Bool(_) => TType::Bool,
        V::I8(_) => TType::I08,
        V::I16(_) => TType::I16,
        V::I32(_) => TType::I32,
        V::I64(_) => TType::I64,
        V::Dbl(_) => TType::Double,
        V::Str(_) | V::Bin(_) => TType::String,
        V::Struct(_) | V::Message(..) => TType::Struct,
        V::List(..) => TType::List,
        V::Set(..) => TType::Set,
        V::Map(..) => TType::Map,
    }
}

fn write(v: &V, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
    match v {
        V::Bool(b) => o.write_bool(*b),
        V::I8(i) => o.write_i8(*i),
        V::I16(i) => o.write_i16(*i),
        V::I32(i) => o.write_i32(*i),
        V::I64(i) => o.write_i64(*i),
        V::Dbl(d) => o.write_double(*d),
        V::Str(s) => o.write_string(s),
        V::Bin(b) => o.write_bytes(b),
        V::Struct(fields) => {
            o.write_struct_begin(&TStructIdentifier::new("s"))?;
            for (id, f) in fields {
                o.write_field_begin(&TFieldIdentifier::new("f", ttype(f), *id))?;
                write(f, o)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        V::List(t, items) => {
            o.write_list_begin(&TListIdentifier::new(*t, items.len() as i32))?;
            items.iter().try_for_each(|i| write(i, o))?;
            o.write_list_end()
        }
        V::Set(t, items) => {
            o.write_set_begin(&TSetIdentifier::new(*t, items.len() as i32))?;
            items.iter().try_for_each(|i| write(i, o))?;
            o.write_set_end()
        }
        V::Map(k, v, pairs) => {
            o.write_map_begin(&TMapIdentifier::new(*k, *v, pairs.len() as i32))?;
            for (key, value) in pairs {
                write(key, o)?;
                write(value, o)?;
            }
            o.write_map_end()
        }
        V::Message(name, kind, seq, body) => {
            o.write_message_begin(&TMessageIdentifier::new(*name, *kind, *seq))?;
            write(body, o)?;
            o.write_message_end()
        }
    }
}

/// Reads a value shaped like `like` (which says string from binary, and
/// the type of each field), returning what was read.
fn read(like: &V, i: &mut dyn TInputProtocol) -> thrift::Result<V> {
    let mismatch = |what: String| {
        thrift::Error::Application(thrift::ApplicationError::new(
            thrift::ApplicationErrorKind::Unknown,
            what,
        ))
    };
    Ok(match like {
        V::Bool(_) => V::Bool(i.read_bool()?),
        V::I8(_) => V::I8(i.read_i8()?),
        V::I16(_) => V::I16(i.read_i16()?),
        V::I32(_) => V::I32(i.read_i32()?),
        V::I64(_) => V::I64(i.read_i64()?),
        V::Dbl(_) => V::Dbl(i.read_double()?),
        V::Str(_) => V::Str(i.read_string()?),
        V::Bin(_) => V::Bin(i.read_bytes()?),
        V::Struct(fields) => {
            i.read_struct_begin()?;
            let mut got = Vec::new();
            loop {
                let f = i.read_field_begin()?;
                if f.field_type == TType::Stop {
                    break;
                }
                let id = f.id.unwrap_or_default();
                let want = fields
                    .iter()
                    .find(|(fid, _)| *fid == id)
                    .ok_or_else(|| mismatch(format!("unexpected field {id}")))?;
                if ttype(&want.1) != f.field_type {
                    return Err(mismatch(format!("field {id} is {:?}", f.field_type)));
                }
                got.push((id, read(&want.1, i)?));
                i.read_field_end()?;
            }
            i.read_struct_end()?;
            V::Struct(got)
        }
        V::List(t, items) | V::Set(t, items) => {
            let is_set = matches!(like, V::Set(..));
            let (et, size) = if is_set {
                let s = i.read_set_begin()?;
                (s.element_type, s.size)
            } else {
                let l = i.read_list_begin()?;
                (l.element_type, l.size)
            };
            if et != *t {
                return Err(mismatch(format!("elements are {et:?}, not {t:?}")));
            }
            let proto = items.first().cloned().unwrap_or(V::I32(0));
            let got = (0..size)
                .map(|_| read(&proto, i))
                .collect::<Result<_, _>>()?;
            if is_set {
                i.read_set_end()?;
                V::Set(et, got)
            } else {
                i.read_list_end()?;
                V::List(et, got)
            }
        }
        V::Map(k, v, pairs) => {
            let m = i.read_map_begin()?;
            if m.key_type != Some(*k) || m.value_type != Some(*v) {
                return Err(mismatch(format!("map is {m:?}")));
            }
            let (pk, pv) = pairs.first().cloned().unwrap_or((V::I32(0), V::I32(0)));
            let mut got = Vec::new();
            for _ in 0..m.size {
                let key = read(&pk, i)?;
                got.push((key, read(&pv, i)?));
            }
            i.read_map_end()?;
            V::Map(*k, *v, got)
        }
        V::Message(_, _, _, body) => {
            let m = i.read_message_begin()?;
            let name: &'static str = Box::leak(m.name.into_boxed_str());
            let body = read(body, i)?;
            i.read_message_end()?;
            V::Message(name, m.message_type, m.sequence_number, Box::new(body))
        }
    })
}

fn s(text: &str) -> V {
    V::Str(text.to_owned())
}

fn xtruct(text: &str, b: i8, i: i32, l: i64) -> V {
    V::Struct(vec![
        (1, s(text)),
        (4, V::I8(b)),
        (9, V::I32(i)),
        (11, V::I64(l)),
    ])
}

/// The values every generator writes, case by case, in order.
fn cases() -> Vec<(&'static str, Vec<V>)> {
    use TType::*;
    let i32s = |v: &[i32]| v.iter().map(|&i| V::I32(i)).collect::<Vec<_>>();
    let inner = |r: std::ops::RangeInclusive<i32>| {
        V::Map(I32, I32, r.map(|i| (V::I32(i), V::I32(i))).collect())
    };
    let doubles = [
        0.0,
        -0.0,
        1.0 / 3.0,
        1e300,
        5e-324,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.1,
        -2.5,
        1e21,
        1e-7,
        123456789012345678.0,
        9007199254740993.0,
        1.7976931348623157e308,
    ];
    let double_keys = [
        1.0 / 3.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        1e300,
    ];
    vec![
        (
            "message",
            vec![V::Message(
                "testStruct",
                TMessageType::Call,
                7,
                Box::new(V::Struct(vec![(1, xtruct("Zero", 1, -3, -5))])),
            )],
        ),
        (
            "xtruct2",
            vec![V::Struct(vec![
                (1, V::I8(1)),
                (2, xtruct("Zero", 1, -3, -5)),
                (3, V::I32(5)),
            ])],
        ),
        (
            "insanity",
            vec![V::Struct(vec![
                (1, V::Map(I32, I64, vec![(V::I32(5), V::I64(5000))])),
                (
                    2,
                    V::List(
                        Struct,
                        vec![xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)],
                    ),
                ),
            ])],
        ),
        (
            "xception",
            vec![V::Struct(vec![(1, V::I32(1001)), (2, s("Xception"))])],
        ),
        (
            "nested_map",
            vec![V::Map(
                I32,
                Map,
                vec![(V::I32(-4), inner(-4..=-1)), (V::I32(4), inner(1..=4))],
            )],
        ),
        (
            "containers",
            vec![
                V::List(I32, i32s(&[-1, 0, 1, i32::MAX, i32::MIN])),
                V::Set(I32, i32s(&[-1, 1])),
                V::Map(
                    I32,
                    String,
                    vec![(V::I32(1), s("one")), (V::I32(-1), s("minus one"))],
                ),
                V::List(String, vec![]),
                V::Set(I64, vec![]),
                V::Map(I32, String, vec![]),
                V::List(
                    List,
                    vec![V::List(I16, vec![V::I16(7)]), V::List(I16, vec![])],
                ),
            ],
        ),
        (
            "ints",
            vec![
                V::List(I08, vec![V::I8(-128), V::I8(0), V::I8(127)]),
                V::List(I16, vec![V::I16(i16::MIN), V::I16(i16::MAX)]),
                V::List(I32, i32s(&[i32::MIN, i32::MAX])),
                V::List(
                    I64,
                    [i64::MIN, i64::MAX, (1 << 53) + 1, -((1 << 53) + 1)]
                        .map(V::I64)
                        .to_vec(),
                ),
                V::List(Bool, vec![V::Bool(true), V::Bool(false)]),
            ],
        ),
        (
            "doubles",
            vec![V::List(Double, doubles.map(V::Dbl).to_vec())],
        ),
        (
            "map_keys",
            vec![
                V::Map(
                    Double,
                    I32,
                    double_keys
                        .iter()
                        .zip(1..)
                        .map(|(&k, v)| (V::Dbl(k), V::I32(v)))
                        .collect(),
                ),
                V::Map(
                    I64,
                    String,
                    vec![
                        (V::I64(i64::MIN), s("min")),
                        (V::I64((1 << 53) + 1), s("2^53+1")),
                    ],
                ),
                V::Map(
                    String,
                    Bool,
                    vec![(s(""), V::Bool(true)), (s("k\"ey"), V::Bool(false))],
                ),
                V::Map(
                    Bool,
                    I08,
                    vec![(V::Bool(true), V::I8(-1)), (V::Bool(false), V::I8(0))],
                ),
            ],
        ),
        (
            "strings",
            vec![V::List(
                String,
                [
                    "",
                    "plain",
                    "quote\" backslash\\ slash/",
                    "ctl \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f end",
                    "é ü ß",
                    "中文",
                    "😀",
                    "<tag>&amp;'",
                    "\u{2028}\u{2029}",
                    "nul \0 end",
                ]
                .map(s)
                .to_vec(),
            )],
        ),
        (
            "binary",
            vec![V::List(
                String,
                vec![
                    V::Bin((0..=255).collect()),
                    V::Bin(vec![]),
                    V::Bin(b"a".to_vec()),
                    V::Bin(b"ab".to_vec()),
                    V::Bin(b"abc".to_vec()),
                ],
            )],
        ),
    ]
}

fn vector(case: &str, peer: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/vectors/json/{case}.{peer}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads `values` from `bytes`, then expects the end of the input.
fn read_all(values: &[V], bytes: Vec<u8>) -> thrift::Result<Vec<V>> {
    let mut input = TJsonInputProtocol::new(Cursor::new(bytes), Limits::default());
    let got = values
        .iter()
        .map(|v| read(v, &mut input))
        .collect::<thrift::Result<Vec<_>>>()?;
    match input.read_byte() {
        Err(thrift::Error::Transport(e)) if e.kind == thrift::TransportErrorKind::EndOfFile => {}
        other => panic!("trailing input: {other:?}"),
    }
    Ok(got)
}

fn written(values: &[V]) -> Vec<u8> {
    let mut out = TJsonOutputProtocol::new(Vec::new());
    for v in values {
        write(v, &mut out).expect("write");
    }
    out.into_inner()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn we_write_exactly_the_bytes_cpp_writes() {
    for (case, values) in cases() {
        assert_eq!(
            text(&written(&values)),
            text(&vector(case, "cpp")),
            "case {case}"
        );
    }
}

#[test]
fn cpp_and_go_bytes_read_back_into_the_values() {
    for peer in ["cpp", "go"] {
        for (case, values) in cases() {
            let got = read_all(&values, vector(case, peer))
                .unwrap_or_else(|e| panic!("{case}.{peer}: {e}"));
            assert_eq!(got, values, "{case}.{peer}");
        }
    }
}

#[test]
fn python_bytes_read_back_with_its_bare_non_finite_doubles() {
    // Python writes NaN and the infinities as bare nan, inf and -inf (as
    // map keys "nan", "inf", "-inf"): not JSON, and neither C++, Go nor
    // Python itself reads them back. We do, so a Python client's doubles
    // reach a Rust server (whose replies spell them as C++ does).
    for (case, values) in cases() {
        let got =
            read_all(&values, vector(case, "py")).unwrap_or_else(|e| panic!("{case}.py: {e}"));
        assert_eq!(got, values, "{case}.py");
    }
    // Python's doubles read as C++'s once its spellings are C++'s.
    let fixed = text(&vector("doubles", "py"))
        .replace(",nan,inf,-inf,", r#","NaN","Infinity","-Infinity","#);
    assert_eq!(fixed, text(&vector("doubles", "cpp")));
    let fixed = text(&vector("map_keys", "py"))
        .replace(r#""nan""#, r#""NaN""#)
        .replace(r#""inf""#, r#""Infinity""#)
        .replace(r#""-inf""#, r#""-Infinity""#);
    assert_eq!(fixed, text(&vector("map_keys", "cpp")));
}

#[test]
fn go_and_python_write_cpp_bytes_except_doubles_strings_and_binary() {
    let same = [
        "message",
        "xtruct2",
        "insanity",
        "xception",
        "nested_map",
        "containers",
        "ints",
    ];
    for (case, _) in cases() {
        for peer in ["go", "py"] {
            let (ours, theirs) = (vector(case, "cpp"), vector(case, peer));
            assert_eq!(same.contains(&case), ours == theirs, "{case}.{peer}");
        }
    }
}

#[test]
fn go_writes_shortest_doubles_html_escapes_and_padded_base64() {
    // Shortest round-trip digits (strconv 'g', -1), not 17 significant.
    assert_eq!(
        text(&vector("doubles", "go")),
        r#"["dbl",15,0,-0,0.3333333333333333,1e+300,5e-324,"NaN","Infinity","-Infinity",0.1,-2.5,1e+21,1e-07,1.2345678901234568e+17,9.007199254740992e+15,1.7976931348623157e+308]"#
    );
    assert!(text(&vector("map_keys", "go"))
        .starts_with(r#"["dbl","i32",6,{"0.3333333333333333":1,"NaN":2,"Infinity":3,"-Infinity":4,"-0":5,"1e+300":6}]"#));
    // encoding/json: <, > and & as \u003c, \u003e, \u0026; U+2028 and
    // U+2029 escaped; control characters as C++ writes them.
    let go = text(&vector("strings", "go"));
    let cpp = text(&vector("strings", "cpp"));
    assert_eq!(
        go,
        cpp.replace("<tag>&amp;", r"\u003ctag\u003e\u0026amp;")
            .replace("\u{2028}\u{2029}", r"\u2028\u2029")
    );
    // Padded base64.
    assert_eq!(
        text(&vector("binary", "go")),
        text(&vector("binary", "cpp"))
            .replace(r#"/w""#, r#"/w==""#)
            .replace(r#""YQ""#, r#""YQ==""#)
            .replace(r#""YWI""#, r#""YWI=""#)
    );
}

#[test]
fn python_writes_raw_control_characters_and_padded_base64() {
    // Only " \ \b \f \n \r \t are escaped; U+0000..U+001F otherwise raw.
    let py = text(&vector("strings", "py"));
    let cpp = text(&vector("strings", "cpp"));
    assert_eq!(
        py,
        cpp.replace(r"\u0001", "\x01")
            .replace(r"\u0007", "\x07")
            .replace(r"\u000b", "\x0b")
            .replace(r"\u001b", "\x1b")
            .replace(r"\u001f", "\x1f")
            .replace(r"\u0000", "\0")
    );
    assert_eq!(text(&vector("binary", "py")), text(&vector("binary", "go")));
}
