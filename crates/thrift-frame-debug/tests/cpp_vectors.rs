//! DebugOutputProtocol against C++ TDebugProtocol: each case makes the calls
//! `interop/cpp/tools/debug_vectors.cpp` makes for the case of the same name,
//! and the text must equal the C++ library's file in `tests/vectors/` byte for
//! byte (see the README there).

use std::path::PathBuf;

use thrift::protocol::{
    TFieldIdentifier, TListIdentifier, TMapIdentifier, TMessageIdentifier, TMessageType,
    TOutputProtocol, TSetIdentifier, TStructIdentifier, TType,
};
use thrift_frame_debug::DebugOutputProtocol;

type P = DebugOutputProtocol<Vec<u8>>;
type R = thrift::Result<()>;

fn field(p: &mut P, name: &str, t: TType, id: i16, value: impl FnOnce(&mut P) -> R) -> R {
    p.write_field_begin(&TFieldIdentifier::new(name, t, id))?;
    value(p)?;
    p.write_field_end()
}

fn begin_struct(p: &mut P, name: &str) -> R {
    p.write_struct_begin(&TStructIdentifier::new(name))
}

fn end_struct(p: &mut P) -> R {
    p.write_field_stop()?;
    p.write_struct_end()
}

fn begin_message(p: &mut P, name: &str, t: TMessageType, seq: i32) -> R {
    p.write_message_begin(&TMessageIdentifier::new(name, t, seq))
}

fn list(p: &mut P, t: TType, n: i32) -> R {
    p.write_list_begin(&TListIdentifier::new(t, n))
}

fn set(p: &mut P, t: TType, n: i32) -> R {
    p.write_set_begin(&TSetIdentifier::new(t, n))
}

fn map(p: &mut P, k: TType, v: TType, n: i32) -> R {
    p.write_map_begin(&TMapIdentifier::new(k, v, n))
}

fn xtruct(p: &mut P, s: &str, b: i8, i: i32, l: i64) -> R {
    begin_struct(p, "Xtruct")?;
    field(p, "string_thing", TType::String, 1, |p| p.write_string(s))?;
    field(p, "byte_thing", TType::I08, 4, |p| p.write_i8(b))?;
    field(p, "i32_thing", TType::I32, 9, |p| p.write_i32(i))?;
    field(p, "i64_thing", TType::I64, 11, |p| p.write_i64(l))?;
    end_struct(p)
}

