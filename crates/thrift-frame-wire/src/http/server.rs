//! The server's side of THttpServer: requests in, one Thrift message per
//! POST body; replies out, one per response.
//!
//! [`HttpRequestReader`] presents the bodies of successive POSTs as one byte
//! stream, so the connection loop and processors work unchanged; it answers
//! what is not a Thrift call itself (health checks, bad requests) and says
//! why through the connection's [`HttpExchange`]. [`HttpResponseWriter`]
//! collects a reply and sends it, with its head, in one write at flush.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use super::incoming::{has_token, header, Body, HeadError, Incoming};
use super::{is_thrift_media_type, HEALTH_PATH, MAX_HEADERS, MAX_HEAD_BYTES};

/// How an HTTP connection stopped carrying Thrift calls, when it was the
/// transport (not the Thrift layer) that stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEnd {
    /// A health check was answered (`GET` on the health path); the
    /// connection closed after it.
    HealthChecked,
    /// The request was refused with this status; `reason` says why.
    Refused {
        /// The status sent, e.g. 413.
        status: u16,
        /// What was wrong, for the log.
        reason: String,
    },
    /// The client asked to close (`Connection: close`, or HTTP/1.0 without
    /// keep-alive) and its last response has been sent.
    ClientClosed,
}

struct ExchangeState {
    writer: Box<dyn Write + Send>,
    /// A request has been read whose response has not been sent.
    owed: bool,
    /// Close after the response owed (the client asked to).
    close_after: bool,
    /// The last request was HTTP/1.0.
    http10: bool,
    ended: Option<HttpEnd>,
}

/// What the request reader and the response writer of one connection
/// share, and what the connection loop asks them.
#[derive(Clone)]
pub struct HttpExchange {
    state: Arc<Mutex<ExchangeState>>,
}

impl HttpExchange {
    fn new(writer: Box<dyn Write + Send>) -> Self {
        HttpExchange {
            state: Arc::new(Mutex::new(ExchangeState {
                writer,
                owed: false,
                close_after: false,
                http10: false,
                ended: None,
            })),
        }
    }

    fn lock(&self) -> io::Result<MutexGuard<'_, ExchangeState>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("HTTP exchange poisoned by a panic"))
    }

    /// Why the transport ended the connection, if it did.
    pub fn ended(&self) -> Option<HttpEnd> {
        self.lock().ok().and_then(|s| s.ended.clone())
    }

    /// Whether a request has been read that no response answered yet.
    pub fn owes_response(&self) -> bool {
        self.lock().map(|s| s.owed).unwrap_or(false)
    }

    /// Sends an empty `200 OK` for a request the processor did not answer
    /// (a oneway call), as the C++, Go and Python HTTP servers do, so the
    /// client's POST completes.
    pub fn answer_unanswered(&self) -> io::Result<()> {
        let mut state = self.lock()?;
        if state.owed {
            send_response(&mut state, &mut [], 0)?;
        }
        Ok(())
    }

    /// Answers with plain `text` (its body left out for a HEAD request)
    /// that is not a Thrift reply, closes, and records why in `end`.
    fn answer_and_close(&self, status: u16, extra: &str, text: &str, body: bool, end: HttpEnd) {
        let mut response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n{extra}Connection: close\r\n\r\n",
            status_text(status),
            text.len()
        );
        if body {
            response.push_str(text);
        }
        if let Ok(mut state) = self.lock() {
            // Best effort: the peer may not read it.
            let _ = state
                .writer
                .write_all(response.as_bytes())
                .and_then(|()| state.writer.flush());
            state.owed = false;
            state.ended = Some(end);
        }
    }

    /// Refuses the request with `status`, and closes.
    fn refuse(&self, status: u16, extra: &str, reason: String) -> io::Error {
        let text = format!("{reason}\n");
        let error = io::Error::new(
            io::ErrorKind::InvalidData,
            format!("HTTP {status}: {reason}"),
        );
        self.answer_and_close(
            status,
            extra,
            &text,
            true,
            HttpEnd::Refused { status, reason },
        );
        error
    }
}

/// Room kept in front of a response body for its head, so head and body
/// go out in one write without copying the body.
const HEAD_ROOM: usize = 160;

