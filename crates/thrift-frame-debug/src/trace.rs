//! [`TracingInputProtocol`] and [`TracingOutputProtocol`]: protocols that
//! log every message they carry, as TDebugProtocol text, at trace level.

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TOutputProtocol, TSetIdentifier, TStructIdentifier, TType,
};

use crate::format::{type_name, StringLimit};
use crate::output::DebugOutputProtocol;
use crate::text::TextBuffer;

/// The `log` target of the traced messages.
pub const TRACE_TARGET: &str = "thrift_frame::wire";

/// A connection's protocols, each wrapped to trace what it carries: what
/// is read after `"{label} <-"`, what is written after `"{label} ->"`. The
/// one place the server and the client stack tracing.
pub fn traced<'a>(
    input: Box<dyn TInputProtocol + Send + 'a>,
    output: Box<dyn TOutputProtocol + Send + 'a>,
    label: &str,
) -> (
    Box<dyn TInputProtocol + Send + 'a>,
    Box<dyn TOutputProtocol + Send + 'a>,
) {
    (
        Box::new(TracingInputProtocol::new(input, format!("{label} <-"))),
        Box::new(TracingOutputProtocol::new(output, format!("{label} ->"))),
    )
}

/// The default bound on one traced message's text: 1 MiB. Past it the
/// message is logged cut, with a note saying so.
pub const DEFAULT_MAX_TRACE_TEXT: usize = 1024 * 1024;

type Text = DebugOutputProtocol<TextBuffer>;

/// The text of the message being traced, and whether there is one.
#[derive(Debug)]
struct Mirror {
    label: String,
    out: Text,
    /// Mirroring a message: trace was enabled at its begin.
    active: bool,
    /// Why the text stopped before the message did.
    stopped: Option<String>,
}

impl Mirror {
    fn new(label: String) -> Self {
        Mirror {
            label,
            out: DebugOutputProtocol::new(TextBuffer::new(DEFAULT_MAX_TRACE_TEXT)),
            active: false,
            stopped: None,
        }
    }

    /// A message begins: mirror it if trace is enabled for the target.
    fn begin(&mut self, ident: &TMessageIdentifier) {
        if self.active {
            self.emit(Some("message not finished"));
        }
        if !log::log_enabled!(target: TRACE_TARGET, log::Level::Trace) {
            return;
        }
        self.active = true;
        self.record(|p| p.write_message_begin(ident));
    }

    /// Mirrors one call, unless the text has stopped.
    fn record(&mut self, show: impl FnOnce(&mut Text) -> thrift::Result<()>) {
        if self.active && self.stopped.is_none() {
            if let Err(e) = show(&mut self.out) {
                let max = self.out.get_ref().max();
                self.stopped = Some(if self.out.get_ref().is_full() {
                    format!("cut at {max} bytes")
                } else {
                    format!("not shown past here: {e}")
                });
            }
        }
    }

    /// After a forwarded call: its value mirrored, or its error logged with
    /// the text so far. One branch when not tracing.
    #[inline]
    fn after<T>(
        &mut self,
        result: thrift::Result<T>,
        show: impl FnOnce(&mut Text, &T) -> thrift::Result<()>,
    ) -> thrift::Result<T> {
        if self.active {
            match &result {
                Ok(value) => self.record(|p| show(p, value)),
                Err(e) => self.emit(Some(&format!("error: {e}"))),
            }
        }
        result
    }

    /// The message ended: log it.
    fn end(&mut self, result: &thrift::Result<()>) {
        if self.active {
            match result {
                Ok(()) => {
                    self.record(|p| p.write_message_end());
                    self.emit(None);
                }
                Err(e) => self.emit(Some(&format!("error: {e}"))),
            }
        }
    }

    /// Logs the text, with `note` and why it stopped, and starts afresh.
    fn emit(&mut self, note: Option<&str>) {
        let text = self.out.get_ref().text();
        let text = text.trim_end_matches('\n');
        let mut notes = Vec::new();
        if let Some(stopped) = &self.stopped {
            notes.push(stopped.as_str());
        }
        notes.extend(note);
        if notes.is_empty() {
            log::trace!(target: TRACE_TARGET, "{} {}", self.label, text);
        } else {
            let notes = notes.join("; ");
            log::trace!(target: TRACE_TARGET, "{} {} [{}]", self.label, text, notes);
        }
        self.active = false;
        self.stopped = None;
        self.out.get_mut().clear();
        self.out.reset();
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        if self.active {
            self.emit(Some("message not finished"));
        }
    }
}

