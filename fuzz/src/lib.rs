//! What the fuzz targets and the seed generator share: how the first input
//! byte picks the wire and the service, and the two paths under test, built
//! the way the server and the client build them.
//!
//! Input layout, for both targets: byte 0 is the selector, the rest is the
//! byte stream the peer sent. Selector bits 0-3 pick the wire (an index into
//! [`WIRES`], modulo its 12 entries: every protocol x transport), bits 4..
//! what runs on top ([`Service`] for the server, [`Call`] for the client),
//! modulo its count.

use std::io::{self, Cursor, Write};
use std::sync::{Arc, Mutex};

use thrift::protocol::{TInputProtocol, TType};
use thrift_frame_demo::Service;
use thrift_frame_idl::ping::{PingServiceSyncClient, TPingServiceSyncClient};
use thrift_frame_idl::student::{ServSyncClient, Student, TServSyncClient};
use thrift_frame_wire::{
    ClientStack, HttpTarget, Limits, ObservedInputProtocol, Protocol, RequestObserver, RequestOutcome,
    Transport, WireConfig,
};

/// Frame, message and string limit: small, so that inputs of a few KiB reach
/// the limit checks (the server's default is 16 MiB, which no fuzz input of
/// sensible size would get near).
pub const LIMIT: usize = 64 * 1024;

/// Calls served, or made, per input at most. One input may hold several
/// requests back to back, as a connection does; the bound keeps a stream of
/// tiny valid requests from running long.
pub const MAX_CALLS: usize = 64;

/// Every protocol x transport, in selector order (bits 0-3): binary,
/// compact and JSON over buffered, framed, zlib and HTTP; binary and
/// compact over THeader; and a server's auto (a client's: THeader).
pub const WIRES: [(Protocol, Transport); 15] = {
    let p = [Protocol::Binary, Protocol::Compact, Protocol::Json];
    let t = [
        Transport::Buffered,
        Transport::Framed,
        Transport::Zlib,
        Transport::Http,
    ];
    [
        (p[0], t[0]),
        (p[1], t[0]),
        (p[2], t[0]),
        (p[0], t[1]),
        (p[1], t[1]),
        (p[2], t[1]),
        (p[0], t[2]),
        (p[1], t[2]),
        (p[2], t[2]),
        (p[0], t[3]),
        (p[1], t[3]),
        (p[2], t[3]),
        (p[0], Transport::Header),
        (p[1], Transport::Header),
        (p[0], Transport::Auto),
    ]
};

/// The server's processors, in selector order (bits 2..).
pub const SERVICES: [Service; 3] = [Service::Ping, Service::Student, Service::Multiplexed];

/// What the client target calls, in selector order (bits 2..).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Ping,
    Output,
    Put,
}

pub const CALLS: [Call; 3] = [Call::Ping, Call::Output, Call::Put];

impl Call {
    /// The method's name on the wire.
    pub fn method(self) -> &'static str {
        match self {
            Call::Ping => "ping",
            Call::Output => "output",
            Call::Put => "put",
        }
    }
}

/// The selector byte for a wire index (into [`WIRES`]) and what runs on top.
pub fn selector(wire: usize, upper: usize) -> u8 {
    // Both indexes are tiny (< 15 and < 3), so the shift cannot overflow a u8.
    ((upper << 4) | (wire & 15)) as u8
}

/// The wire a selector byte names, with the fuzzing limits.
pub fn wire(selector: u8) -> WireConfig {
    let (protocol, transport) = WIRES[usize::from(selector & 15) % WIRES.len()];
    WireConfig {
        protocol,
        transport,
        limits: Limits::new(LIMIT, LIMIT, LIMIT).expect("the fuzzing limits are consistent"),
    }
}

pub fn service(selector: u8) -> Service {
    SERVICES[usize::from(selector >> 4) % SERVICES.len()]
}

pub fn call(selector: u8) -> Call {
    CALLS[usize::from(selector >> 4) % CALLS.len()]
}

/// Serves `stream` as one connection of the server does: the wire stack from
/// `WireConfig::server_stack`, wrapped in an `ObservedInputProtocol`, the
/// service's processor, and the connection loop's reading of each outcome
/// (connection.rs): go on after a complete call (answering an unanswered
/// HTTP request), skip the arguments of an unknown method, stop at anything
/// else. Replies go to `out`. Returns the calls served whole (the seed
/// generator checks its seeds with it).
pub fn serve<W>(selector: u8, stream: &[u8], out: W) -> usize
where
    W: Write + Send + 'static,
{
    let wire = wire(selector);
    let processor = service(selector)
        .processor()
        .expect("the demo processors register");
    let observer = RequestObserver::new();
    let stack = wire.server_stack(Cursor::new(stream.to_vec()), out);
    let mut input = ObservedInputProtocol::new(stack.input, observer.clone());
    let mut output = stack.output;
    let mut served = 0;
    for _ in 0..MAX_CALLS {
        let result = processor.process(&mut input, &mut output);
        match (result, observer.take()) {
            (Ok(()), RequestOutcome::Complete { .. }) => {
                served += 1;
                if let Some(Err(_)) = stack.http.as_ref().map(|h| h.answer_unanswered()) {
                    break;
                }
            }
            (Ok(()), RequestOutcome::Unfinished { .. }) => {
                let skipped = input
                    .skip(TType::Struct)
                    .and_then(|()| input.read_message_end());
                observer.take();
                if skipped.is_err() {
                    break;
                }
            }
            // A rejected call, a broken stream or the end of the input: the
            // server closes the connection.
            _ => break,
        }
    }
    served
}

