//! `MessageBoundary` finds exactly where a binary or compact message ends:
//! on messages the thrift crate writes (every type, nested containers,
//! compact's bool-in-header and long list forms), one byte at a time, with
//! the next message behind it, and it refuses what the limits forbid before the
//! bytes have arrived.

use std::io::Cursor;

use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::ProtocolErrorKind;
use thrift_frame_wire::{Limits, MessageBoundary, Protocol};

/// A value tree, enough to write every shape a message can have.
#[derive(Debug, Clone)]
enum V {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Dbl(f64),
    Str(Vec<u8>),
    Uuid([u8; 16]),
    Struct(Vec<(i16, V)>),
    List(TType, Vec<V>),
    Set(TType, Vec<V>),
    Map(TType, TType, Vec<(V, V)>),
}

fn ttype(v: &V) -> TType {
    match v {
        V::Bool(_) => TType::Bool,
        V::I8(_) => TType::I08,
        V::I16(_) => TType::I16,
        V::I32(_) => TType::I32,
        V::I64(_) => TType::I64,
        V::Dbl(_) => TType::Double,
        V::Str(_) => TType::String,
        V::Uuid(_) => TType::Uuid,
        V::Struct(_) => TType::Struct,
        V::List(..) => TType::List,
        V::Set(..) => TType::Set,
        V::Map(..) => TType::Map,
    }
}

fn write(o: &mut dyn TOutputProtocol, v: &V) -> thrift::Result<()> {
    match v {
        V::Bool(b) => o.write_bool(*b),
        V::I8(x) => o.write_i8(*x),
        V::I16(x) => o.write_i16(*x),
        V::I32(x) => o.write_i32(*x),
        V::I64(x) => o.write_i64(*x),
        V::Dbl(x) => o.write_double(*x),
        V::Str(b) => o.write_bytes(b),
        V::Uuid(b) => o.write_uuid(&uuid::Uuid::from_bytes(*b)),
        V::Struct(fields) => {
            o.write_struct_begin(&TStructIdentifier::new("s"))?;
            for (id, f) in fields {
                o.write_field_begin(&TFieldIdentifier::new("f", ttype(f), *id))?;
                write(o, f)?;
                o.write_field_end()?;
            }
            o.write_field_stop()?;
            o.write_struct_end()
        }
        V::List(t, items) => {
            o.write_list_begin(&TListIdentifier::new(*t, items.len() as i32))?;
            items.iter().try_for_each(|i| write(o, i))?;
            o.write_list_end()
        }
        V::Set(t, items) => {
            o.write_set_begin(&TSetIdentifier::new(*t, items.len() as i32))?;
            items.iter().try_for_each(|i| write(o, i))?;
            o.write_set_end()
        }
        V::Map(k, t, entries) => {
            o.write_map_begin(&TMapIdentifier::new(*k, *t, entries.len() as i32))?;
            for (key, value) in entries {
                write(o, key)?;
                write(o, value)?;
            }
            o.write_map_end()
        }
    }
}

fn message(protocol: Protocol, name: &str, kind: TMessageType, body: &V) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut o: Box<dyn TOutputProtocol + '_> = match protocol {
            Protocol::Binary => Box::new(TBinaryOutputProtocol::new(&mut bytes, true)),
            Protocol::Compact => Box::new(TCompactOutputProtocol::new(&mut bytes)),
            Protocol::Json => unreachable!("no boundaries for json"),
        };
        o.write_message_begin(&TMessageIdentifier::new(name, kind, 7))
            .expect("begin");
        write(&mut *o, body).expect("body");
        o.write_message_end().expect("end");
        o.flush().expect("flush");
    }
    bytes
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn scalar(rng: &mut Rng, t: TType) -> V {
    match t {
        TType::Bool => V::Bool(rng.below(2) == 0),
        TType::I08 => V::I8(rng.next() as i8),
        TType::I16 => V::I16(rng.next() as i16),
        TType::I32 => V::I32(rng.next() as i32),
        TType::I64 => V::I64(rng.next() as i64),
        TType::Double => V::Dbl(f64::from_bits(rng.next())),
        TType::Uuid => V::Uuid((rng.next() as u128 * 31).to_le_bytes()),
        _ => {
            let n = [0, 1, 5, 127, 128, 300][rng.below(6) as usize];
            V::Str((0..n).map(|i| (i as u8).wrapping_mul(7)).collect())
        }
    }
}

const SCALARS: [TType; 8] = [
    TType::Bool,
    TType::I08,
    TType::I16,
    TType::I32,
    TType::I64,
    TType::Double,
    TType::String,
    TType::Uuid,
];

