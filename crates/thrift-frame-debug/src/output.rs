//! [`DebugOutputProtocol`]: a `TOutputProtocol` that writes C++
//! TDebugProtocol's text.

use std::io::Write;

use thrift::protocol::{
    TFieldIdentifier, TListIdentifier, TMapIdentifier, TMessageIdentifier, TOutputProtocol,
    TSetIdentifier, TStructIdentifier, TType,
};
use thrift::{ProtocolError, ProtocolErrorKind};

use crate::format::{self, StringLimit};

/// Spaces added per level of nesting.
const INDENT_STEP: usize = 2;

/// What is being written at one level of nesting, which decides what comes
/// before and after each value (C++'s `write_state_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Outside any struct or container: values back to back, nothing between.
    Top,
    /// Fields: the field header comes before, `,\n` after.
    Struct,
    /// `[i] = ` before, `,\n` after; the index of the next element.
    List(u64),
    /// Indentation before, `,\n` after.
    Set,
    /// Indentation before; the value comes next.
    MapKey,
    /// ` -> ` before, `,\n` after; a key comes next.
    MapValue,
}

/// A [`TOutputProtocol`] that writes, for each call, the text C++'s
/// `apache::thrift::protocol::TDebugProtocol` writes for the same call.
///
/// ```text
/// (call) ping(ping_args {
///     01: text (string) = "hello",
///     02: sizes (list) = list<i32>[2] {
///       [0] = 1,
///       [1] = 2,
///     },
///   })
/// ```
///
/// The format, as libthrift 0.17 writes it:
/// - a message is `(call) name(` … `)\n` (also `reply`, `exn`, `oneway`); the
///   sequence id is not shown; its body is indented two more spaces;
/// - a struct is `Name {\n`, one `id: name (type) = value,\n` line per field
///   (ids of at least two digits), and `}` at the struct's own indentation;
/// - containers are `list<type>[size] {\n` with `[i] = value,\n` lines,
///   `set<type>[size] {\n` with `value,\n` lines and
///   `map<key,value>[size] {\n` with `key -> value,\n` lines; a map without
///   key and value types (an empty compact map) is `map<stop,stop>`;
/// - `true`/`false`; bytes as `0x80`; integers in decimal; doubles as
///   `%.17g` (`0.10000000000000001`, `1e+17`, `nan`, `-inf`);
/// - strings and binaries alike quoted and escaped byte by byte (see
///   [`StringLimit`] for how long ones are cut); UUIDs, which libthrift 0.17
///   does not know, as their hyphenated text;
/// - values outside a struct or container (top level, or bare in a message)
///   have nothing between them, and the text ends without a newline unless
///   a message ended it.
///
/// Names are written as given, unquoted; fields without a name (as every
/// binary protocol reads them) show an empty one, and [`TType::Utf7`] is
/// `unknown`.
///
/// Ending a struct, container or message that was not begun, or a field
/// outside a struct, is an [`ProtocolErrorKind::InvalidData`] error, where
/// C++ throws or asserts.
#[derive(Debug)]
pub struct DebugOutputProtocol<W: Write> {
    writer: W,
    strings: StringLimit,
    indent: usize,
    frames: Vec<Frame>,
}

impl<W: Write> DebugOutputProtocol<W> {
    /// Writes to `writer`, cutting strings as C++ does by default (over 256
    /// bytes, keeping 16).
    pub fn new(writer: W) -> Self {
        DebugOutputProtocol {
            writer,
            strings: StringLimit::default(),
            indent: 0,
            frames: vec![Frame::Top],
        }
    }

    /// Cuts strings and binaries longer than `limit` bytes (C++'s
    /// `setStringSizeLimit`).
    pub fn with_string_limit(mut self, limit: usize) -> Self {
        self.strings.limit = Some(limit);
        self
    }

    /// Shows every string and binary whole (C++: a negative limit).
    pub fn without_string_limit(mut self) -> Self {
        self.strings.limit = None;
        self
    }

    /// Keeps `prefix` bytes of a string that is cut (C++'s
    /// `setStringPrefixSize`).
    pub fn with_string_prefix(mut self, prefix: usize) -> Self {
        self.strings.prefix = prefix;
        self
    }

    /// Cuts strings as `strings` says.
    pub fn with_strings(mut self, strings: StringLimit) -> Self {
        self.strings = strings;
        self
    }

    /// How strings are cut.
    pub fn strings(&self) -> StringLimit {
        self.strings
    }

    pub(crate) fn set_strings(&mut self, strings: StringLimit) {
        self.strings = strings;
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.writer
    }

    /// The writer, mutably (writing to it directly mixes with the text).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// The writer back, with everything written so far.
    pub fn into_inner(self) -> W {
        self.writer
    }

