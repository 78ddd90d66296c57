//! Apache Thrift's header transport (THeaderTransport with
//! THeaderProtocol), as the C++, Go and Python libraries speak it.
//!
//! - [`frame`]: one frame read or written whole (protocol id, transforms,
//!   key-value info headers), every length checked before it is used.
//! - [`exchange`]: the info headers a connection received with its last
//!   frame and will send with its next one, shared by its two sides, its
//!   handlers and its client.
//! - [`transport`]: the input and output protocols that put each message in
//!   a frame, in the protocol the frame names.

pub(crate) mod exchange;
pub(crate) mod frame;
pub(crate) mod transport;

pub use exchange::{HeaderExchange, HeaderRole, DEADLINE_HEADER, REQUEST_ID_HEADER};
pub use frame::{
    read_header_frame, split_header_frame, write_header_frame, HeaderError, HeaderFrame,
    HeaderProtocol, HeaderTransform, HEADER_MAGIC, MAX_HEADER_FRAME_SIZE,
};
pub use transport::{HeaderInputProtocol, HeaderOutputProtocol, CLOSED_BETWEEN_FRAMES};