macro_rules! settings {
    () => {
        /// Cuts traced strings and binaries longer than `limit` bytes
        /// (default 256, as C++).
        pub fn with_string_limit(mut self, limit: usize) -> Self {
            let strings = StringLimit {
                limit: Some(limit),
                ..self.mirror.out.strings()
            };
            self.mirror.out.set_strings(strings);
            self
        }

        /// Traces every string and binary whole.
        pub fn without_string_limit(mut self) -> Self {
            let strings = StringLimit {
                limit: None,
                ..self.mirror.out.strings()
            };
            self.mirror.out.set_strings(strings);
            self
        }

        /// Keeps `prefix` bytes of a string that is cut (default 16).
        pub fn with_string_prefix(mut self, prefix: usize) -> Self {
            let strings = StringLimit {
                prefix,
                ..self.mirror.out.strings()
            };
            self.mirror.out.set_strings(strings);
            self
        }

        /// Logs at most `max` bytes of one message's text (default
        /// [`DEFAULT_MAX_TRACE_TEXT`]), then a note that it was cut.
        pub fn with_max_text(mut self, max: usize) -> Self {
            self.mirror.out.get_mut().set_max(max);
            self
        }

        /// The label that begins each logged message.
        pub fn label(&self) -> &str {
            &self.mirror.label
        }

        /// Whether a message is being mirrored now: trace was enabled for
        /// [`TRACE_TARGET`] at its begin, and it has not ended.
        pub fn is_tracing(&self) -> bool {
            self.mirror.active
        }

        /// The wrapped protocol.
        pub fn get_ref(&self) -> &P {
            &self.inner
        }

        /// The wrapped protocol, mutably; calls made on it directly are not
        /// traced.
        pub fn get_mut(&mut self) -> &mut P {
            &mut self.inner
        }

        /// The wrapped protocol back; a message being traced is logged as
        /// not finished.
        pub fn into_inner(self) -> P {
            let Self { inner, mirror, .. } = self;
            drop(mirror);
            inner
        }
    };
}

/// A [`TInputProtocol`] that forwards every call to `P` unchanged and, while
/// trace level is enabled for [`TRACE_TARGET`], logs each message read, once
/// read to its end, as [`DebugOutputProtocol`] text after a label:
///
/// ```text
/// TRACE thrift_frame::wire: conn#3 127.0.0.1:5000 <- (call) ping( {
///     01:  (string) = "hello",
///   })
/// ```
///
/// Whether to trace is decided at each message's begin, with
/// `log::log_enabled!`; a message begun without trace costs one branch per
/// call. Struct and field names are empty, as the wire does not carry them.
/// A read that fails logs the text so far with the error; values skipped
/// with `skip` are shown as `<skipped type>`, since the wrapped protocol
/// skips them itself. Works over a boxed protocol
/// (`Box<dyn TInputProtocol + Send>`), and is `Send` when `P` is.
#[derive(Debug)]
pub struct TracingInputProtocol<P> {
    inner: P,
    mirror: Mirror,
    /// Structs open in the current message. Generated processors never
    /// call `read_message_end`, so a message is logged when its top-level
    /// struct ends, before the reply it causes.
    depth: usize,
}

impl<P: TInputProtocol> TracingInputProtocol<P> {
    /// Traces what `inner` reads, each message after `label` (for example
    /// `"conn#3 127.0.0.1:5000 <-"`).
    pub fn new(inner: P, label: impl Into<String>) -> Self {
        TracingInputProtocol {
            inner,
            mirror: Mirror::new(label.into()),
            depth: 0,
        }
    }

    settings!();
}

/// A [`TOutputProtocol`] that forwards every call to `P` unchanged and, while
/// trace level is enabled for [`TRACE_TARGET`], logs each message written,
/// at its end, as [`DebugOutputProtocol`] text after a label (for example
/// `"conn#3 127.0.0.1:5000 ->"`).
///
/// As [`TracingInputProtocol`]: decided at each message's begin, one branch
/// per call otherwise; a failed write logs the text so far with the error;
/// works over `Box<dyn TOutputProtocol + Send>`, `Send` when `P` is. Struct
/// and field names are the writer's (generated code gives them).
#[derive(Debug)]
pub struct TracingOutputProtocol<P> {
    inner: P,
    mirror: Mirror,
}

impl<P: TOutputProtocol> TracingOutputProtocol<P> {
    /// Traces what is written to `inner`, each message after `label`.
    pub fn new(inner: P, label: impl Into<String>) -> Self {
        TracingOutputProtocol {
            inner,
            mirror: Mirror::new(label.into()),
        }
    }