    /// Forgets any open message, struct or container: the next value is
    /// written as at the start.
    pub(crate) fn reset(&mut self) {
        self.indent = 0;
        self.frames.clear();
        self.frames.push(Frame::Top);
    }

    /// Writes `text` as one value would be, with what comes before and
    /// after it at this point (for values the format has no spelling for).
    pub(crate) fn write_raw_item(&mut self, text: &str) -> thrift::Result<()> {
        self.item(text)
    }

    fn plain(&mut self, text: &str) -> thrift::Result<()> {
        self.writer.write_all(text.as_bytes()).map_err(From::from)
    }

    fn indented(&mut self, text: &str) -> thrift::Result<()> {
        const SPACES: &str = "                                                                ";
        let mut left = self.indent;
        while left > 0 {
            let n = left.min(SPACES.len());
            self.writer.write_all(&SPACES.as_bytes()[..n])?;
            left -= n;
        }
        self.plain(text)
    }

    fn top(&self) -> Frame {
        self.frames.last().copied().unwrap_or(Frame::Top)
    }

    fn start_item(&mut self) -> thrift::Result<()> {
        match self.top() {
            Frame::Top | Frame::Struct => Ok(()),
            Frame::Set | Frame::MapKey => self.indented(""),
            Frame::MapValue => self.plain(" -> "),
            Frame::List(index) => {
                if let Some(frame) = self.frames.last_mut() {
                    *frame = Frame::List(index.saturating_add(1));
                }
                self.indented(&format!("[{index}] = "))
            }
        }
    }

    fn end_item(&mut self) -> thrift::Result<()> {
        match self.top() {
            Frame::Top => Ok(()),
            Frame::Struct | Frame::Set | Frame::List(_) => self.plain(",\n"),
            Frame::MapKey => {
                self.set_top(Frame::MapValue);
                Ok(())
            }
            Frame::MapValue => {
                self.set_top(Frame::MapKey);
                self.plain(",\n")
            }
        }
    }

    fn set_top(&mut self, frame: Frame) {
        if let Some(top) = self.frames.last_mut() {
            *top = frame;
        }
    }

    fn item(&mut self, text: &str) -> thrift::Result<()> {
        self.start_item()?;
        self.plain(text)?;
        self.end_item()
    }

    /// Opens a struct or container whose header is `header`.
    fn open(&mut self, header: &str, frame: Frame) -> thrift::Result<()> {
        self.start_item()?;
        self.plain(header)?;
        self.indent += INDENT_STEP;
        self.frames.push(frame);
        Ok(())
    }

    /// Closes the innermost struct or container.
    fn close(&mut self, what: &str) -> thrift::Result<()> {
        if self.indent < INDENT_STEP || self.frames.len() < 2 {
            return Err(misuse(format!("{what} end without its begin")));
        }
        self.indent -= INDENT_STEP;
        self.frames.pop();
        self.indented("}")?;
        self.end_item()
    }
}

fn misuse(message: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(
        ProtocolErrorKind::InvalidData,
        format!("debug protocol: {message}"),
    ))
}

fn container_header(kind: &str, types: &str, size: i32) -> String {
    // C++ takes the size as uint32_t.
    format!("{kind}<{types}>[{}] {{\n", size as u32)
}

impl<W: Write> TOutputProtocol for DebugOutputProtocol<W> {
    fn write_message_begin(&mut self, identifier: &TMessageIdentifier) -> thrift::Result<()> {
        let kind = format::message_type_name(identifier.message_type);
        self.indented(&format!("({kind}) {}(", identifier.name))?;
        self.indent += INDENT_STEP;
        Ok(())
    }

    fn write_message_end(&mut self) -> thrift::Result<()> {
        if self.indent < INDENT_STEP {
            return Err(misuse("message end without its begin".to_owned()));
        }
        self.indent -= INDENT_STEP;
        self.indented(")\n")
    }

    fn write_struct_begin(&mut self, identifier: &TStructIdentifier) -> thrift::Result<()> {
        self.open(&format!("{} {{\n", identifier.name), Frame::Struct)
    }

    fn write_struct_end(&mut self) -> thrift::Result<()> {
        self.close("struct")
    }

    fn write_field_begin(&mut self, identifier: &TFieldIdentifier) -> thrift::Result<()> {
        let header = format!(
            "{}: {} ({}) = ",
            format::field_id(identifier.id.unwrap_or(0)),
            identifier.name.as_deref().unwrap_or(""),
            format::type_name(identifier.field_type)
        );
        self.indented(&header)
    }

    fn write_field_end(&mut self) -> thrift::Result<()> {
        if self.top() == Frame::Struct {
            Ok(())
        } else {
            Err(misuse("field end outside a struct".to_owned()))
        }
    }