fn value(rng: &mut Rng, depth: u32) -> V {
    let pick = if depth == 0 { 0 } else { rng.below(5) };
    match pick {
        0 => {
            let t = SCALARS[rng.below(8) as usize];
            scalar(rng, t)
        }
        1 => strukt(rng, depth - 1),
        2 | 3 => {
            // 0..=20 elements: compact writes 15 and more in its long form.
            let n = [0, 1, 3, 14, 15, 20][rng.below(6) as usize];
            let t = SCALARS[rng.below(8) as usize];
            let nested = rng.below(3) == 0;
            let items: Vec<V> = (0..n)
                .map(|_| {
                    if nested {
                        strukt(rng, depth - 1)
                    } else {
                        scalar(rng, t)
                    }
                })
                .collect();
            let t = if nested { TType::Struct } else { t };
            if pick == 2 {
                V::List(t, items)
            } else {
                V::Set(t, items)
            }
        }
        _ => {
            let n = rng.below(4);
            let k = SCALARS[rng.below(8) as usize];
            let entries: Vec<(V, V)> = (0..n)
                .map(|_| (scalar(rng, k), value(rng, depth - 1)))
                .collect();
            let t = entries.first().map_or(TType::I32, |(_, v)| ttype(v));
            // Every value of a map has the map's value type.
            let entries = entries.into_iter().filter(|(_, v)| ttype(v) == t).collect();
            V::Map(k, t, entries)
        }
    }
}

fn strukt(rng: &mut Rng, depth: u32) -> V {
    let n = rng.below(6);
    // Ids that step by more than 15 make compact write the long field header.
    V::Struct(
        (0..n)
            .map(|i| {
                (
                    (i as i16) * [1, 3, 17][rng.below(3) as usize] + 1,
                    value(rng, depth),
                )
            })
            .collect(),
    )
}

/// The length the thrift crate's own reader consumes reading the message.
fn read_length(protocol: Protocol, bytes: &[u8]) -> u64 {
    let mut cursor = Cursor::new(bytes);
    {
        let mut i: Box<dyn TInputProtocol + '_> = match protocol {
            Protocol::Binary => Box::new(TBinaryInputProtocol::new(&mut cursor, true)),
            _ => Box::new(TCompactInputProtocol::new(&mut cursor)),
        };
        i.read_message_begin().expect("crate reads the envelope");
        i.skip(TType::Struct).expect("crate skips the body");
        i.read_message_end().expect("crate reads the end");
    }
    cursor.position()
}

fn boundary(protocol: Protocol) -> MessageBoundary {
    MessageBoundary::new(protocol, Limits::default()).expect("binary and compact have boundaries")
}

/// Every check on one whole message: found exactly, every prefix short,
/// byte-by-byte resumption, and with a next message behind it.
fn check_message(protocol: Protocol, bytes: &[u8], what: &str) {
    let mut whole = boundary(protocol);
    assert_eq!(
        whole.scan(bytes).unwrap_or_else(|e| panic!("{what}: {e}")),
        Some(bytes.len()),
        "{what}: whole"
    );
    // Every prefix of small messages; of large ones, a sample.
    let step = (bytes.len() / 512).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let mut fresh = boundary(protocol);
        assert_eq!(
            fresh.scan(&bytes[..cut]).expect("prefix"),
            None,
            "{what}: prefix of {cut}"
        );
        // What it says the message needs is more than it has, never more
        // than the message is.
        let at_least = fresh.at_least();
        assert!(
            at_least > cut && at_least <= bytes.len(),
            "{what}: prefix of {cut}: at least {at_least} of {}",
            bytes.len()
        );
    }
    let mut trickled = boundary(protocol);
    for end in 0..bytes.len() {
        assert_eq!(trickled.scan(&bytes[..end]).expect("trickle"), None);
    }
    assert_eq!(trickled.scan(bytes).expect("last byte"), Some(bytes.len()));
    let mut two = bytes.to_vec();
    two.extend_from_slice(bytes);
    let mut pipelined = boundary(protocol);
    assert_eq!(pipelined.scan(&two).expect("two"), Some(bytes.len()));
    pipelined.reset();
    assert_eq!(
        pipelined.scan(&two[bytes.len()..]).expect("second"),
        Some(bytes.len())
    );
}

#[test]
fn random_messages_end_where_the_crate_reader_stops() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200 {
        let body = strukt(&mut rng, 2);
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let kind = [
                TMessageType::Call,
                TMessageType::Reply,
                TMessageType::OneWay,
            ][round % 3];
            let bytes = message(protocol, "method", kind, &body);
            assert_eq!(
                read_length(protocol, &bytes),
                bytes.len() as u64,
                "round {round} {protocol}"
            );
            check_message(protocol, &bytes, &format!("round {round} {protocol}"));
        }
    }
}

fn refusal(protocol: Protocol, limits: Limits, bytes: &[u8]) -> ProtocolErrorKind {
    let mut b = MessageBoundary::new(protocol, limits).expect("boundary");
    match b.scan(bytes) {
        Err(thrift::Error::Protocol(p)) => p.kind,
        other => panic!("{protocol} {bytes:02x?}: expected a protocol error, got {other:?}"),
    }
}

