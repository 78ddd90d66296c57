use std::io::{ErrorKind, Read};

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::ProtocolErrorKind;

use super::{base64, error, type_from_name, Context};
use crate::Limits;

/// Size of the lookahead buffer between the protocol and its reader.
const LOOKAHEAD_BYTES: usize = 4096;

/// Longest numeric literal accepted. The longest any library writes is 24
/// characters (`-2.2250738585072014e-308`); this leaves room for other
/// spellings without letting a peer make us collect an endless number.
const MAX_NUMBER_CHARS: usize = 64;

/// Reads Thrift values in the JSON encoding C++, Go and Python
/// `TJSONProtocol` write.
///
/// Reads go through a small lookahead buffer of its own, filled with whatever
/// a single `read` returns, so that an unbuffered reader (a socket) costs
/// no syscall per byte. That buffer may hold bytes of the next message: keep
/// one protocol per stream. A string, binary or container is checked against
/// `limits` before it is allocated, nesting against
/// `limits.max_recursion_depth`. Malformed input is a `thrift::Error::Protocol`;
/// input that ends too early is the reader's `UnexpectedEof`
/// (`thrift::Error::Transport` of kind `EndOfFile`), as in the other
/// protocols.
#[derive(Debug)]
pub struct TJsonInputProtocol<R: Read> {
    reader: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes consumed before `buf[0]`, for error messages.
    base: u64,
    context: Context,
    outer: Vec<Context>,
    depth: usize,
    limits: Limits,
    /// A message was begun and not ended. The thrift crate's generated
    /// processors never call `read_message_end`; for JSON that leaves the
    /// envelope's closing `]` unread, so the next message begins by
    /// reading it.
    message_open: bool,
    /// Per struct being read, whether a field's `{` is open: the trait's
    /// default `skip` (which `Box<P>` runs, whatever `P` overrides) never
    /// calls `read_field_end`, so the next field or the struct's end
    /// closes it. Bounded by the nesting limit.
    field_open: Vec<bool>,
}

fn invalid(message: String) -> thrift::Error {
    error(ProtocolErrorKind::InvalidData, format!("JSON: {message}"))
}

fn describe(c: u8) -> String {
    if c.is_ascii_graphic() || c == b' ' {
        format!("'{}'", c as char)
    } else {
        format!("byte 0x{c:02x}")
    }
}

fn is_numeric(c: u8) -> bool {
    matches!(c, b'+' | b'-' | b'.' | b'0'..=b'9' | b'E' | b'e')
}

/// The smallest JSON text one element of type `t` can take, with its
/// separator, for checking a container's declared size.
fn min_element_bytes(t: TType) -> usize {
    match t {
        TType::Bool | TType::I08 | TType::I16 | TType::I32 | TType::I64 | TType::Double => 2,
        // `"00000000-0000-0000-0000-000000000000"`
        TType::Uuid => 39,
        // `""`, `{}`, `[...]`
        _ => 3,
    }
}

impl<R: Read> TJsonInputProtocol<R> {
    /// A protocol reading from `reader`, bounded by `limits`.
    pub fn new(reader: R, limits: Limits) -> Self {
        TJsonInputProtocol {
            reader,
            buf: vec![0; LOOKAHEAD_BYTES].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            context: Context::Top,
            outer: Vec::new(),
            depth: 0,
            limits,
            message_open: false,
            field_open: Vec::new(),
        }
    }

    /// Closes a field that was read without `read_field_end` (see
    /// `field_open`).
    fn close_open_field(&mut self) -> thrift::Result<()> {
        if self.field_open.last() == Some(&true) {
            self.close(b'}')?;
            if let Some(open) = self.field_open.last_mut() {
                *open = false;
            }
        }
        Ok(())
    }

