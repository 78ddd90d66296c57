use std::io::Write;

use thrift::protocol::{
    TFieldIdentifier, TListIdentifier, TMapIdentifier, TMessageIdentifier, TOutputProtocol,
    TSetIdentifier, TStructIdentifier, TType,
};
use thrift::ProtocolErrorKind;

use super::{base64, error, format_double, type_name, Context};

/// Writes Thrift values as C++ `TJSONProtocol` does, byte for byte.
///
/// Every value is written straight to `W` in small pieces: wrap an unbuffered
/// writer (a socket) in a `BufWriter`. Nothing is written between messages,
/// so messages follow each other directly on the stream.
#[derive(Debug)]
pub struct TJsonOutputProtocol<W: Write> {
    writer: W,
    context: Context,
    outer: Vec<Context>,
    scratch: Vec<u8>,
    /// A message was begun and not ended: `flush` waits for its `]`. The
    /// thrift crate's exception path flushes before `write_message_end`,
    /// which over framed or HTTP transport would send the message in two.
    message_open: bool,
}

impl<W: Write> TJsonOutputProtocol<W> {
    /// A protocol writing to `writer`.
    pub fn new(writer: W) -> Self {
        TJsonOutputProtocol {
            writer,
            context: Context::Top,
            outer: Vec::new(),
            scratch: Vec::new(),
            message_open: false,
        }
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.writer
    }

    /// Writes the separator the context wants, then `bytes`.
    fn value(&mut self, bytes: &[u8]) -> thrift::Result<()> {
        if let Some(sep) = self.context.advance() {
            self.writer.write_all(&[sep])?;
        }
        self.writer.write_all(bytes)?;
        Ok(())
    }

