//! The read side of TBinaryProtocol and TCompactProtocol, ours rather than
//! the thrift crate's, and the byte sources under them.
//!
//! The crate's protocols read a string by zeroing a vector of its length
//! and reading into that, through any `io::Read`. Ours read the same bytes
//! into the same values, with the same limits and errors, but take a
//! string's bytes from the socket (or the read buffer) straight into the
//! string's own allocation: one copy, no zeroing, UTF-8 validated in place.

mod binary;
mod checks;
mod compact;
mod source;

pub use binary::BinaryInputProtocol;
pub use compact::CompactInputProtocol;
pub use source::{BufferedSource, ByteSource, DirectSource, ReadToVec};