    settings!();
}

fn skipped(p: &mut Text, ttype: TType) -> thrift::Result<()> {
    p.write_raw_item(&format!("<skipped {}>", type_name(ttype)))
}

impl<P: TInputProtocol> TInputProtocol for TracingInputProtocol<P> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        self.depth = 0;
        let r = self.inner.read_message_begin();
        match &r {
            Ok(ident) => self.mirror.begin(ident),
            Err(e) if self.mirror.active => self.mirror.emit(Some(&format!("error: {e}"))),
            Err(_) => {}
        }
        r
    }

    fn read_message_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_message_end();
        self.mirror.end(&r);
        r
    }

    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        let r = self.inner.read_struct_begin();
        self.depth += 1;
        self.mirror.after(r, |p, ident| {
            let name = ident.as_ref().map_or("", |i| i.name.as_str());
            p.write_struct_begin(&TStructIdentifier::new(name))
        })
    }

    fn read_struct_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_struct_end();
        let r = self.mirror.after(r, |p, _| p.write_struct_end());
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 && r.is_ok() {
            self.mirror.end(&Ok(()));
        }
        r
    }

    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        let r = self.inner.read_field_begin();
        self.mirror.after(r, |p, field| {
            if field.field_type == TType::Stop {
                p.write_field_stop()
            } else {
                p.write_field_begin(field)
            }
        })
    }

    fn read_field_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_field_end();
        self.mirror.after(r, |p, _| p.write_field_end())
    }

    fn read_bool(&mut self) -> thrift::Result<bool> {
        let r = self.inner.read_bool();
        self.mirror.after(r, |p, v| p.write_bool(*v))
    }

    fn read_bytes(&mut self) -> thrift::Result<Vec<u8>> {
        let r = self.inner.read_bytes();
        self.mirror.after(r, |p, v| p.write_bytes(v))
    }

    fn read_i8(&mut self) -> thrift::Result<i8> {
        let r = self.inner.read_i8();
        self.mirror.after(r, |p, v| p.write_i8(*v))
    }

    fn read_i16(&mut self) -> thrift::Result<i16> {
        let r = self.inner.read_i16();
        self.mirror.after(r, |p, v| p.write_i16(*v))
    }

    fn read_i32(&mut self) -> thrift::Result<i32> {
        let r = self.inner.read_i32();
        self.mirror.after(r, |p, v| p.write_i32(*v))
    }

    fn read_i64(&mut self) -> thrift::Result<i64> {
        let r = self.inner.read_i64();
        self.mirror.after(r, |p, v| p.write_i64(*v))
    }

    fn read_double(&mut self) -> thrift::Result<f64> {
        let r = self.inner.read_double();
        self.mirror.after(r, |p, v| p.write_double(*v))
    }

    fn read_uuid(&mut self) -> thrift::Result<uuid::Uuid> {
        let r = self.inner.read_uuid();
        self.mirror.after(r, |p, v| p.write_uuid(v))
    }

    fn read_string(&mut self) -> thrift::Result<String> {
        let r = self.inner.read_string();
        self.mirror.after(r, |p, v| p.write_string(v))
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let r = self.inner.read_list_begin();
        self.mirror.after(r, |p, v| p.write_list_begin(v))
    }

    fn read_list_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_list_end();
        self.mirror.after(r, |p, _| p.write_list_end())
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let r = self.inner.read_set_begin();
        self.mirror.after(r, |p, v| p.write_set_begin(v))
    }

    fn read_set_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_set_end();
        self.mirror.after(r, |p, _| p.write_set_end())
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        let r = self.inner.read_map_begin();
        self.mirror.after(r, |p, v| p.write_map_begin(v))
    }

    fn read_map_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.read_map_end();
        self.mirror.after(r, |p, _| p.write_map_end())
    }

    fn skip(&mut self, field_type: TType) -> thrift::Result<()> {
        let r = self.inner.skip(field_type);
        self.mirror.after(r, |p, _| skipped(p, field_type))
    }

    fn skip_till_depth(&mut self, field_type: TType, depth: i8) -> thrift::Result<()> {
        let r = self.inner.skip_till_depth(field_type, depth);
        self.mirror.after(r, |p, _| skipped(p, field_type))
    }

    fn skip_binary(&mut self) -> thrift::Result<()> {
        let r = self.inner.skip_binary();
        self.mirror.after(r, |p, _| skipped(p, TType::String))
    }

    fn read_byte(&mut self) -> thrift::Result<u8> {
        let r = self.inner.read_byte();
        self.mirror.after(r, |p, v| p.write_byte(*v))
    }

    fn min_serialized_size(&self, field_type: TType) -> usize {
        self.inner.min_serialized_size(field_type)
    }
}