fn letters(n: usize) -> String {
    (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

fn message_base_types(p: &mut P) -> R {
    begin_message(p, "testTypes", TMessageType::Call, 7)?;
    begin_struct(p, "testTypes_args")?;
    field(p, "bool_true", TType::Bool, 1, |p| p.write_bool(true))?;
    field(p, "bool_false", TType::Bool, 2, |p| p.write_bool(false))?;
    field(p, "byte_min", TType::I08, 3, |p| p.write_i8(-128))?;
    field(p, "byte_max", TType::I08, 4, |p| p.write_i8(127))?;
    field(p, "byte_small", TType::I08, 5, |p| p.write_i8(5))?;
    field(p, "i16_min", TType::I16, 6, |p| p.write_i16(i16::MIN))?;
    field(p, "i16_max", TType::I16, 7, |p| p.write_i16(i16::MAX))?;
    field(p, "i32_min", TType::I32, 8, |p| p.write_i32(i32::MIN))?;
    field(p, "i32_max", TType::I32, 9, |p| p.write_i32(i32::MAX))?;
    field(p, "i64_min", TType::I64, 10, |p| p.write_i64(i64::MIN))?;
    field(p, "i64_max", TType::I64, 11, |p| p.write_i64(i64::MAX))?;
    field(p, "double_thing", TType::Double, 12, |p| {
        p.write_double(-3.25)
    })?;
    field(p, "string_thing", TType::String, 13, |p| {
        p.write_string("hello")
    })?;
    field(p, "binary_thing", TType::String, 14, |p| {
        p.write_bytes(&[0x00, 0x01, 0xfe, 0xff])
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn message_types(p: &mut P) -> R {
    begin_message(p, "ping", TMessageType::Call, 1)?;
    begin_struct(p, "ping_args")?;
    end_struct(p)?;
    p.write_message_end()?;

    begin_message(p, "add", TMessageType::Reply, 2)?;
    begin_struct(p, "add_result")?;
    field(p, "success", TType::I32, 0, |p| p.write_i32(42))?;
    end_struct(p)?;
    p.write_message_end()?;

    begin_message(p, "missing", TMessageType::Exception, 3)?;
    begin_struct(p, "TApplicationException")?;
    field(p, "message", TType::String, 1, |p| {
        p.write_string("Unknown function missing")
    })?;
    field(p, "type", TType::I32, 2, |p| p.write_i32(1))?;
    end_struct(p)?;
    p.write_message_end()?;

    begin_message(p, "notify", TMessageType::OneWay, -1)?;
    begin_struct(p, "notify_args")?;
    field(p, "event", TType::String, 1, |p| p.write_string("started"))?;
    end_struct(p)?;
    p.write_message_end()
}

fn nested_struct(p: &mut P) -> R {
    begin_message(p, "testNest", TMessageType::Reply, 9)?;
    begin_struct(p, "testNest_result")?;
    field(p, "success", TType::Struct, 0, |p| {
        begin_struct(p, "Xtruct2")?;
        field(p, "byte_thing", TType::I08, 1, |p| p.write_i8(1))?;
        field(p, "struct_thing", TType::Struct, 2, |p| {
            xtruct(p, "Zero", 1, -3, -5)
        })?;
        field(p, "i32_thing", TType::I32, 3, |p| p.write_i32(5))?;
        end_struct(p)
    })?;
    field(p, "deep", TType::Struct, 1, |p| {
        begin_struct(p, "Level1")?;
        field(p, "level2", TType::Struct, 1, |p| {
            begin_struct(p, "Level2")?;
            field(p, "level3", TType::Struct, 1, |p| {
                begin_struct(p, "Level3")?;
                field(p, "leaf", TType::String, 1, |p| p.write_string("leaf"))?;
                end_struct(p)
            })?;
            field(p, "empty", TType::Struct, 2, |p| {
                begin_struct(p, "Empty")?;
                end_struct(p)
            })?;
            end_struct(p)
        })?;
        end_struct(p)
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn lists(p: &mut P) -> R {
    begin_message(p, "testLists", TMessageType::Call, 10)?;
    begin_struct(p, "testLists_args")?;
    field(p, "ints", TType::List, 1, |p| {
        list(p, TType::I32, 3)?;
        p.write_i32(-1)?;
        p.write_i32(0)?;
        p.write_i32(1)?;
        p.write_list_end()
    })?;
    field(p, "strings", TType::List, 2, |p| {
        list(p, TType::String, 2)?;
        p.write_string("one")?;
        p.write_string("two")?;
        p.write_list_end()
    })?;
    field(p, "bools", TType::List, 3, |p| {
        list(p, TType::Bool, 2)?;
        p.write_bool(true)?;
        p.write_bool(false)?;
        p.write_list_end()
    })?;
    field(p, "nested", TType::List, 4, |p| {
        list(p, TType::List, 2)?;
        list(p, TType::I16, 2)?;
        p.write_i16(7)?;
        p.write_i16(8)?;
        p.write_list_end()?;
        list(p, TType::I16, 0)?;
        p.write_list_end()?;
        p.write_list_end()
    })?;
    field(p, "structs", TType::List, 5, |p| {
        list(p, TType::Struct, 2)?;
        xtruct(p, "Goodbye4", 4, 4, 4)?;
        xtruct(p, "Hello2", 2, 2, 2)?;
        p.write_list_end()
    })?;
    field(p, "maps", TType::List, 6, |p| {
        list(p, TType::Map, 1)?;
        map(p, TType::String, TType::I32, 2)?;
        p.write_string("a")?;
        p.write_i32(1)?;
        p.write_string("b")?;
        p.write_i32(2)?;
        p.write_map_end()?;
        p.write_list_end()
    })?;
    field(p, "eleven", TType::List, 7, |p| {
        list(p, TType::I08, 11)?;
        for i in 0..11u8 {
            p.write_i8(i.wrapping_mul(25) as i8)?;
        }
        p.write_list_end()
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn sets(p: &mut P) -> R {
    begin_message(p, "testSets", TMessageType::Call, 11)?;
    begin_struct(p, "testSets_args")?;
    field(p, "longs", TType::Set, 1, |p| {
        set(p, TType::I64, 2)?;
        p.write_i64(-9007199254740993)?;
        p.write_i64(9007199254740993)?;
        p.write_set_end()
    })?;
    field(p, "strings", TType::Set, 2, |p| {
        set(p, TType::String, 2)?;
        p.write_string("x")?;
        p.write_string("y")?;
        p.write_set_end()
    })?;
    field(p, "structs", TType::Set, 3, |p| {
        set(p, TType::Struct, 1)?;
        xtruct(p, "in a set", 0, 0, 0)?;
        p.write_set_end()
    })?;
    field(p, "sets", TType::Set, 4, |p| {
        set(p, TType::Set, 2)?;
        set(p, TType::I08, 1)?;
        p.write_i8(-1)?;
        p.write_set_end()?;
        set(p, TType::Double, 1)?;
        p.write_double(0.5)?;
        p.write_set_end()?;
        p.write_set_end()
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn maps_non_string_keys(p: &mut P) -> R {
    begin_message(p, "testMaps", TMessageType::Call, 12)?;
    begin_struct(p, "testMaps_args")?;
    field(p, "by_i32", TType::Map, 1, |p| {
        map(p, TType::I32, TType::String, 2)?;
        p.write_i32(1)?;
        p.write_string("one")?;
        p.write_i32(-1)?;
        p.write_string("minus one")?;
        p.write_map_end()
    })?;
    field(p, "by_i64", TType::Map, 2, |p| {
        map(p, TType::I64, TType::Double, 1)?;
        p.write_i64(i64::MIN)?;
        p.write_double(0.25)?;
        p.write_map_end()
    })?;
    field(p, "by_bool", TType::Map, 3, |p| {
        map(p, TType::Bool, TType::I08, 2)?;
        p.write_bool(true)?;
        p.write_i8(1)?;
        p.write_bool(false)?;
        p.write_i8(0)?;
        p.write_map_end()
    })?;
    field(p, "by_double", TType::Map, 4, |p| {
        map(p, TType::Double, TType::I16, 2)?;
        p.write_double(1.0 / 3.0)?;
        p.write_i16(3)?;
        p.write_double(-0.0)?;
        p.write_i16(0)?;
        p.write_map_end()
    })?;
    field(p, "by_byte", TType::Map, 5, |p| {
        map(p, TType::I08, TType::Bool, 1)?;
        p.write_i8(-128)?;
        p.write_bool(true)?;
        p.write_map_end()
    })?;
    field(p, "by_struct", TType::Map, 6, |p| {
        map(p, TType::Struct, TType::List, 1)?;
        xtruct(p, "key", 1, 2, 3)?;
        list(p, TType::String, 1)?;
        p.write_string("value")?;
        p.write_list_end()?;
        p.write_map_end()
    })?;
    field(p, "by_list", TType::Map, 7, |p| {
        map(p, TType::List, TType::Set, 1)?;
        list(p, TType::I32, 2)?;
        p.write_i32(3)?;
        p.write_i32(4)?;
        p.write_list_end()?;
        set(p, TType::String, 1)?;
        p.write_string("a")?;
        p.write_set_end()?;
        p.write_map_end()
    })?;
    field(p, "nested", TType::Map, 8, |p| {
        map(p, TType::I16, TType::Map, 2)?;
        p.write_i16(-4)?;
        map(p, TType::I32, TType::I64, 2)?;
        p.write_i32(-4)?;
        p.write_i64(-4)?;
        p.write_i32(-3)?;
        p.write_i64(-3)?;
        p.write_map_end()?;
        p.write_i16(4)?;
        map(p, TType::I32, TType::I64, 0)?;
        p.write_map_end()?;
        p.write_map_end()
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn empty_containers(p: &mut P) -> R {
    begin_message(p, "testEmpty", TMessageType::Call, 13)?;
    begin_struct(p, "testEmpty_args")?;
    field(p, "list", TType::List, 1, |p| {
        list(p, TType::String, 0)?;
        p.write_list_end()
    })?;
    field(p, "set", TType::Set, 2, |p| {
        set(p, TType::I64, 0)?;
        p.write_set_end()
    })?;
    field(p, "map", TType::Map, 3, |p| {
        map(p, TType::I32, TType::String, 0)?;
        p.write_map_end()
    })?;
    // What the compact protocol reads for an empty map: no types at all.
    field(p, "compact_map", TType::Map, 4, |p| {
        p.write_map_begin(&TMapIdentifier::new(None, None, 0))?;
        p.write_map_end()
    })?;
    field(p, "list_of_empty", TType::List, 5, |p| {
        list(p, TType::List, 1)?;
        list(p, TType::I32, 0)?;
        p.write_list_end()?;
        p.write_list_end()
    })?;
    field(p, "struct", TType::Struct, 6, |p| {
        begin_struct(p, "Empty")?;
        end_struct(p)
    })?;
    field(p, "string", TType::String, 7, |p| p.write_string(""))?;
    field(p, "binary", TType::String, 8, |p| p.write_bytes(&[]))?;
    end_struct(p)?;
    p.write_message_end()
}

fn binary(p: &mut P) -> R {
    let all: Vec<u8> = (0..=255u8).collect();
    begin_struct(p, "Binaries")?;
    field(p, "all_bytes", TType::String, 1, |p| p.write_bytes(&all))?;
    field(p, "nul", TType::String, 2, |p| p.write_bytes(&[0]))?;
    field(p, "high", TType::String, 3, |p| {
        p.write_bytes(&[0xff, 0xfe, 0x80])
    })?;
    field(p, "text", TType::String, 4, |p| p.write_bytes(b"plain"))?;
    end_struct(p)
}

fn long_string(p: &mut P) -> R {
    begin_message(p, "testLong", TMessageType::Call, 14)?;
    begin_struct(p, "testLong_args")?;
    field(p, "at_limit", TType::String, 1, |p| {
        p.write_string(&letters(256))
    })?;
    field(p, "over_limit", TType::String, 2, |p| {
        p.write_string(&letters(257))
    })?;
    field(p, "long", TType::String, 3, |p| {
        p.write_string(&letters(100_000))
    })?;
    field(p, "escaped_prefix", TType::String, 4, |p| {
        p.write_string(&format!("\"quo\\ted\"\n\t{}", letters(300)))
    })?;
    field(p, "utf8_split", TType::String, 5, |p| {
        p.write_string(&format!("a{}", "é".repeat(200)))
    })?;
    field(p, "long_binary", TType::String, 6, |p| {
        p.write_bytes(&[0; 300])
    })?;
    field(p, "in_list", TType::List, 7, |p| {
        list(p, TType::String, 2)?;
        p.write_string(&letters(1000))?;
        p.write_string("short")?;
        p.write_list_end()
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn string_limit_10_prefix_4(p: &mut P) -> R {
    list(p, TType::String, 4)?;
    p.write_string(&letters(10))?;
    p.write_string(&letters(11))?;
    p.write_string("")?;
    p.write_bytes(&[1; 11])?;
    p.write_list_end()
}

fn string_limit_0(p: &mut P) -> R {
    list(p, TType::String, 3)?;
    p.write_string("")?;
    p.write_string("x")?;
    p.write_string(&letters(40))?;
    p.write_list_end()
}

fn string_prefix_over_length(p: &mut P) -> R {
    p.write_string(&letters(8))
}

fn string_no_limit(p: &mut P) -> R {
    p.write_string(&letters(1000))
}

fn special_doubles(p: &mut P) -> R {
    let values = [
        0.0,
        -0.0,
        1.0,
        -2.5,
        0.1,
        0.3,
        1.0 / 3.0,
        2.0 / 3.0,
        100.0,
        123456789.125,
        1e15,
        1e16,
        1e17,
        123456789012345678.0,
        9007199254740992.0,
        9007199254740994.0,
        1e-4,
        1e-5,
        1.5e-5,
        1e21,
        1e22,
        1e100,
        1e300,
        -1e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::EPSILON,
        10001.0 * 2f64.powi(-20),
        10003.0 * 2f64.powi(-20),
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    list(p, TType::Double, values.len() as i32)?;
    for d in values {
        p.write_double(d)?;
    }
    p.write_list_end()
}

fn unicode_escaped(p: &mut P) -> R {
    begin_message(p, "méthode", TMessageType::Call, 15)?;
    begin_struct(p, "Ünicode")?;
    field(p, "naïve", TType::String, 1, |p| {
        p.write_string("héllo wörld")
    })?;
    field(p, "cjk", TType::String, 2, |p| p.write_string("日本語"))?;
    field(p, "emoji", TType::String, 3, |p| p.write_string("😀"))?;
    field(p, "quotes", TType::String, 4, |p| {
        p.write_string("\"quoted\" and \\backslash\\ 'single'")
    })?;
    field(p, "controls", TType::String, 5, |p| {
        p.write_string("\x07\x08\t\n\x0b\x0c\r")
    })?;
    field(p, "nul", TType::String, 6, |p| p.write_string("a\0b"))?;
    field(p, "escape", TType::String, 7, |p| {
        p.write_string("\x1b[0m \x7f \x1f")
    })?;
    field(p, "punctuation", TType::String, 8, |p| {
        p.write_string(" !#$%&()*+,-./:;<=>?@[]^_`{|}~")
    })?;
    field(p, "line_separator", TType::String, 9, |p| {
        p.write_string("\u{2028}")
    })?;
    end_struct(p)?;
    p.write_message_end()
}

fn field_ids(p: &mut P) -> R {
    begin_struct(p, "FieldIds")?;
    for id in [0, 1, 9, 10, 99, 100, 32767, -1, -9, -10, -32768] {
        field(p, "f", TType::I16, id, |p| p.write_i16(id))?;
    }
    // No name at all (as every protocol but TDebugProtocol reads fields).
    p.write_field_begin(&TFieldIdentifier::new::<Option<String>, String, i16>(
        None,
        TType::Bool,
        2,
    ))?;
    p.write_bool(true)?;
    p.write_field_end()?;
    end_struct(p)
}

fn type_names(p: &mut P) -> R {
    let types = [
        TType::Stop,
        TType::Void,
        TType::Bool,
        TType::I08,
        TType::Double,
        TType::I16,
        TType::I32,
        TType::I64,
        TType::String,
        TType::Struct,
        TType::Map,
        TType::Set,
        TType::List,
        TType::Utf7,
    ];
    begin_struct(p, "TypeNames")?;
    for (id, t) in (1..).zip(types) {
        field(p, "l", TType::List, id, |p| {
            list(p, t, 0)?;
            p.write_list_end()
        })?;
    }
    end_struct(p)
}

fn top_level_values(p: &mut P) -> R {
    p.write_i32(1)?;
    p.write_string("two")?;
    p.write_bool(false)?;
    begin_struct(p, "S")?;
    field(p, "f", TType::I32, 1, |p| p.write_i32(3))?;
    end_struct(p)?;
    list(p, TType::I32, 1)?;
    p.write_i32(4)?;
    p.write_list_end()?;
    p.write_double(5.5)
}

fn message_bare_values(p: &mut P) -> R {
    begin_message(p, "bare", TMessageType::Call, 16)?;
    p.write_i32(5)?;
    p.write_string("s")?;
    list(p, TType::I08, 1)?;
    p.write_i8(9)?;
    p.write_list_end()?;
    p.write_message_end()
}

fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(format!("{name}.txt"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(name: &str, protocol: P, write: fn(&mut P) -> R) {
    let mut protocol = protocol;
    write(&mut protocol).unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = protocol.into_inner();
    let want = vector(name);
    assert!(
        got == want,
        "{name}: text differs from the C++ vector\n--- C++\n{}\n--- Rust\n{}",
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(&got)
    );
}

fn new() -> P {
    DebugOutputProtocol::new(Vec::new())
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), new(), super::$name);
            }
        )*
    };
}

mod default_limit {
    use super::*;
    cases!(
        message_base_types,
        message_types,
        nested_struct,
        lists,
        sets,
        maps_non_string_keys,
        empty_containers,
        binary,
        long_string,
        special_doubles,
        unicode_escaped,
        field_ids,
        top_level_values,
        message_bare_values,
        type_names,
    );
}

#[test]
fn string_limit_10_prefix_4_matches_cpp() {
    let p = new().with_string_limit(10).with_string_prefix(4);
    check("string_limit_10_prefix_4", p, string_limit_10_prefix_4);
}

#[test]
fn string_limit_0_matches_cpp() {
    check("string_limit_0", new().with_string_limit(0), string_limit_0);
}

#[test]
fn string_prefix_over_length_matches_cpp() {
    let p = new().with_string_limit(5).with_string_prefix(30);
    check("string_prefix_over_length", p, string_prefix_over_length);
}

#[test]
fn string_no_limit_matches_cpp() {
    check(
        "string_no_limit",
        new().without_string_limit(),
        string_no_limit,
    );
}
