//! [`debug_view`] and [`DebugView`]: one message's bytes, decoded without
//! its IDL, as TDebugProtocol text.

use std::io::Cursor;

use thrift::protocol::{TInputProtocol, TOutputProtocol, TStructIdentifier, TType};
use thrift_frame_wire::{Protocol, WireConfig};

use crate::error::DebugError;
use crate::format::StringLimit;
use crate::output::DebugOutputProtocol;
use crate::text::TextBuffer;

/// Shows the one message at the start of `bytes`, as read with `wire`'s
/// protocol, transport and limits, in TDebugProtocol's format, strings cut
/// as C++ cuts them (over 256 bytes) and the text bounded by
/// [`DebugView::DEFAULT_MAX_TEXT`]. See [`DebugView`].
pub fn debug_view(wire: &WireConfig, bytes: &[u8]) -> Result<String, DebugError> {
    DebugView::new(wire.clone()).view(bytes)
}

/// Decodes messages without their IDL and shows them as
/// [`DebugOutputProtocol`] text.
///
/// The walk is generic: the message header, then the body as a struct,
/// each field or element by the type the bytes give it, structs until their
/// stop field, containers for the size their header gives. The wire names
/// no struct and, except for the message, no field, so those names are
/// empty (`01:  (i32) = 5,`). Bytes after the message are ignored.
///
/// Strings: in binary and compact, strings and binaries are the same bytes
/// and are shown as bytes. In JSON a binary is base64 text, which cannot be
/// told from a string, so every string field is shown as the text on the
/// wire (a binary as its base64).
///
/// Bad bytes give an error, never a panic: the wire limits apply (string,
/// container and message sizes, as the protocols check them), nesting is
/// bounded by `Limits::max_recursion_depth` (the walk keeps its own stack,
/// not the thread's), nothing is allocated for a container's declared size,
/// and the text is bounded by [`with_max_text`](Self::with_max_text).
#[derive(Debug, Clone)]
pub struct DebugView {
    wire: WireConfig,
    strings: StringLimit,
    max_text: usize,
}

impl DebugView {
    /// The default bound on one message's text: 64 MiB.
    pub const DEFAULT_MAX_TEXT: usize = 64 * 1024 * 1024;

    /// Reads with `wire`; C++'s string limit; text bounded by
    /// [`DEFAULT_MAX_TEXT`](Self::DEFAULT_MAX_TEXT).
    pub fn new(wire: WireConfig) -> Self {
        DebugView {
            wire,
            strings: StringLimit::default(),
            max_text: Self::DEFAULT_MAX_TEXT,
        }
    }

    /// Cuts strings and binaries longer than `limit` bytes.
    pub fn with_string_limit(mut self, limit: usize) -> Self {
        self.strings.limit = Some(limit);
        self
    }

    /// Shows every string and binary whole.
    pub fn without_string_limit(mut self) -> Self {
        self.strings.limit = None;
        self
    }

    /// Keeps `prefix` bytes of a string that is cut.
    pub fn with_string_prefix(mut self, prefix: usize) -> Self {
        self.strings.prefix = prefix;
        self
    }

    /// Fails with [`DebugError::TextLimit`] rather than produce more than
    /// `max` bytes of text.
    pub fn with_max_text(mut self, max: usize) -> Self {
        self.max_text = max;
        self
    }

    /// Shows the message at the start of `bytes`.
    pub fn view(&self, bytes: &[u8]) -> Result<String, DebugError> {
        self.wire.limits.validate().map_err(DebugError::Limits)?;
        let mut input = self.wire.input_protocol(Cursor::new(bytes.to_vec()));
        let out =
            DebugOutputProtocol::new(TextBuffer::new(self.max_text)).with_strings(self.strings);
        let mut walk = Walk {
            input: &mut *input,
            out,
            stack: Vec::new(),
            max_depth: self.wire.limits.max_recursion_depth,
            text_strings: self.wire.protocol == Protocol::Json,
        };
        walk.message()?;
        Ok(walk.out.into_inner().into_text())
    }
}

/// A struct or container being read.
#[derive(Debug, Clone, Copy)]
enum Open {
    Struct,
    List {
        element: TType,
        left: i32,
    },
    Set {
        element: TType,
        left: i32,
    },
    Map {
        key: TType,
        value: TType,
        left: i32,
        at_key: bool,
    },
}

/// What comes next inside the innermost open struct or container.
enum Step {
    Field,
    Value(TType),
    Close,
}

struct Walk<'a> {
    input: &'a mut dyn TInputProtocol,
    out: DebugOutputProtocol<TextBuffer>,
    stack: Vec<Open>,
    max_depth: usize,
    text_strings: bool,
}

