//! [`DebugError`]: why a message could not be shown.

use thrift::protocol::TType;
use thrift_frame_wire::WireError;

use crate::format::type_name;

/// Why [`debug_view`](crate::debug_view) could not show a message.
///
/// Where decoding stopped part-way, the text shown up to that point is kept
/// ([`partial`](Self::partial)): it tells where in the message the bytes went
/// wrong.
#[derive(Debug, thiserror::Error)]
pub enum DebugError {
    /// The wire limits contradict each other.
    #[error("invalid wire limits")]
    Limits(#[source] WireError),
    /// The protocol or transport could not decode the bytes: truncated or
    /// not a message of that protocol, or over a wire limit.
    #[error("cannot decode the message")]
    Decode {
        /// The decoder's error.
        #[source]
        source: thrift::Error,
        /// The text shown before it.
        partial: String,
    },
    /// A struct field or container element of a type that has no value
    /// (stop, void, or UTF-7): not a message that any peer writes.
    #[error("cannot show a value of type {}", type_name(*ttype))]
    UnexpectedType {
        /// The type.
        ttype: TType,
        /// The text shown before it.
        partial: String,
    },
    /// Structs and containers nested deeper than the wire limits allow.
    #[error("nested deeper than {limit} structs and containers")]
    DepthLimit {
        /// The limit (`Limits::max_recursion_depth`).
        limit: usize,
        /// The text shown before it.
        partial: String,
    },
    /// The text would be longer than the view allows.
    #[error("the view would exceed {limit} bytes of text")]
    TextLimit {
        /// The limit ([`DebugView::with_max_text`](crate::DebugView::with_max_text)).
        limit: usize,
    },
}

impl DebugError {
    /// The text shown before decoding stopped, if it stopped part-way.
    pub fn partial(&self) -> Option<&str> {
        match self {
            DebugError::Decode { partial, .. }
            | DebugError::UnexpectedType { partial, .. }
            | DebugError::DepthLimit { partial, .. } => Some(partial),
            DebugError::Limits(_) | DebugError::TextLimit { .. } => None,
        }
    }
}
