//! How TDebugProtocol spells single values: type names, message types, field
//! ids, doubles and (quoted, escaped, possibly cut) strings.

use thrift::protocol::{TMessageType, TType};

/// Strings longer than this many bytes are cut (C++'s
/// `TDebugProtocol::DEFAULT_STRING_LIMIT`).
pub const DEFAULT_STRING_LIMIT: usize = 256;

/// How many bytes of a cut string are kept (C++'s
/// `TDebugProtocol::DEFAULT_STRING_PREFIX_SIZE`).
pub const DEFAULT_STRING_PREFIX: usize = 16;

/// When strings and binaries are cut, and how much of them is kept.
///
/// A value longer than `limit` bytes is shown as its first `prefix` bytes
/// followed by `[...](N)`, N being its full length, all inside the quotes:
/// `"abcdefghijklmnop[...](257)"`. Lengths count bytes, not characters, so a
/// prefix may end inside a UTF-8 sequence (it is shown escaped anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringLimit {
    /// Longest value shown whole; `None` shows every value whole (C++: a
    /// negative limit).
    pub limit: Option<usize>,
    /// Bytes kept of a value that is cut.
    pub prefix: usize,
}

impl Default for StringLimit {
    /// C++'s defaults: 256 and 16.
    fn default() -> Self {
        StringLimit {
            limit: Some(DEFAULT_STRING_LIMIT),
            prefix: DEFAULT_STRING_PREFIX,
        }
    }
}

/// The name TDebugProtocol gives a type, in field headers (`(i32)`) and
/// container headers (`list<i32>`).
///
/// The names are C++'s, with C++'s `byte` for [`TType::I08`] and `unknown`
/// for [`TType::Utf7`] (7), which C++ does not name either. [`TType::Uuid`]
/// (16) is `uuid`: libthrift 0.17 has no UUID and calls 16 `utf8`.
pub fn type_name(ttype: TType) -> &'static str {
    match ttype {
        TType::Stop => "stop",
        TType::Void => "void",
        TType::Bool => "bool",
        TType::I08 => "byte",
        TType::Double => "double",
        TType::I16 => "i16",
        TType::I32 => "i32",
        TType::I64 => "i64",
        TType::String => "string",
        TType::Struct => "struct",
        TType::Map => "map",
        TType::Set => "set",
        TType::List => "list",
        TType::Uuid => "uuid",
        TType::Utf7 => "unknown",
    }
}

/// `call`, `reply`, `exn` or `oneway`, as in `(call) ping(`.
pub(crate) fn message_type_name(message_type: TMessageType) -> &'static str {
    match message_type {
        TMessageType::Call => "call",
        TMessageType::Reply => "reply",
        TMessageType::Exception => "exn",
        TMessageType::OneWay => "oneway",
    }
}

/// A field id as a field header shows it: at least two digits, `01`, `-1`,
/// `100` (what `%02d` prints).
pub(crate) fn field_id(id: i16) -> String {
    format!("{id:02}")
}

/// A double as C++ streams it with 17 significant digits (printf's `%.17g`):
/// `0.10000000000000001`, `1e+17`, `-0`, `nan`, `-nan`, `inf`, `-inf`.
pub(crate) fn double(value: f64) -> String {
    const PRECISION: i32 = 17;
    if value.is_nan() {
        return if value.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        }
        .to_owned();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    // Rust rounds exactly, ties to even, like glibc: the 17 digits and the
    // decimal exponent of the value, as %e would print them.
    let scientific = format!("{:.*e}", (PRECISION - 1) as usize, value);
    let (mantissa, exponent) = match scientific.split_once('e') {
        Some(parts) => parts,
        None => return scientific,
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if !(-4..PRECISION).contains(&exponent) {
        // d.ddde+XX, at least two exponent digits, trailing zeros dropped.
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{point}{rest}e{exp_sign}{:02}", exponent.abs())
    } else if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let int_len = exponent as usize + 1;
        if digits.len() <= int_len {
            let zeros = "0".repeat(int_len - digits.len());
            format!("{sign}{digits}{zeros}")
        } else {
            let (int, frac) = digits.split_at(int_len);
            format!("{sign}{int}.{frac}")
        }
    }
}

/// A string or binary value, quoted: `\\` and `\"` escaped, printable ASCII
/// as it is, `\a \b \t \n \v \f \r` for those controls, `\xHH` (lower-case)
/// for every other byte, UTF-8 included; cut as `limit` says.
pub(crate) fn quoted(bytes: &[u8], limit: StringLimit) -> String {
    let cut = limit.limit.is_some_and(|max| bytes.len() > max);
    let shown = if cut {
        &bytes[..bytes.len().min(limit.prefix)]
    } else {
        bytes
    };
    let mut out = String::with_capacity(shown.len() + 24);
    out.push('"');
    for &b in shown {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
    if cut {
        out.push_str(&format!("[...]({})", bytes.len()));
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_percent_17g() {
        for (value, text) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.10000000000000001"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1e-4, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (1.5e-5, "1.5e-05"),
            (1e100, "1e+100"),
            (-1e-300, "-1e-300"),
            (123456789.125, "123456789.125"),
            (f64::from_bits(1), "4.9406564584124654e-324"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(double(value), text, "{value:?}");
        }
    }

    #[test]
    fn field_ids_have_two_digits_at_least() {
        assert_eq!(field_id(0), "00");
        assert_eq!(field_id(7), "07");
        assert_eq!(field_id(-1), "-1");
        assert_eq!(field_id(-10), "-10");
        assert_eq!(field_id(i16::MAX), "32767");
    }

    #[test]
    fn strings_are_cut_by_bytes_and_escaped() {
        let limit = StringLimit {
            limit: Some(3),
            prefix: 2,
        };
        assert_eq!(quoted(b"abc", limit), "\"abc\"");
        assert_eq!(quoted(b"a\"cd", limit), "\"a\\\"[...](4)\"");
        assert_eq!(quoted("é".as_bytes(), limit), "\"\\xc3\\xa9\"");
        let none = StringLimit {
            limit: None,
            prefix: 0,
        };
        assert_eq!(quoted(&[b'x'; 300], none).len(), 302);
    }
}