impl<P: TOutputProtocol> TOutputProtocol for TracingOutputProtocol<P> {
    fn write_message_begin(&mut self, identifier: &TMessageIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_message_begin(identifier);
        match &r {
            Ok(()) => self.mirror.begin(identifier),
            Err(e) if self.mirror.active => self.mirror.emit(Some(&format!("error: {e}"))),
            Err(_) => {}
        }
        r
    }

    fn write_message_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_message_end();
        self.mirror.end(&r);
        r
    }

    fn write_struct_begin(&mut self, identifier: &TStructIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_struct_begin(identifier);
        self.mirror
            .after(r, |p, _| p.write_struct_begin(identifier))
    }

    fn write_struct_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_struct_end();
        self.mirror.after(r, |p, _| p.write_struct_end())
    }

    fn write_field_begin(&mut self, identifier: &TFieldIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_field_begin(identifier);
        self.mirror.after(r, |p, _| p.write_field_begin(identifier))
    }

    fn write_field_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_field_end();
        self.mirror.after(r, |p, _| p.write_field_end())
    }

    fn write_field_stop(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_field_stop();
        self.mirror.after(r, |p, _| p.write_field_stop())
    }

    fn write_bool(&mut self, b: bool) -> thrift::Result<()> {
        let r = self.inner.write_bool(b);
        self.mirror.after(r, |p, _| p.write_bool(b))
    }

    fn write_bytes(&mut self, b: &[u8]) -> thrift::Result<()> {
        let r = self.inner.write_bytes(b);
        self.mirror.after(r, |p, _| p.write_bytes(b))
    }

    fn write_i8(&mut self, i: i8) -> thrift::Result<()> {
        let r = self.inner.write_i8(i);
        self.mirror.after(r, |p, _| p.write_i8(i))
    }

    fn write_i16(&mut self, i: i16) -> thrift::Result<()> {
        let r = self.inner.write_i16(i);
        self.mirror.after(r, |p, _| p.write_i16(i))
    }

    fn write_i32(&mut self, i: i32) -> thrift::Result<()> {
        let r = self.inner.write_i32(i);
        self.mirror.after(r, |p, _| p.write_i32(i))
    }

    fn write_i64(&mut self, i: i64) -> thrift::Result<()> {
        let r = self.inner.write_i64(i);
        self.mirror.after(r, |p, _| p.write_i64(i))
    }

    fn write_double(&mut self, d: f64) -> thrift::Result<()> {
        let r = self.inner.write_double(d);
        self.mirror.after(r, |p, _| p.write_double(d))
    }

    fn write_uuid(&mut self, uuid: &uuid::Uuid) -> thrift::Result<()> {
        let r = self.inner.write_uuid(uuid);
        self.mirror.after(r, |p, _| p.write_uuid(uuid))
    }

    fn write_string(&mut self, s: &str) -> thrift::Result<()> {
        let r = self.inner.write_string(s);
        self.mirror.after(r, |p, _| p.write_string(s))
    }

    fn write_list_begin(&mut self, identifier: &TListIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_list_begin(identifier);
        self.mirror.after(r, |p, _| p.write_list_begin(identifier))
    }

    fn write_list_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_list_end();
        self.mirror.after(r, |p, _| p.write_list_end())
    }

    fn write_set_begin(&mut self, identifier: &TSetIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_set_begin(identifier);
        self.mirror.after(r, |p, _| p.write_set_begin(identifier))
    }

    fn write_set_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_set_end();
        self.mirror.after(r, |p, _| p.write_set_end())
    }

    fn write_map_begin(&mut self, identifier: &TMapIdentifier) -> thrift::Result<()> {
        let r = self.inner.write_map_begin(identifier);
        self.mirror.after(r, |p, _| p.write_map_begin(identifier))
    }

    fn write_map_end(&mut self) -> thrift::Result<()> {
        let r = self.inner.write_map_end();
        self.mirror.after(r, |p, _| p.write_map_end())
    }

    fn flush(&mut self) -> thrift::Result<()> {
        let r = self.inner.flush();
        self.mirror.after(r, |_, _| Ok(()))
    }

    fn write_byte(&mut self, b: u8) -> thrift::Result<()> {
        let r = self.inner.write_byte(b);
        self.mirror.after(r, |p, _| p.write_byte(b))
    }
}
