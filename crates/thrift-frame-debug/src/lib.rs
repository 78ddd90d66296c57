#![warn(missing_docs)]
//! A human-readable view of Thrift messages, in the format C++
//! TDebugProtocol prints.
//!
//! - [`DebugOutputProtocol`] is a `TOutputProtocol` whose output is the text
//!   C++'s `apache::thrift::protocol::TDebugProtocol` writes for the same
//!   calls, byte for byte (checked against libthrift 0.17's own output, in
//!   `tests/vectors/`), long strings cut as C++ cuts them
//!   ([`StringLimit`]: over 256 bytes, keeping 16).
//! - [`debug_view`] and [`DebugView`] decode one message from raw bytes in
//!   any protocol and transport of [`thrift_frame_wire::WireConfig`], without
//!   the IDL, within the wire limits: bad bytes give a [`DebugError`].
//! - [`TracingInputProtocol`] and [`TracingOutputProtocol`] wrap a connection's
//!   protocols and log each message they carry at trace level, target
//!   [`TRACE_TARGET`] (`thrift_frame::wire`), after a label; nothing is
//!   mirrored unless that level is enabled.
//! - The `thrift-frame-decode` command shows a message from a file or stdin.
//!
//! # Example
//!
//! A call encoded with the thrift crate's binary protocol, then shown:
//!
//! ```
//! use thrift::protocol::{
//!     TBinaryOutputProtocol, TFieldIdentifier, TMessageIdentifier, TMessageType,
//!     TOutputProtocol, TStructIdentifier, TType,
//! };
//! use thrift_frame_debug::debug_view;
//! use thrift_frame_wire::{Limits, Protocol, Transport, WireConfig};
//!
//! let mut bytes = Vec::new();
//! let mut out = TBinaryOutputProtocol::new(&mut bytes, true);
//! out.write_message_begin(&TMessageIdentifier::new("echo", TMessageType::Call, 1))?;
//! out.write_struct_begin(&TStructIdentifier::new("echo_args"))?;
//! out.write_field_begin(&TFieldIdentifier::new("text", TType::String, 1))?;
//! out.write_string("hello")?;
//! out.write_field_end()?;
//! out.write_field_stop()?;
//! out.write_struct_end()?;
//! out.write_message_end()?;
//! drop(out);
//!
//! let wire = WireConfig {
//!     protocol: Protocol::Binary,
//!     transport: Transport::Buffered,
//!     limits: Limits::default(),
//! };
//! let text = debug_view(&wire, &bytes)?;
//! // The binary protocol carries no struct or field names.
//! assert_eq!(
//!     text,
//!     "(call) echo( {\n    01:  (string) = \"hello\",\n  })\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod format;
mod output;
mod text;
mod trace;
mod view;

pub use error::DebugError;
pub use format::{type_name, StringLimit, DEFAULT_STRING_LIMIT, DEFAULT_STRING_PREFIX};
pub use output::DebugOutputProtocol;
pub use trace::{
    traced, TracingInputProtocol, TracingOutputProtocol, DEFAULT_MAX_TRACE_TEXT, TRACE_TARGET,
};
pub use view::{debug_view, DebugView};
