//! Our binary and compact input protocols against the thrift crate's, on
//! the messages the C++, Go and Python libraries wrote
//! (tests/vectors/messages): the same values out of every message, read
//! whole or in pieces of any size, through buffered and framed transport;
//! and, for every truncation and every corrupted byte of those messages,
//! the same values or the same error.

use std::fs;
use std::io::{self, Cursor, Read};
use std::path::PathBuf;

use thrift::protocol::{TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TType};
use thrift_frame_wire::{Limits, Protocol, ReadToVec, Transport, WireConfig};

/// Every vector: (file name, protocol, bytes).
fn vectors() -> Vec<(String, Protocol, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/messages");
    let mut all = Vec::new();
    for entry in fs::read_dir(&dir).expect("tests/vectors/messages is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let protocol = if name.ends_with(".binary") {
            Protocol::Binary
        } else if name.ends_with(".compact") {
            Protocol::Compact
        } else {
            continue;
        };
        all.push((name, protocol, fs::read(&path).expect("readable")));
    }
    assert!(all.len() >= 100, "only {} vectors", all.len());
    all
}

/// Hands out at most `step` bytes per read, as a socket may.
struct Pieces {
    data: Cursor<Vec<u8>>,
    step: usize,
}
impl Read for Pieces {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = out.len().min(self.step);
        self.data.read(&mut out[..n])
    }
}
impl ReadToVec for Pieces {
    const APPENDS_IN_PLACE: bool = true;

    fn read_to_vec(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.data.read_to_vec(buf, max.min(self.step))
    }
}

/// An error as compared: kind and message, except that invalid UTF-8 is
/// one error whatever its wording (the crate words it with
/// `String::from_utf8`'s message).
fn describe(e: &thrift::Error) -> String {
    match e {
        thrift::Error::Protocol(p) if p.message.to_lowercase().contains("utf-8") => {
            format!("protocol {:?}: invalid UTF-8", p.kind)
        }
        thrift::Error::Protocol(p) => format!("protocol {:?}: {}", p.kind, p.message),
        thrift::Error::Transport(t) => format!("transport {:?}", t.kind),
        other => format!("{other}"),
    }
}

/// Everything a generic reader sees in one message, or where it failed.
fn events(p: &mut dyn TInputProtocol) -> Result<Vec<String>, (Vec<String>, String)> {
    let mut out = Vec::new();
    let read = |p: &mut dyn TInputProtocol, out: &mut Vec<String>| -> thrift::Result<()> {
        let m = p.read_message_begin()?;
        out.push(format!("{m:?}"));
        value(p, TType::Struct, 0, out)?;
        p.read_message_end()
    };
    match read(p, &mut out) {
        Ok(()) => Ok(out),
        Err(e) => Err((out, describe(&e))),
    }
}