    /// A number, quoted when it is an object key.
    fn number(&mut self, text: &str) -> thrift::Result<()> {
        if let Some(sep) = self.context.advance() {
            self.writer.write_all(&[sep])?;
        }
        if self.context.in_key() {
            self.writer.write_all(b"\"")?;
            self.writer.write_all(text.as_bytes())?;
            self.writer.write_all(b"\"")?;
        } else {
            self.writer.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    fn string(&mut self, s: &[u8]) -> thrift::Result<()> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push(b'"');
        escape_into(s, &mut out);
        out.push(b'"');
        let result = self.value(&out);
        self.scratch = out;
        result
    }

    fn open(&mut self, bracket: u8, inner: Context) -> thrift::Result<()> {
        self.value(&[bracket])?;
        self.outer.push(std::mem::replace(&mut self.context, inner));
        Ok(())
    }

    fn close(&mut self, bracket: u8) -> thrift::Result<()> {
        self.context = self.outer.pop().ok_or_else(|| {
            error(
                ProtocolErrorKind::InvalidData,
                format!("JSON: '{}' without a matching open", bracket as char),
            )
        })?;
        self.writer.write_all(&[bracket])?;
        Ok(())
    }

    fn container_begin(&mut self, element: TType, size: i32) -> thrift::Result<()> {
        let size = non_negative(size)?;
        self.open(b'[', Context::list())?;
        self.string(type_name(element)?.as_bytes())?;
        self.number(&size.to_string())
    }
}

fn non_negative(size: i32) -> thrift::Result<u32> {
    u32::try_from(size).map_err(|_| {
        error(
            ProtocolErrorKind::NegativeSize,
            format!("JSON: negative container size {size}"),
        )
    })
}

/// Appends `s` escaped as C++ does: `"` and `\` by a backslash, the
/// control characters 0x08, 0x09, 0x0a, 0x0c and 0x0d by their short
/// escapes, the other bytes below 0x20 as `\u00xx`, everything else as is.
fn escape_into(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in s {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
}

impl<W: Write> TOutputProtocol for TJsonOutputProtocol<W> {
    fn write_message_begin(&mut self, identifier: &TMessageIdentifier) -> thrift::Result<()> {
        self.message_open = true;
        self.context = Context::Top;
        self.outer.clear();
        self.open(b'[', Context::list())?;
        self.number("1")?;
        self.string(identifier.name.as_bytes())?;
        self.number(&u8::from(identifier.message_type).to_string())?;
        self.number(&identifier.sequence_number.to_string())
    }

    fn write_message_end(&mut self) -> thrift::Result<()> {
        self.message_open = false;
        self.close(b']')
    }

    fn write_struct_begin(&mut self, _identifier: &TStructIdentifier) -> thrift::Result<()> {
        self.open(b'{', Context::object())
    }

    fn write_struct_end(&mut self) -> thrift::Result<()> {
        self.close(b'}')
    }

    fn write_field_begin(&mut self, identifier: &TFieldIdentifier) -> thrift::Result<()> {
        let id = identifier.id.ok_or_else(|| {
            error(
                ProtocolErrorKind::InvalidData,
                "JSON: a field needs an id".to_owned(),
            )
        })?;
        let tag = type_name(identifier.field_type)?;
        self.number(&id.to_string())?;
        self.open(b'{', Context::object())?;
        self.string(tag.as_bytes())
    }

    fn write_field_end(&mut self) -> thrift::Result<()> {
        self.close(b'}')
    }

    fn write_field_stop(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn write_bool(&mut self, b: bool) -> thrift::Result<()> {
        self.number(if b { "1" } else { "0" })
    }

    fn write_bytes(&mut self, b: &[u8]) -> thrift::Result<()> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push(b'"');
        base64::encode_unpadded(b, &mut out);
        out.push(b'"');
        let result = self.value(&out);
        self.scratch = out;
        result
    }

    fn write_i8(&mut self, i: i8) -> thrift::Result<()> {
        self.number(&i.to_string())
    }

    fn write_i16(&mut self, i: i16) -> thrift::Result<()> {
        self.number(&i.to_string())
    }

    fn write_i32(&mut self, i: i32) -> thrift::Result<()> {
        self.number(&i.to_string())
    }

    fn write_i64(&mut self, i: i64) -> thrift::Result<()> {
        self.number(&i.to_string())
    }

    fn write_double(&mut self, d: f64) -> thrift::Result<()> {
        if d.is_nan() {
            self.value(b"\"NaN\"")
        } else if d.is_infinite() {
            self.value(if d > 0.0 {
                b"\"Infinity\""
            } else {
                b"\"-Infinity\""
            })
        } else {
            self.number(&format_double(d))
        }
    }

    fn write_uuid(&mut self, uuid: &uuid::Uuid) -> thrift::Result<()> {
        // As Python 0.25 writes it: the hyphenated lower-case form.
        self.string(uuid.hyphenated().to_string().as_bytes())
    }

    fn write_string(&mut self, s: &str) -> thrift::Result<()> {
        self.string(s.as_bytes())
    }

    fn write_list_begin(&mut self, identifier: &TListIdentifier) -> thrift::Result<()> {
        self.container_begin(identifier.element_type, identifier.size)
    }

    fn write_list_end(&mut self) -> thrift::Result<()> {
        self.close(b']')
    }

    fn write_set_begin(&mut self, identifier: &TSetIdentifier) -> thrift::Result<()> {
        self.container_begin(identifier.element_type, identifier.size)
    }

    fn write_set_end(&mut self) -> thrift::Result<()> {
        self.close(b']')
    }

    fn write_map_begin(&mut self, identifier: &TMapIdentifier) -> thrift::Result<()> {
        let missing = || {
            error(
                ProtocolErrorKind::InvalidData,
                "JSON: a map needs its key and value types, even when empty".to_owned(),
            )
        };
        let key = type_name(identifier.key_type.ok_or_else(missing)?)?;
        let value = type_name(identifier.value_type.ok_or_else(missing)?)?;
        let size = non_negative(identifier.size)?;
        self.open(b'[', Context::list())?;
        self.string(key.as_bytes())?;
        self.string(value.as_bytes())?;
        self.number(&size.to_string())?;
        self.open(b'{', Context::object())
    }

    fn write_map_end(&mut self) -> thrift::Result<()> {
        self.close(b'}')?;
        self.close(b']')
    }

    fn flush(&mut self) -> thrift::Result<()> {
        if !self.message_open {
            self.writer.flush()?;
        }
        Ok(())
    }

    fn write_byte(&mut self, b: u8) -> thrift::Result<()> {
        self.number(&(b as i8).to_string())
    }
}