/// A generated client whose replies are `stream`, making the selector's call
/// until one fails, as a client reusing its connection does. Its requests go
/// to `out`. It is the client `thrift_frame_client` uses
/// (`ReconnectingClient::new` is given `PingServiceSyncClient::new` over the same
/// boxed protocols), built here without that crate so the fuzzers do not
/// depend on the reconnect machinery around it. Returns the calls that got
/// a good reply.
pub fn call_with_replies<W>(selector: u8, stream: &[u8], out: W) -> usize
where
    W: Write + Send + 'static,
{
    let wire = wire(selector);
    let target = HttpTarget::new("127.0.0.1:9091", "/");
    let ClientStack { input, output, .. } =
        wire.client_stack(Cursor::new(stream.to_vec()), out, &target);
    let call = call(selector);
    match call {
        Call::Ping | Call::Output => {
            let mut client = PingServiceSyncClient::new(input, output);
            (0..MAX_CALLS)
                .take_while(|_| match call {
                    Call::Ping => client.ping(PING_MESSAGE.to_owned()).is_ok(),
                    _ => client.output(OUTPUT_MESSAGE.to_owned()).is_ok(),
                })
                .count()
        }
        Call::Put => {
            let mut client = ServSyncClient::new(input, output);
            (0..MAX_CALLS)
                .take_while(|_| client.put(student()).is_ok())
                .count()
        }
    }
}

/// The client target's arguments, also used for the seed requests.
pub const PING_MESSAGE: &str = "hello";
pub const OUTPUT_MESSAGE: &str = "héllo wörld";

pub fn student() -> Student {
    Student::new(7, "student-7-学生".to_owned(), true, 20i16)
}

/// A `Write` whose bytes can be read back: `serve` and `call_with_replies`
/// need an owned, `'static` writer, the seed generator the bytes.
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `message_boundary` target: selector bit 0 picks binary or compact,
/// bits 1.. the chunk size (1 to 128 bytes) the stream is fed in. Panics
/// when the walk fed in chunks disagrees with the walk of the whole stream,
/// or when it ends a message where the thrift crate's reader wants more.
pub fn check_boundary(selector: u8, stream: &[u8]) {
    use thrift::protocol::{TBinaryInputProtocol, TCompactInputProtocol};
    use thrift_frame_wire::MessageBoundary;

    let protocol = if selector & 1 == 0 {
        Protocol::Binary
    } else {
        Protocol::Compact
    };
    let limits = Limits {
        max_frame_size: LIMIT,
        max_message_size: LIMIT,
        max_string_size: LIMIT,
        ..Limits::default()
    };
    let walk = || MessageBoundary::new(protocol, limits).expect("binary and compact have one");
    let whole = walk().scan(stream).map_err(|e| e.to_string());

    let step = 1 + usize::from(selector >> 1);
    let mut chunked = walk();
    let mut end = 0;
    let mut found = Ok(None);
    while end < stream.len() {
        end = (end + step).min(stream.len());
        found = chunked.scan(&stream[..end]).map_err(|e| e.to_string());
        if found != Ok(None) {
            break;
        }
    }
    match (&whole, &found) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "chunks of {step} end elsewhere"),
        (Err(_), Err(_)) => {}
        _ => panic!("whole: {whole:?}, in chunks of {step}: {found:?}"),
    }

    if let Ok(Some(length)) = whole {
        let mut cursor = Cursor::new(&stream[..length]);
        let read = {
            let mut input: Box<dyn TInputProtocol + '_> = match protocol {
                Protocol::Binary => Box::new(TBinaryInputProtocol::new(&mut cursor, true)),
                _ => Box::new(TCompactInputProtocol::new(&mut cursor)),
            };
            input
                .read_message_begin()
                .and_then(|_| input.skip(TType::Struct))
                .and_then(|()| input.read_message_end())
        };
        match read {
            // The crate agrees where the message ends.
            Ok(()) => assert_eq!(
                cursor.position() as usize,
                length,
                "the crate read elsewhere"
            ),
            // It may refuse what the walk does not judge (invalid UTF-8,
            // say), but never for want of bytes the walk said were not part
            // of the message.
            Err(thrift::Error::Transport(e)) => {
                assert!(
                    e.kind != thrift::TransportErrorKind::EndOfFile,
                    "the crate wanted bytes past the end the walk found at {length}: {e}"
                )
            }
            Err(_) => {}
        }
    }
}

/// The `header_frame` target: `frame` as the bytes after a THeader frame's
/// length, read with the 64 KiB message limit. Panics when an accepted
/// frame, written back, does not read the same, or when a message passes
/// the limit.
pub fn check_header_frame(frame: &[u8]) {
    use thrift_frame_wire::{read_header_frame, write_header_frame};

    let Ok((header, message)) = read_header_frame(frame, LIMIT) else {
        return;
    };
    assert!(
        message.len() <= LIMIT,
        "a message of {} bytes",
        message.len()
    );
    let mut again = Vec::new();
    write_header_frame(&header, &message, &mut again).expect("an accepted frame writes");
    let (header2, message2) =
        read_header_frame(&again[4..], LIMIT).expect("what we wrote reads back");
    assert_eq!(header, header2, "the header changed on the way round");
    assert_eq!(message, message2, "the message changed on the way round");
}