fn value(
    p: &mut dyn TInputProtocol,
    ty: TType,
    depth: usize,
    out: &mut Vec<String>,
) -> thrift::Result<()> {
    if depth > 70 {
        return Err(thrift::Error::User("deeper than the test reads".into()));
    }
    let seen = match ty {
        TType::Bool => format!("bool {}", p.read_bool()?),
        TType::I08 => format!("i8 {}", p.read_i8()?),
        TType::I16 => format!("i16 {}", p.read_i16()?),
        TType::I32 => format!("i32 {}", p.read_i32()?),
        TType::I64 => format!("i64 {}", p.read_i64()?),
        TType::Double => format!("double {:x}", p.read_double()?.to_bits()),
        TType::String => format!("bytes {:?}", p.read_bytes()?),
        TType::Uuid => format!("uuid {}", p.read_uuid()?),
        TType::Struct => {
            p.read_struct_begin()?;
            loop {
                let f = p.read_field_begin()?;
                out.push(format!("field {:?} {:?}", f.id, f.field_type));
                if f.field_type == TType::Stop {
                    break;
                }
                value(p, f.field_type, depth + 1, out)?;
                p.read_field_end()?;
            }
            p.read_struct_end()?;
            "end struct".into()
        }
        TType::List => {
            let l = p.read_list_begin()?;
            out.push(format!("{l:?}"));
            for _ in 0..l.size.min(1000) {
                value(p, l.element_type, depth + 1, out)?;
            }
            p.read_list_end()?;
            "end list".into()
        }
        TType::Set => {
            let s = p.read_set_begin()?;
            out.push(format!("{s:?}"));
            for _ in 0..s.size.min(1000) {
                value(p, s.element_type, depth + 1, out)?;
            }
            p.read_set_end()?;
            "end set".into()
        }
        TType::Map => {
            let m = p.read_map_begin()?;
            out.push(format!("{m:?}"));
            if let (Some(k), Some(v)) = (m.key_type, m.value_type) {
                for _ in 0..m.size.min(1000) {
                    value(p, k, depth + 1, out)?;
                    value(p, v, depth + 1, out)?;
                }
            }
            p.read_map_end()?;
            "end map".into()
        }
        other => {
            p.skip(other)?;
            format!("skipped {other:?}")
        }
    };
    out.push(seen);
    Ok(())
}

/// The thrift crate's reader: strict binary or compact.
fn theirs(protocol: Protocol, bytes: &[u8]) -> Result<Vec<String>, (Vec<String>, String)> {
    let config = Limits::default().thrift_configuration();
    let cursor = Cursor::new(bytes.to_vec());
    let mut p: Box<dyn TInputProtocol> = match protocol {
        Protocol::Binary => Box::new(TBinaryInputProtocol::with_config(cursor, true, config)),
        _ => Box::new(TCompactInputProtocol::with_config(cursor, config)),
    };
    events(&mut *p)
}

fn ours(
    protocol: Protocol,
    transport: Transport,
    bytes: &[u8],
    step: usize,
) -> Result<Vec<String>, (Vec<String>, String)> {
    let wire = WireConfig {
        protocol,
        transport,
        limits: Limits::default(),
    };
    let stream = match transport {
        Transport::Framed => {
            let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
            framed.extend_from_slice(bytes);
            framed
        }
        _ => bytes.to_vec(),
    };
    let mut p = wire.input_protocol(Pieces {
        data: Cursor::new(stream),
        step,
    });
    events(&mut *p)
}

#[test]
fn every_library_message_reads_to_the_same_values_as_with_the_thrift_crate() {
    for (name, protocol, bytes) in vectors() {
        let expected =
            theirs(protocol, &bytes).unwrap_or_else(|e| panic!("{name}: the crate failed: {e:?}"));
        assert!(expected.len() > 2, "{name}: {expected:?}");
        for transport in [Transport::Buffered, Transport::Framed] {
            for step in [1, 2, 3, 7, 64, usize::MAX] {
                assert_eq!(
                    ours(protocol, transport, &bytes, step).as_ref(),
                    Ok(&expected),
                    "{name} over {transport} in pieces of {step}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_and_corrupted_byte_reads_to_the_same_values_or_error() {
    let mut compared = 0;
    for (name, protocol, bytes) in vectors() {
        let mut cases: Vec<Vec<u8>> = (0..bytes.len()).map(|cut| bytes[..cut].to_vec()).collect();
        for at in 0..bytes.len().min(512) {
            for byte in [
                0x00, 0x01, 0x02, 0x03, 0x0f, 0x10, 0x11, 0x7f, 0x80, 0x8f, 0xf0, 0xff,
            ] {
                let mut bad = bytes.clone();
                bad[at] = byte;
                cases.push(bad);
            }
        }
        for case in cases {
            let expected = theirs(protocol, &case);
            for step in [1, usize::MAX] {
                assert_eq!(
                    ours(protocol, Transport::Buffered, &case, step),
                    expected,
                    "{name}: {case:02x?} in pieces of {step}"
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 10_000, "{compared}");
}