/// Writes the response owed: head into the room in front of `body` (which
/// starts at `HEAD_ROOM` when it is non-empty), then one write.
fn send_response(state: &mut ExchangeState, body: &mut [u8], body_len: usize) -> io::Result<()> {
    let close = if state.close_after {
        "Connection: close\r\n"
    } else if state.http10 {
        "Connection: keep-alive\r\n"
    } else {
        ""
    };
    let version = if state.http10 { "1.0" } else { "1.1" };
    let head = format!(
        "HTTP/{version} 200 OK\r\nContent-Type: application/x-thrift\r\n\
         Content-Length: {body_len}\r\n{close}\r\n"
    );
    let result = if body.is_empty() {
        state.writer.write_all(head.as_bytes())
    } else {
        let start = HEAD_ROOM - head.len();
        body[start..HEAD_ROOM].copy_from_slice(head.as_bytes());
        state.writer.write_all(&body[start..])
    };
    state.owed = false;
    result.and_then(|()| state.writer.flush())
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// What the reader needs from a request head.
struct RequestHead {
    method: String,
    path: String,
    minor_version: u8,
    content_length: Option<String>,
    chunked: bool,
    content_type: Option<String>,
    connection: Option<String>,
    expect_continue: bool,
}

fn parse_request(buf: &[u8]) -> Result<Option<(usize, RequestHead)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(format!("more than {MAX_HEADERS} headers"))
        }
        Err(e) => return Err(format!("not an HTTP request ({e})")),
    };
    let h = &*request.headers;
    let owned = |name: &str| header(h, name).map(str::to_owned);
    Ok(Some((
        len,
        RequestHead {
            method: request.method.unwrap_or_default().to_owned(),
            path: request.path.unwrap_or_default().to_owned(),
            minor_version: request.version.unwrap_or(1),
            content_length: owned("content-length"),
            chunked: has_token(header(h, "transfer-encoding"), "chunked"),
            content_type: owned("content-type"),
            connection: owned("connection"),
            expect_continue: header(h, "expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue")),
        },
    )))
}

/// Reads the bodies of successive POST requests as one stream of Thrift
/// messages.
///
/// Between bodies it reads the next request's head and checks it: `POST`
/// (a `GET` or `HEAD` on [`HEALTH_PATH`] is answered `200` and the
/// connection closed; other methods get `405`), a Thrift or absent
/// Content-Type (else `415`), a Content-Length (else `411`; chunked
/// request bodies are not accepted) no larger than `max_body` (else `413`),
/// a head within [`MAX_HEAD_BYTES`] (else `431`). A refused request is
/// answered and the read fails with the reason; [`HttpExchange::ended`]
/// tells the connection which. A read past the end of a body while its
/// response is still owed means the message was longer than the body: a
/// `400`.
pub struct HttpRequestReader<R> {
    incoming: Incoming<R>,
    exchange: HttpExchange,
    max_body: u64,
}

