//! HTTP transport, as THttpClient and THttpServer speak it in C++, Go and
//! Python: one Thrift message per HTTP/1.1 POST, `Content-Type:
//! application/x-thrift`, the body the protocol's bytes, the reply the body
//! of a `200 OK`; connections kept alive.
//!
//! Heads are parsed with `httparse`; bodies are framed by Content-Length
//! (and, for responses, chunked encoding or the connection's end, which the
//! Go and Python servers use). Every length is checked against the limits
//! before a byte of the body is read.

mod client;
mod incoming;
mod server;

pub use client::{HttpRequestWriter, HttpResponseReader, HttpTarget};
pub use server::{server_halves, HttpEnd, HttpExchange, HttpRequestReader, HttpResponseWriter};

/// Largest request or response head (start line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Most headers accepted in one head.
pub const MAX_HEADERS: usize = 64;

/// The path a `GET` health check is answered on, with `200 ok`.
pub const HEALTH_PATH: &str = "/health";

/// A body buffer grown beyond this is freed after its message, so one large
/// call does not pin its memory to the connection.
const KEEP_BUFFER_BYTES: usize = 1024 * 1024;

/// Whether a Content-Type names Thrift content: `application/x-thrift`
/// (C++, Go, Python, Java) or the `application/vnd.apache.thrift.*` types
/// and `application/json` that JavaScript clients send; parameters such as
/// `charset` are ignored.
pub fn is_thrift_media_type(value: &str) -> bool {
    let media = value.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/x-thrift")
        || media.eq_ignore_ascii_case("application/json")
        || media
            .to_ascii_lowercase()
            .starts_with("application/vnd.apache.thrift.")
}