impl Walk<'_> {
    fn partial(&self) -> String {
        self.out.get_ref().text()
    }

    fn read<T>(&self, result: thrift::Result<T>) -> Result<T, DebugError> {
        result.map_err(|source| DebugError::Decode {
            source,
            partial: self.partial(),
        })
    }

    fn wrote(&self, result: thrift::Result<()>) -> Result<(), DebugError> {
        result.map_err(|source| {
            let text = self.out.get_ref();
            if text.is_full() {
                DebugError::TextLimit { limit: text.max() }
            } else {
                // Only a walk that closes what it did not open gets here.
                DebugError::Decode {
                    source,
                    partial: self.partial(),
                }
            }
        })
    }

    fn message(&mut self) -> Result<(), DebugError> {
        let r = self.input.read_message_begin();
        let ident = self.read(r)?;
        let r = self.out.write_message_begin(&ident);
        self.wrote(r)?;
        self.start(TType::Struct)?;
        while let Some(step) = self.step() {
            match step {
                Step::Field => self.field()?,
                Step::Value(ttype) => self.start(ttype)?,
                Step::Close => self.close()?,
            }
        }
        let r = self.input.read_message_end();
        self.read(r)?;
        let r = self.out.write_message_end();
        self.wrote(r)
    }

    /// The next step in the innermost open struct or container, counting
    /// off container elements; `None` once the body is closed.
    fn step(&mut self) -> Option<Step> {
        let step = match self.stack.last_mut()? {
            Open::Struct => Step::Field,
            Open::List { element, left } | Open::Set { element, left } => {
                if *left > 0 {
                    *left -= 1;
                    Step::Value(*element)
                } else {
                    Step::Close
                }
            }
            Open::Map {
                key,
                value,
                left,
                at_key,
            } => {
                if !*at_key {
                    *at_key = true;
                    Step::Value(*value)
                } else if *left > 0 {
                    *left -= 1;
                    *at_key = false;
                    Step::Value(*key)
                } else {
                    Step::Close
                }
            }
        };
        Some(step)
    }

    /// A field header in the innermost struct, then its value, or the stop
    /// field and the struct's end.
    fn field(&mut self) -> Result<(), DebugError> {
        let r = self.input.read_field_begin();
        let field = self.read(r)?;
        if field.field_type == TType::Stop {
            let r = self.out.write_field_stop();
            self.wrote(r)?;
            return self.close();
        }
        let r = self.out.write_field_begin(&field);
        self.wrote(r)?;
        self.start(field.field_type)
    }

    /// Reads and shows a value of type `ttype`: all of it for a single
    /// value, the header (and an open frame) for a struct or container.
    fn start(&mut self, ttype: TType) -> Result<(), DebugError> {
        let r = match ttype {
            TType::Bool => {
                let r = self.input.read_bool();
                let v = self.read(r)?;
                self.out.write_bool(v)
            }
            TType::I08 => {
                let r = self.input.read_i8();
                let v = self.read(r)?;
                self.out.write_i8(v)
            }
            TType::I16 => {
                let r = self.input.read_i16();
                let v = self.read(r)?;
                self.out.write_i16(v)
            }
            TType::I32 => {
                let r = self.input.read_i32();
                let v = self.read(r)?;
                self.out.write_i32(v)
            }
            TType::I64 => {
                let r = self.input.read_i64();
                let v = self.read(r)?;
                self.out.write_i64(v)
            }
            TType::Double => {
                let r = self.input.read_double();
                let v = self.read(r)?;
                self.out.write_double(v)
            }
            TType::Uuid => {
                let r = self.input.read_uuid();
                let v = self.read(r)?;
                self.out.write_uuid(&v)
            }
            TType::String if self.text_strings => {
                let r = self.input.read_string();
                let v = self.read(r)?;
                self.out.write_string(&v)
            }
            TType::String => {
                let r = self.input.read_bytes();
                let v = self.read(r)?;
                self.out.write_bytes(&v)
            }
            TType::Struct | TType::List | TType::Set | TType::Map => return self.open(ttype),
            TType::Stop | TType::Void | TType::Utf7 => {
                return Err(DebugError::UnexpectedType {
                    ttype,
                    partial: self.partial(),
                })
            }
        };
        self.wrote(r)?;
        self.value_done()
    }

    fn open(&mut self, ttype: TType) -> Result<(), DebugError> {
        if self.stack.len() >= self.max_depth {
            return Err(DebugError::DepthLimit {
                limit: self.max_depth,
                partial: self.partial(),
            });
        }
        let (r, open) = match ttype {
            TType::List => {
                let r = self.input.read_list_begin();
                let list = self.read(r)?;
                let open = Open::List {
                    element: list.element_type,
                    left: list.size,
                };
                (self.out.write_list_begin(&list), open)
            }
            TType::Set => {
                let r = self.input.read_set_begin();
                let set = self.read(r)?;
                let open = Open::Set {
                    element: set.element_type,
                    left: set.size,
                };
                (self.out.write_set_begin(&set), open)
            }
            TType::Map => {
                let r = self.input.read_map_begin();
                let map = self.read(r)?;
                // Only an empty (compact) map comes without types.
                let open = Open::Map {
                    key: map.key_type.unwrap_or(TType::Stop),
                    value: map.value_type.unwrap_or(TType::Stop),
                    left: map.size,
                    at_key: true,
                };
                (self.out.write_map_begin(&map), open)
            }
            _ => {
                let r = self.input.read_struct_begin();
                let ident = self.read(r)?.unwrap_or_else(|| TStructIdentifier::new(""));
                (self.out.write_struct_begin(&ident), Open::Struct)
            }
        };
        self.wrote(r)?;
        self.stack.push(open);
        Ok(())
    }

    /// Ends the innermost struct or container.
    fn close(&mut self) -> Result<(), DebugError> {
        let Some(open) = self.stack.pop() else {
            return Ok(());
        };
        let r = match open {
            Open::Struct => self.input.read_struct_end(),
            Open::List { .. } => self.input.read_list_end(),
            Open::Set { .. } => self.input.read_set_end(),
            Open::Map { .. } => self.input.read_map_end(),
        };
        self.read(r)?;
        let r = match open {
            Open::Struct => self.out.write_struct_end(),
            Open::List { .. } => self.out.write_list_end(),
            Open::Set { .. } => self.out.write_set_end(),
            Open::Map { .. } => self.out.write_map_end(),
        };
        self.wrote(r)?;
        self.value_done()
    }

    /// After a whole value: a field's value ends the field.
    fn value_done(&mut self) -> Result<(), DebugError> {
        if let Some(Open::Struct) = self.stack.last() {
            let r = self.input.read_field_end();
            self.read(r)?;
            let r = self.out.write_field_end();
            self.wrote(r)?;
        }
        Ok(())
    }
}