impl<R: Read> HttpRequestReader<R> {
    fn next_request(&mut self) -> io::Result<bool> {
        let head = match self.incoming.read_head(parse_request) {
            Ok(head) => head,
            Err(HeadError::Closed) => return Ok(false),
            Err(HeadError::TooLarge(n)) => {
                return Err(self.exchange.refuse(
                    431,
                    "",
                    format!("request head longer than {n} bytes"),
                ))
            }
            Err(HeadError::Malformed(why)) => return Err(self.exchange.refuse(400, "", why)),
            Err(HeadError::Io(e)) => return Err(e),
        };
        let path = head.path.split('?').next().unwrap_or_default();
        if head.method == "GET" || head.method == "HEAD" {
            if path == HEALTH_PATH {
                let body = head.method == "GET";
                self.exchange
                    .answer_and_close(200, "", "ok\n", body, HttpEnd::HealthChecked);
                return Ok(false);
            }
            return Err(self.exchange.refuse(
                405,
                "Allow: POST\r\n",
                format!(
                    "{} {path}: Thrift calls are POSTs; GET answers only {HEALTH_PATH}",
                    head.method
                ),
            ));
        }
        if head.method != "POST" {
            return Err(self.exchange.refuse(
                405,
                "Allow: POST\r\n",
                format!("method {} is not POST", head.method),
            ));
        }
        if let Some(media) = &head.content_type {
            if !is_thrift_media_type(media) {
                return Err(self.exchange.refuse(
                    415,
                    "",
                    format!("Content-Type {media:?} is not a Thrift type (application/x-thrift)"),
                ));
            }
        }
        if head.chunked {
            return Err(self.exchange.refuse(
                411,
                "",
                "chunked request bodies are not accepted: send a Content-Length".into(),
            ));
        }
        let Some(length) = head.content_length else {
            return Err(self.exchange.refuse(411, "", "no Content-Length".into()));
        };
        let Ok(length) = length.parse::<u64>() else {
            return Err(self.exchange.refuse(
                400,
                "",
                format!("Content-Length {length:?} is not a number"),
            ));
        };
        if length > self.max_body {
            return Err(self.exchange.refuse(
                413,
                "",
                format!(
                    "a body of {length} bytes exceeds the limit of {} bytes",
                    self.max_body
                ),
            ));
        }
        {
            let mut state = self.exchange.lock()?;
            state.http10 = head.minor_version == 0;
            state.close_after = if state.http10 {
                !has_token(head.connection.as_deref(), "keep-alive")
            } else {
                has_token(head.connection.as_deref(), "close")
            };
            state.owed = true;
            if head.expect_continue {
                state.writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                state.writer.flush()?;
            }
        }
        self.incoming.body = Body::Length(length);
        Ok(true)
    }
}

/// Read through `read` (zeroed chunks): bodies come in pieces anyway.
impl<R: Read> crate::ReadToVec for HttpRequestReader<R> {}

impl<R: Read> Read for HttpRequestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.incoming.body != Body::Done {
                let n = self.incoming.read_body(buf)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            let (owed, close) = {
                let state = self.exchange.lock()?;
                (state.owed, state.close_after)
            };
            if owed {
                return Err(self.exchange.refuse(
                    400,
                    "",
                    "the Thrift message runs past the end of its HTTP body".into(),
                ));
            }
            if close {
                self.exchange.lock()?.ended = Some(HttpEnd::ClientClosed);
                return Ok(0);
            }
            if !self.next_request()? {
                return Ok(0);
            }
        }
    }
}

/// Collects one reply and sends it as the response to the request owed,
/// with Content-Length, in one write at `flush`.
pub struct HttpResponseWriter {
    exchange: HttpExchange,
    /// `HEAD_ROOM` bytes kept for the head, then the body.
    body: Vec<u8>,
}

impl Write for HttpResponseWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.body.is_empty() {
            self.body.resize(HEAD_ROOM, 0);
        }
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.body.is_empty() {
            return Ok(());
        }
        let len = self.body.len() - HEAD_ROOM;
        let mut state = self.exchange.lock()?;
        // After a refusal the connection is closing: nothing more is sent.
        let sent = if state.ended.is_some() {
            Ok(())
        } else {
            send_response(&mut state, &mut self.body, len)
        };
        drop(state);
        self.body.clear();
        if self.body.capacity() > super::KEEP_BUFFER_BYTES {
            self.body = Vec::new();
        }
        sent
    }
}

/// The server's read and write sides of one HTTP connection, and what they
/// share: `reader` and `writer` are the socket's halves.
pub fn server_halves<R, W>(
    reader: R,
    writer: W,
    max_body: usize,
) -> (HttpRequestReader<R>, HttpResponseWriter, HttpExchange)
where
    R: Read,
    W: Write + Send + 'static,
{
    let exchange = HttpExchange::new(Box::new(writer));
    let max_body = max_body as u64;
    let reader = HttpRequestReader {
        incoming: Incoming::new(reader, crate::IO_BUFFER_BYTES, MAX_HEAD_BYTES, max_body),
        exchange: exchange.clone(),
        max_body,
    };
    let writer = HttpResponseWriter {
        exchange: exchange.clone(),
        body: Vec::new(),
    };
    (reader, writer, exchange)
}