    /// Offset of the next byte in the stream, for error messages.
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes sure at least one byte is buffered.
    fn fill(&mut self) -> thrift::Result<()> {
        while self.pos == self.end {
            self.base += self.end as u64;
            self.pos = 0;
            self.end = 0;
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        ErrorKind::UnexpectedEof,
                        format!("JSON: input ends at byte {}", self.base),
                    )
                    .into())
                }
                Ok(n) => self.end = n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn peek(&mut self) -> thrift::Result<u8> {
        self.fill()?;
        Ok(self.buf[self.pos])
    }

    fn next(&mut self) -> thrift::Result<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Ok(c)
    }

    fn expect(&mut self, want: u8) -> thrift::Result<()> {
        let at = self.offset();
        let got = self.next()?;
        if got == want {
            Ok(())
        } else {
            Err(invalid(format!(
                "expected '{}' at byte {at}, found {}",
                want as char,
                describe(got)
            )))
        }
    }

    /// Reads the separator the context wants before the next value.
    fn separator(&mut self) -> thrift::Result<()> {
        match self.context.advance() {
            Some(sep) => self.expect(sep),
            None => Ok(()),
        }
    }

    fn open(&mut self, bracket: u8, inner: Context) -> thrift::Result<()> {
        self.separator()?;
        self.expect(bracket)?;
        self.outer.push(std::mem::replace(&mut self.context, inner));
        Ok(())
    }

    fn close(&mut self, bracket: u8) -> thrift::Result<()> {
        self.expect(bracket)?;
        self.context = self.outer.pop().unwrap_or(Context::Top);
        Ok(())
    }

    /// One more level of struct or container nesting.
    fn enter(&mut self) -> thrift::Result<()> {
        if self.depth >= self.limits.max_recursion_depth {
            return Err(error(
                ProtocolErrorKind::DepthLimit,
                format!(
                    "JSON: nesting deeper than {} at byte {}",
                    self.limits.max_recursion_depth,
                    self.offset()
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Reads a JSON string, unescaped, of at most `limit` bytes.
    fn raw_string(&mut self, skip_separator: bool, limit: usize) -> thrift::Result<Vec<u8>> {
        if !skip_separator {
            self.separator()?;
        }
        self.expect(b'"')?;
        let start = self.offset();
        let mut out = Vec::new();
        let too_long = |at: u64| {
            error(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "JSON: string starting at byte {start} exceeds {limit} bytes (at byte {at})"
                ),
            )
        };
        loop {
            self.fill()?;
            let run = &self.buf[self.pos..self.end];
            let plain = run
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .unwrap_or(run.len());
            if out.len() + plain > limit {
                return Err(too_long(self.offset()));
            }
            out.extend_from_slice(&run[..plain]);
            self.pos += plain;
            if plain == run.len() {
                continue;
            }
            if self.next()? == b'"' {
                return Ok(out);
            }
            let at = self.offset() - 1;
            let decoded = match self.next()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.escaped_char(at)?,
                other => {
                    return Err(invalid(format!(
                        "invalid escape \\{} at byte {at}",
                        describe(other)
                    )))
                }
            };
            let mut utf8 = [0; 4];
            let utf8 = decoded.encode_utf8(&mut utf8).as_bytes();
            if out.len() + utf8.len() > limit {
                return Err(too_long(at));
            }
            out.extend_from_slice(utf8);
        }
    }

    /// The character of a `\u` escape whose backslash is at `at`, with the
    /// low surrogate's escape that must follow a high one.
    fn escaped_char(&mut self, at: u64) -> thrift::Result<char> {
        let unit = self.hex4()?;
        let code = match unit {
            0xd800..=0xdbff => {
                if self.next()? != b'\\' || self.next()? != b'u' {
                    return Err(invalid(format!(
                        "UTF-16 high surrogate at byte {at} is not followed by a \\u escape"
                    )));
                }
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(invalid(format!(
                        "UTF-16 high surrogate at byte {at} is followed by \\u{low:04x}, \
                         not a low surrogate"
                    )));
                }
                0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => {
                return Err(invalid(format!(
                    "UTF-16 low surrogate without a high one at byte {at}"
                )))
            }
            _ => unit,
        };
        // Surrogates are excluded above, so every code is a char.
        char::from_u32(code).ok_or_else(|| invalid(format!("bad \\u escape at byte {at}")))
    }

    fn hex4(&mut self) -> thrift::Result<u32> {
        let mut unit = 0;
        for _ in 0..4 {
            let at = self.offset();
            let c = self.next()?;
            let digit = (c as char).to_digit(16).ok_or_else(|| {
                invalid(format!(
                    "expected a hex digit at byte {at}, found {}",
                    describe(c)
                ))
            })?;
            unit = unit << 4 | digit;
        }
        Ok(unit)
    }

    /// The characters of a number, without its quotes.
    fn numeric_text(&mut self) -> thrift::Result<String> {
        let at = self.offset();
        let mut text = String::new();
        while is_numeric(self.peek()?) {
            if text.len() == MAX_NUMBER_CHARS {
                return Err(invalid(format!(
                    "number at byte {at} is longer than {MAX_NUMBER_CHARS} characters"
                )));
            }
            text.push(self.next()? as char);
        }
        if text.is_empty() {
            let c = self.peek()?;
            return Err(invalid(format!(
                "expected a number at byte {at}, found {}",
                describe(c)
            )));
        }
        Ok(text)
    }

    /// Python's TJSONProtocol writes NaN and the infinities bare, as `nan`,
    /// `inf` and `-inf` (not JSON); read them, so its doubles get through.
    /// `None`, with nothing more consumed, when the next token is not one
    /// (`negative`: a `-` was consumed before it).
    fn python_non_finite(&mut self, negative: bool) -> thrift::Result<Option<f64>> {
        let (word, value): (&[u8], f64) = match self.peek()? {
            b'n' if !negative => (b"nan", f64::NAN),
            b'i' => (b"inf", f64::INFINITY),
            _ => return Ok(None),
        };
        for &c in word {
            self.expect(c)?;
        }
        Ok(Some(if negative { -value } else { value }))
    }

    /// An integer, quoted when it is an object key.
    fn integer(&mut self) -> thrift::Result<i64> {
        self.separator()?;
        let quoted = self.context.in_key();
        if quoted {
            self.expect(b'"')?;
        }
        let at = self.offset();
        let text = self.numeric_text()?;
        let value = text
            .parse::<i64>()
            .map_err(|_| invalid(format!("expected an integer at byte {at}, found {text:?}")))?;
        if quoted {
            self.expect(b'"')?;
        }
        Ok(value)
    }

    fn integer_as<T: TryFrom<i64>>(&mut self, what: &str) -> thrift::Result<T> {
        let at = self.offset();
        let value = self.integer()?;
        T::try_from(value)
            .map_err(|_| invalid(format!("{what} {value} at byte {at} is out of range")))
    }

    /// A container's element count, checked against the message size limit
    /// for elements of at least `min_bytes` each.
    fn container_size(&mut self, min_bytes: usize) -> thrift::Result<i32> {
        let at = self.offset();
        let size = self.integer()?;
        let fits = usize::try_from(size)
            .ok()
            .and_then(|n| n.checked_mul(min_bytes))
            .is_some_and(|bytes| bytes <= self.limits.max_message_size);
        match i32::try_from(size) {
            Ok(size) if size >= 0 && fits => Ok(size),
            _ if size < 0 => Err(error(
                ProtocolErrorKind::NegativeSize,
                format!("JSON: negative container size {size} at byte {at}"),
            )),
            _ => Err(error(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "JSON: container of {size} elements at byte {at} cannot fit in {} bytes",
                    self.limits.max_message_size
                ),
            )),
        }
    }

    fn type_tag(&mut self) -> thrift::Result<TType> {
        let tag = self.raw_string(false, 8)?;
        type_from_name(&tag)
    }

    fn container_begin(&mut self) -> thrift::Result<(TType, i32)> {
        self.enter()?;
        self.open(b'[', Context::list())?;
        let element = self.type_tag()?;
        let size = self.container_size(min_element_bytes(element))?;
        Ok((element, size))
    }

    /// The base64 text of a binary value may be 4/3 of its size, plus padding.
    fn binary_text_limit(&self) -> usize {
        self.limits
            .max_string_size
            .div_ceil(3)
            .saturating_mul(4)
            .saturating_add(2)
    }
}

impl<R: Read> TInputProtocol for TJsonInputProtocol<R> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        if self.message_open {
            self.read_message_end()?;
        }
        self.context = Context::Top;
        self.outer.clear();
        self.depth = 0;
        self.open(b'[', Context::list())?;
        let at = self.offset();
        let version = self.integer()?;
        if version != 1 {
            return Err(error(
                ProtocolErrorKind::BadVersion,
                format!("JSON: message version {version} at byte {at}, expected 1"),
            ));
        }
        let name = self.raw_string(false, self.limits.max_string_size)?;
        let name = String::from_utf8(name)
            .map_err(|_| invalid("message name is not valid UTF-8".to_owned()))?;
        let kind: u8 = self.integer_as("message type")?;
        let message_type = TMessageType::try_from(kind)?;
        let sequence_number = self.integer_as("sequence id")?;
        self.message_open = true;
        Ok(TMessageIdentifier::new(name, message_type, sequence_number))
    }

    fn read_message_end(&mut self) -> thrift::Result<()> {
        self.close(b']')?;
        self.message_open = false;
        Ok(())
    }

    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        self.enter()?;
        self.open(b'{', Context::object())?;
        self.field_open.push(false);
        Ok(None)
    }

    fn read_struct_end(&mut self) -> thrift::Result<()> {
        self.close_open_field()?;
        self.close(b'}')?;
        self.field_open.pop();
        self.leave();
        Ok(())
    }

    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        self.close_open_field()?;
        if self.peek()? == b'}' {
            return Ok(
                TFieldIdentifier::new::<Option<String>, String, Option<i16>>(
                    None,
                    TType::Stop,
                    None,
                ),
            );
        }
        let id: i16 = self.integer_as("field id")?;
        self.open(b'{', Context::object())?;
        if let Some(open) = self.field_open.last_mut() {
            *open = true;
        }
        let field_type = self.type_tag()?;
        Ok(TFieldIdentifier::new::<Option<String>, String, i16>(
            None, field_type, id,
        ))
    }

    fn read_field_end(&mut self) -> thrift::Result<()> {
        if let Some(open) = self.field_open.last_mut() {
            *open = false;
        }
        self.close(b'}')
    }

    fn read_bool(&mut self) -> thrift::Result<bool> {
        // C++ writes 0 and 1; Go and Python read any non-zero as true.
        Ok(self.integer()? != 0)
    }

    fn read_bytes(&mut self) -> thrift::Result<Vec<u8>> {
        let at = self.offset();
        let text = self.raw_string(false, self.binary_text_limit())?;
        let bytes = base64::decode(&text).map_err(|e| invalid(format!("{e} at byte {at}")))?;
        if bytes.len() > self.limits.max_string_size {
            return Err(error(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "JSON: binary at byte {at} exceeds {} bytes",
                    self.limits.max_string_size
                ),
            ));
        }
        Ok(bytes)
    }

    /// As the trait's own, which does not call `read_field_end` (a no-op in
    /// the binary and compact protocols, the closing `}` here).
    fn skip_till_depth(&mut self, field_type: TType, depth: i8) -> thrift::Result<()> {
        if depth <= 0 {
            return Err(error(
                ProtocolErrorKind::DepthLimit,
                format!(
                    "JSON: cannot skip past {field_type:?} at byte {}",
                    self.offset()
                ),
            ));
        }
        match field_type {
            TType::Struct => {
                self.read_struct_begin()?;
                loop {
                    let field = self.read_field_begin()?;
                    if field.field_type == TType::Stop {
                        break;
                    }
                    self.skip_till_depth(field.field_type, depth - 1)?;
                    self.read_field_end()?;
                }
                self.read_struct_end()
            }
            TType::List | TType::Set => {
                let (element, size) = self.container_begin()?;
                for _ in 0..size {
                    self.skip_till_depth(element, depth - 1)?;
                }
                self.read_list_end()
            }
            TType::Map => {
                let map = self.read_map_begin()?;
                // read_map_begin always knows both types.
                let key = map.key_type.unwrap_or(TType::Stop);
                let value = map.value_type.unwrap_or(TType::Stop);
                for _ in 0..map.size {
                    self.skip_till_depth(key, depth - 1)?;
                    self.skip_till_depth(value, depth - 1)?;
                }
                self.read_map_end()
            }
            TType::Bool => self.read_bool().map(drop),
            TType::I08 => self.read_i8().map(drop),
            TType::I16 => self.read_i16().map(drop),
            TType::I32 => self.read_i32().map(drop),
            TType::I64 => self.read_i64().map(drop),
            TType::Double => self.read_double().map(drop),
            TType::String => self.skip_binary(),
            TType::Uuid => self.read_uuid().map(drop),
            other => Err(error(
                ProtocolErrorKind::NotImplemented,
                format!("JSON: cannot skip type {other:?}"),
            )),
        }
    }

    fn skip_binary(&mut self) -> thrift::Result<()> {
        // A skipped "str" may be a string or base64: do not decode it.
        self.raw_string(false, self.binary_text_limit()).map(drop)
    }

    fn read_i8(&mut self) -> thrift::Result<i8> {
        self.integer_as("i8")
    }

    fn read_i16(&mut self) -> thrift::Result<i16> {
        self.integer_as("i16")
    }

    fn read_i32(&mut self) -> thrift::Result<i32> {
        self.integer_as("i32")
    }

    fn read_i64(&mut self) -> thrift::Result<i64> {
        self.integer()
    }

    fn read_double(&mut self) -> thrift::Result<f64> {
        self.separator()?;
        let at = self.offset();
        let text = if self.peek()? == b'"' {
            let text = self.raw_string(true, MAX_NUMBER_CHARS)?;
            match &text[..] {
                // And Python's spellings, which it writes for map keys.
                b"NaN" | b"nan" => return Ok(f64::NAN),
                b"Infinity" | b"inf" => return Ok(f64::INFINITY),
                b"-Infinity" | b"-inf" => return Ok(f64::NEG_INFINITY),
                _ if !self.context.in_key() => {
                    return Err(invalid(format!("number at byte {at} unexpectedly quoted")))
                }
                _ if text.iter().all(|&c| is_numeric(c)) => {
                    String::from_utf8(text).unwrap_or_default()
                }
                _ => {
                    return Err(invalid(format!(
                        "expected a number at byte {at}, found {:?}",
                        String::from_utf8_lossy(&text)
                    )))
                }
            }
        } else {
            if self.context.in_key() {
                self.expect(b'"')?;
            }
            let negative = self.peek()? == b'-';
            if negative {
                self.next()?;
            }
            if let Some(special) = self.python_non_finite(negative)? {
                return Ok(special);
            }
            let digits = self.numeric_text()?;
            if negative {
                format!("-{digits}")
            } else {
                digits
            }
        };
        text.parse::<f64>()
            .map_err(|_| invalid(format!("expected a double at byte {at}, found {text:?}")))
    }

    fn read_uuid(&mut self) -> thrift::Result<uuid::Uuid> {
        let at = self.offset();
        let text = self.raw_string(false, 64)?;
        std::str::from_utf8(&text)
            .ok()
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "expected a UUID at byte {at}, found {:?}",
                    String::from_utf8_lossy(&text)
                ))
            })
    }

    fn read_string(&mut self) -> thrift::Result<String> {
        let at = self.offset();
        let bytes = self.raw_string(false, self.limits.max_string_size)?;
        String::from_utf8(bytes)
            .map_err(|_| invalid(format!("string at byte {at} is not valid UTF-8")))
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let (element, size) = self.container_begin()?;
        Ok(TListIdentifier::new(element, size))
    }

    fn read_list_end(&mut self) -> thrift::Result<()> {
        self.close(b']')?;
        self.leave();
        Ok(())
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let (element, size) = self.container_begin()?;
        Ok(TSetIdentifier::new(element, size))
    }

    fn read_set_end(&mut self) -> thrift::Result<()> {
        self.read_list_end()
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        self.enter()?;
        self.open(b'[', Context::list())?;
        let key = self.type_tag()?;
        let value = self.type_tag()?;
        let size = self.container_size(min_element_bytes(key) + min_element_bytes(value))?;
        self.open(b'{', Context::object())?;
        Ok(TMapIdentifier::new(key, value, size))
    }

    fn read_map_end(&mut self) -> thrift::Result<()> {
        self.close(b'}')?;
        self.read_list_end()
    }

    fn read_byte(&mut self) -> thrift::Result<u8> {
        self.read_i8().map(|b| b as u8)
    }
}