    fn write_field_stop(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn write_bool(&mut self, b: bool) -> thrift::Result<()> {
        self.item(if b { "true" } else { "false" })
    }

    fn write_bytes(&mut self, b: &[u8]) -> thrift::Result<()> {
        let text = format::quoted(b, self.strings);
        self.item(&text)
    }

    fn write_i8(&mut self, i: i8) -> thrift::Result<()> {
        self.item(&format!("0x{:02x}", i as u8))
    }

    fn write_i16(&mut self, i: i16) -> thrift::Result<()> {
        self.item(&i.to_string())
    }

    fn write_i32(&mut self, i: i32) -> thrift::Result<()> {
        self.item(&i.to_string())
    }

    fn write_i64(&mut self, i: i64) -> thrift::Result<()> {
        self.item(&i.to_string())
    }

    fn write_double(&mut self, d: f64) -> thrift::Result<()> {
        self.item(&format::double(d))
    }

    fn write_uuid(&mut self, uuid: &uuid::Uuid) -> thrift::Result<()> {
        self.item(&uuid.hyphenated().to_string())
    }

    fn write_string(&mut self, s: &str) -> thrift::Result<()> {
        self.write_bytes(s.as_bytes())
    }

    fn write_list_begin(&mut self, identifier: &TListIdentifier) -> thrift::Result<()> {
        let t = format::type_name(identifier.element_type);
        self.open(
            &container_header("list", t, identifier.size),
            Frame::List(0),
        )
    }

    fn write_list_end(&mut self) -> thrift::Result<()> {
        self.close("list")
    }

    fn write_set_begin(&mut self, identifier: &TSetIdentifier) -> thrift::Result<()> {
        let t = format::type_name(identifier.element_type);
        self.open(&container_header("set", t, identifier.size), Frame::Set)
    }

    fn write_set_end(&mut self) -> thrift::Result<()> {
        self.close("set")
    }

    fn write_map_begin(&mut self, identifier: &TMapIdentifier) -> thrift::Result<()> {
        let name = |t: Option<TType>| format::type_name(t.unwrap_or(TType::Stop));
        let types = format!(
            "{},{}",
            name(identifier.key_type),
            name(identifier.value_type)
        );
        self.open(
            &container_header("map", &types, identifier.size),
            Frame::MapKey,
        )
    }

    fn write_map_end(&mut self) -> thrift::Result<()> {
        self.close("map")
    }

    fn flush(&mut self) -> thrift::Result<()> {
        self.writer.flush().map_err(From::from)
    }

    /// An unsigned byte, shown as a byte value is (`0xff`).
    fn write_byte(&mut self, b: u8) -> thrift::Result<()> {
        self.item(&format!("0x{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: DebugOutputProtocol<Vec<u8>>) -> String {
        String::from_utf8(p.into_inner()).expect("utf-8")
    }

    #[test]
    fn ends_without_begins_are_errors_not_panics() {
        let mut p = DebugOutputProtocol::new(Vec::new());
        assert!(p.write_struct_end().is_err());
        assert!(p.write_list_end().is_err());
        assert!(p.write_set_end().is_err());
        assert!(p.write_map_end().is_err());
        assert!(p.write_message_end().is_err());
        assert!(p.write_field_end().is_err());
        // Inside a message but outside any struct: no frame to close.
        let ident = TMessageIdentifier::new("m", thrift::protocol::TMessageType::Call, 1);
        p.write_message_begin(&ident).expect("begin");
        assert!(p.write_struct_end().is_err());
        p.write_message_end().expect("end");
        assert_eq!(text(p), "(call) m()\n");
    }

    #[test]
    fn raw_bytes_and_uuids_are_items() {
        let mut p = DebugOutputProtocol::new(Vec::new());
        p.write_list_begin(&TListIdentifier::new(TType::Uuid, 2))
            .expect("list");
        p.write_uuid(&uuid::Uuid::from_u128(
            0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
        ))
        .expect("uuid");
        p.write_byte(0xff).expect("byte");
        p.write_list_end().expect("end");
        assert_eq!(
            text(p),
            "list<uuid>[2] {\n  [0] = 01234567-89ab-cdef-0123-456789abcdef,\n  [1] = 0xff,\n}"
        );
    }

    #[test]
    fn negative_sizes_print_as_cpp_unsigned() {
        let mut p = DebugOutputProtocol::new(Vec::new());
        p.write_set_begin(&TSetIdentifier::new(TType::I32, -1))
            .expect("set");
        p.write_set_end().expect("end");
        assert_eq!(text(p), "set<i32>[4294967295] {\n}");
    }
}
