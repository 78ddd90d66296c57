//! Apache Thrift's TJSONProtocol, byte-compatible with the C++ library's.
//!
//! The format, as C++ `TJSONProtocol` writes it:
//!
//! - a message is `[1,"name",type,seqid,<body>]`;
//! - a struct is an object keyed by field id, each value a single-key object
//!   naming the type: `{"1":{"str":"hello"},"2":{"i32":5}}`;
//! - a list or set is `["i32",3,1,2,3]`; a map is
//!   `["i32","str",2,{"1":"a","2":"b"}]`, its keys always quoted, numbers too;
//! - bools are `1` and `0`; doubles use 17 significant digits (`%.17g`), with
//!   `"NaN"`, `"Infinity"` and `"-Infinity"` quoted;
//! - binary is base64 without padding (padded input is read too);
//! - strings are written byte for byte except `"`, `\` and the control
//!   characters below 0x20: `\b \t \n \f \r` by their short escapes, the rest
//!   as `\u00xx`. Non-ASCII UTF-8 is written raw. On read, `\/` and
//!   upper-case hex are also accepted, and `\uXXXX` surrogate pairs are joined.
//!
//! No whitespace is written, and none is accepted, as in C++.

mod base64;
mod read;
mod write;

pub use read::TJsonInputProtocol;
pub use write::TJsonOutputProtocol;

use thrift::protocol::TType;
use thrift::{ProtocolError, ProtocolErrorKind};

/// The type tag that names `t` in field values and container headers.
fn type_name(t: TType) -> thrift::Result<&'static str> {
    Ok(match t {
        TType::Bool => "tf",
        TType::I08 => "i8",
        TType::I16 => "i16",
        TType::I32 => "i32",
        TType::I64 => "i64",
        TType::Double => "dbl",
        TType::String => "str",
        TType::Struct => "rec",
        TType::Map => "map",
        TType::Set => "set",
        TType::List => "lst",
        // Not in C++ 0.17 or Go 0.17; Python 0.25 and later Apache releases.
        TType::Uuid => "uid",
        other => {
            return Err(error(
                ProtocolErrorKind::NotImplemented,
                format!("JSON protocol cannot encode type {other:?}"),
            ))
        }
    })
}

/// The type named by a type tag.
fn type_from_name(name: &[u8]) -> thrift::Result<TType> {
    Ok(match name {
        b"tf" => TType::Bool,
        b"i8" => TType::I08,
        b"i16" => TType::I16,
        b"i32" => TType::I32,
        b"i64" => TType::I64,
        b"dbl" => TType::Double,
        b"str" => TType::String,
        b"rec" => TType::Struct,
        b"map" => TType::Map,
        b"set" => TType::Set,
        b"lst" => TType::List,
        b"uid" => TType::Uuid,
        other => {
            return Err(error(
                ProtocolErrorKind::NotImplemented,
                format!("unknown JSON type tag {:?}", String::from_utf8_lossy(other)),
            ))
        }
    })
}

fn error(kind: ProtocolErrorKind, message: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(kind, message))
}

/// Where the protocol is inside the JSON text, which decides the separator
/// before the next value and whether a number must be quoted (map keys and
/// field ids are object keys, which JSON requires to be strings).
#[derive(Debug, Clone, Copy)]
enum Context {
    /// Outside any array or object: no separators.
    Top,
    /// Inside an array; `first` until the first element.
    List { first: bool },
    /// Inside an object. `colon` is true while the value last started is a
    /// key, so that the next separator is `:`.
    Object { first: bool, colon: bool },
}

impl Context {
    /// Moves to the next value and returns the separator due before it.
    fn advance(&mut self) -> Option<u8> {
        match self {
            Context::Top => None,
            Context::List { first } => (!std::mem::replace(first, false)).then_some(b','),
            Context::Object { first, colon } => {
                if std::mem::replace(first, false) {
                    *colon = true;
                    None
                } else {
                    let sep = if *colon { b':' } else { b',' };
                    *colon = !*colon;
                    Some(sep)
                }
            }
        }
    }

    /// Whether the value started by the last [`Context::advance`] is an
    /// object key, so that a number must be quoted.
    fn in_key(&self) -> bool {
        matches!(self, Context::Object { colon: true, .. })
    }

    fn list() -> Context {
        Context::List { first: true }
    }

    fn object() -> Context {
        Context::Object {
            first: true,
            colon: true,
        }
    }
}

/// Formats `d` as C++ `ostream << setprecision(17)` (that is, `%.17g`) does.
/// `d` must be finite.
fn format_double(d: f64) -> String {
    const PRECISION: i32 = 17;
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exp) {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let fixed = format!("{:.*}", (PRECISION - 1 - exp) as usize, d);
        trim_fraction(&fixed).to_owned()
    }
}

/// `%g` drops trailing zeros of the fraction, and the point if none is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_format_as_percent_17g() {
        for (d, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.10000000000000001"),
            (1.0 / 3.0, "0.33333333333333331"),
            (1e300, "1.0000000000000001e+300"),
            (5e-324, "4.9406564584124654e-324"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (-2.5, "-2.5"),
            (f64::MAX, "1.7976931348623157e+308"),
        ] {
            assert_eq!(format_double(d), want, "{d:e}");
        }
    }

    #[test]
    fn type_names_round_trip() {
        for t in [
            TType::Bool,
            TType::I08,
            TType::I16,
            TType::I32,
            TType::I64,
            TType::Double,
            TType::String,
            TType::Struct,
            TType::Map,
            TType::Set,
            TType::List,
            TType::Uuid,
        ] {
            let name = type_name(t).expect("name");
            assert_eq!(type_from_name(name.as_bytes()).expect("type"), t);
        }
        assert!(type_name(TType::Utf7).is_err());
        assert!(type_from_name(b"i").is_err());
    }
}
