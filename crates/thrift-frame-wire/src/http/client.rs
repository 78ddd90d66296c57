//! The client's side of THttpClient: each request message is one POST,
//! each reply the body of its response.

use std::io::{self, Read, Write};

use super::incoming::{has_token, head_io_error, header, Body, HeadError, Incoming};
use super::{MAX_HEADERS, MAX_HEAD_BYTES};

/// Where the POSTs go: the `Host` header and the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// The `Host` header, e.g. `127.0.0.1:9091`.
    pub host: String,
    /// The request path, e.g. `/`.
    pub path: String,
}

impl HttpTarget {
    /// Posts to `path` on `host`.
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        HttpTarget {
            host: host.into(),
            path: path.into(),
        }
    }
}

/// Collects one request message and sends it as a POST at `flush`: head
/// and body in one write.
pub struct HttpRequestWriter<W> {
    writer: W,
    /// The head up to `Content-Length: `.
    head: String,
    /// Room for the head, then the body.
    body: Vec<u8>,
}

impl<W: Write> HttpRequestWriter<W> {
    /// Posts each flushed message to `target` through `writer`.
    pub fn new(writer: W, target: &HttpTarget) -> Self {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-thrift\r\n\
             Accept: application/x-thrift\r\nUser-Agent: thrift-frame/{}\r\nContent-Length: ",
            target.path,
            target.host,
            env!("CARGO_PKG_VERSION")
        );
        HttpRequestWriter {
            writer,
            head,
            body: Vec::new(),
        }
    }

    /// Bytes kept in front of the body: the head, the length's digits, CRLFs.
    fn room(&self) -> usize {
        self.head.len() + 20 + 4
    }
}

impl<W: Write> Write for HttpRequestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.body.is_empty() {
            self.body.resize(self.room(), 0);
        }
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.body.is_empty() {
            return Ok(());
        }
        let room = self.room();
        let length = format!("{}\r\n\r\n", self.body.len() - room);
        let start = room - length.len() - self.head.len();
        self.body[start..start + self.head.len()].copy_from_slice(self.head.as_bytes());
        self.body[room - length.len()..room].copy_from_slice(length.as_bytes());
        let sent = self
            .writer
            .write_all(&self.body[start..])
            .and_then(|()| self.writer.flush());
        self.body.clear();
        if self.body.capacity() > super::KEEP_BUFFER_BYTES {
            self.body = Vec::new();
        }
        sent
    }
}

/// What the reader needs from a response head.
struct ResponseHead {
    status: u16,
    reason: String,
    minor_version: u8,
    content_length: Option<String>,
    chunked: bool,
    close: bool,
    keep_alive: bool,
}

fn parse_response(buf: &[u8]) -> Result<Option<(usize, ResponseHead)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP response ({e})")),
    };
    let h = &*response.headers;
    Ok(Some((
        len,
        ResponseHead {
            status: response.code.unwrap_or(0),
            reason: response.reason.unwrap_or_default().to_owned(),
            minor_version: response.version.unwrap_or(1),
            content_length: header(h, "content-length").map(str::to_owned),
            chunked: has_token(header(h, "transfer-encoding"), "chunked"),
            close: has_token(header(h, "connection"), "close"),
            keep_alive: has_token(header(h, "connection"), "keep-alive"),
        },
    )))
}

/// Reads the replies: the bodies of successive responses, as one stream.
///
/// Bodies may be framed by Content-Length, chunked (Go's server, for large
/// replies) or by the end of the connection (Python's HTTP/1.0 server).
/// An empty `200` is the answer to a oneway call and is skipped; `100
/// Continue` likewise. Any other status than 200 fails the read with the
/// status and the start of the body.
pub struct HttpResponseReader<R> {
    incoming: Incoming<R>,
    max_body: u64,
    /// The server said it closes after the current response.
    closing: bool,
    /// A close-delimited body, read whole (see `next_response`).
    held: Option<io::Cursor<Vec<u8>>>,
}

impl<R: Read> HttpResponseReader<R> {
    /// Reads responses from `reader`, bodies at most `max_body` bytes.
    pub fn new(reader: R, max_body: usize) -> Self {
        let max_body = max_body as u64;
        HttpResponseReader {
            incoming: Incoming::new(reader, crate::IO_BUFFER_BYTES, MAX_HEAD_BYTES, max_body),
            max_body,
            closing: false,
            held: None,
        }
    }

    fn next_response(&mut self) -> io::Result<bool> {
        loop {
            if self.closing {
                return Ok(false);
            }
            let head = match self.incoming.read_head(parse_response) {
                Ok(head) => head,
                Err(HeadError::Closed) => return Ok(false),
                Err(e) => return Err(head_io_error(e, "response head")),
            };
            if (100..200).contains(&head.status) {
                continue;
            }
            self.closing = head.close || (head.minor_version == 0 && !head.keep_alive);
            if head.chunked {
                self.incoming.start_chunked();
            } else if let Some(length) = &head.content_length {
                let length: u64 = length.parse().map_err(|_| {
                    invalid(format!(
                        "response Content-Length {length:?} is not a number"
                    ))
                })?;
                if length > self.max_body {
                    return Err(invalid(format!(
                        "the server's response of {length} bytes exceeds the limit of {} bytes",
                        self.max_body
                    )));
                }
                if length == 0 && head.status == 200 {
                    // A oneway call's answer: no reply in it.
                    continue;
                }
                self.incoming.body = Body::Length(length);
            } else {
                self.incoming.body = Body::UntilClose;
            }
            if head.status != 200 {
                return Err(self.failed_status(&head));
            }
            if self.closing || self.incoming.body == Body::UntilClose {
                // The server closes after this response (Python's HTTP/1.0
                // server, or `Connection: close`): read the body and wait
                // for the close now, so the next call is never sent into a
                // connection whose FIN is still on its way.
                let body = self.read_to_close()?;
                self.incoming.body = Body::UntilClose;
                self.read_to_close()?;
                self.held = Some(io::Cursor::new(body));
            }
            return Ok(true);
        }
    }

    /// The rest of the current body, at most `max_body` bytes.
    fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = self.incoming.read_body(&mut chunk)?;
            if n == 0 {
                return Ok(body);
            }
            if (body.len() + n) as u64 > self.max_body {
                return Err(invalid(format!(
                    "the server's response exceeds the limit of {} bytes",
                    self.max_body
                )));
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }

    /// The error for a non-200 response, with the start of its body.
    fn failed_status(&mut self, head: &ResponseHead) -> io::Error {
        let mut text = vec![0u8; 512];
        let mut got = 0;
        while got < text.len() {
            match self.incoming.read_body(&mut text[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        // The rest of the body is not read: the connection is unusable.
        self.closing = true;
        self.incoming.body = Body::Done;
        let body = String::from_utf8_lossy(&text[..got]);
        io::Error::other(format!(
            "HTTP {} {} from the server: {}",
            head.status,
            head.reason,
            body.trim()
        ))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Read through `read` (zeroed chunks): bodies come in pieces anyway.
impl<R: Read> crate::ReadToVec for HttpResponseReader<R> {}

impl<R: Read> Read for HttpResponseReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(held) = &mut self.held {
                let n = held.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.held = None;
            }
            if self.incoming.body != Body::Done {
                let n = self.incoming.read_body(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                // A body can be empty only when chunked or close-delimited;
                // its end is not the end of the message: read on.
            }
            if !self.next_response()? {
                return Ok(0);
            }
        }
    }
}