#[test]
fn wrong_protocols_and_versions_are_refused_at_the_first_bytes() {
    let limits = Limits::default();
    // Non-strict binary: the name's length first.
    let kind = refusal(Protocol::Binary, limits, &[0, 0, 0, 4, b'p', b'i']);
    assert_eq!(kind, ProtocolErrorKind::BadVersion);
    let kind = refusal(Protocol::Binary, limits, &[0x80, 0x02, 0, 1]);
    assert_eq!(kind, ProtocolErrorKind::BadVersion);
    // Compact bytes at a binary server, binary at a compact one, HTTP at both.
    let compact = message(
        Protocol::Compact,
        "ping",
        TMessageType::Call,
        &V::Struct(vec![]),
    );
    let binary = message(
        Protocol::Binary,
        "ping",
        TMessageType::Call,
        &V::Struct(vec![]),
    );
    assert_eq!(
        refusal(Protocol::Binary, limits, &compact),
        ProtocolErrorKind::BadVersion
    );
    assert_eq!(
        refusal(Protocol::Compact, limits, &binary),
        ProtocolErrorKind::BadVersion
    );
    for protocol in [Protocol::Binary, Protocol::Compact] {
        assert_eq!(
            refusal(protocol, limits, b"POST / HTTP/1.1\r\n"),
            ProtocolErrorKind::BadVersion
        );
    }
    // A message type that does not exist.
    assert_eq!(
        refusal(Protocol::Compact, limits, &[0x82, 0xe1, 0x01, 0x00]),
        ProtocolErrorKind::InvalidData
    );
    assert!(MessageBoundary::new(Protocol::Json, limits).is_none());
}

#[test]
fn lengths_over_the_limits_are_refused_before_their_bytes_arrive() {
    let limits = Limits::new(1024, 1024, 256).expect("limits");
    // A 300-byte string field, refused on its length prefix alone.
    let body = V::Struct(vec![(1, V::Str(vec![b'x'; 300]))]);
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let bytes = message(protocol, "ping", TMessageType::Call, &body);
        let header_only = &bytes[..bytes.len() - 300];
        assert_eq!(
            refusal(protocol, limits, header_only),
            ProtocolErrorKind::SizeLimit,
            "{protocol}"
        );
    }
    // Strings within the string limit that add up past the message limit.
    let body = V::Struct((1..=5).map(|i| (i, V::Str(vec![b'y'; 250]))).collect());
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let bytes = message(protocol, "ping", TMessageType::Call, &body);
        assert_eq!(
            refusal(protocol, limits, &bytes[..bytes.len() - 250]),
            ProtocolErrorKind::SizeLimit,
            "{protocol}"
        );
    }
    // A list that claims more elements than the message has room for.
    let list = [
        0x80, 0x01, 0, 1, 0, 0, 0, 1, b'p', 0, 0, 0, 7, 15, 0, 1, 8, 0, 0, 8, 0,
    ];
    assert_eq!(
        refusal(Protocol::Binary, limits, &list),
        ProtocolErrorKind::SizeLimit
    );
    // A negative string length.
    let negative = [
        0x80, 0x01, 0, 1, 0, 0, 0, 1, b'p', 0, 0, 0, 7, 11, 0, 1, 0xff, 0xff, 0xff, 0xfe,
    ];
    assert_eq!(
        refusal(Protocol::Binary, limits, &negative),
        ProtocolErrorKind::NegativeSize
    );
    // Bytes past the message limit with the message still not over.
    let mut endless = vec![0x82, 0x21, 0x01, 0x01, b'p'];
    endless.extend(std::iter::repeat_n(0x15, 2000)); // i32 fields, delta 1, forever
    let kind = refusal(Protocol::Compact, limits, &endless);
    assert_eq!(kind, ProtocolErrorKind::SizeLimit);
}

#[test]
fn nesting_past_the_depth_limit_is_refused() {
    let limits = Limits {
        max_recursion_depth: 8,
        ..Limits::default()
    };
    let mut nested = V::Struct(vec![]);
    for _ in 0..limits.max_recursion_depth {
        nested = V::Struct(vec![(1, nested)]);
    }
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let bytes = message(protocol, "deep", TMessageType::Call, &nested);
        assert_eq!(
            refusal(protocol, limits, &bytes),
            ProtocolErrorKind::DepthLimit
        );
    }
}

#[test]
fn garbage_gets_an_answer_not_a_panic() {
    let mut rng = Rng(12345);
    for _ in 0..20_000 {
        let n = rng.below(64) as usize;
        let mut bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        // Half of them behind a valid envelope, to reach the body's walk.
        if rng.below(2) == 0 {
            let mut valid = vec![0x82, 0x21, 0x01, 0x01, b'p'];
            valid.append(&mut bytes);
            bytes = valid;
        }
        for protocol in [Protocol::Binary, Protocol::Compact] {
            if let Ok(Some(end)) = boundary(protocol).scan(&bytes) {
                assert!(end <= bytes.len(), "{protocol} {bytes:02x?}: end {end}");
            }
        }
    }
}
