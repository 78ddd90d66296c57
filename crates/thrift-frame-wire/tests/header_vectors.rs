//! THeader frames written by the C++, Go and Python libraries
//! (`tests/vectors/header/`, see its README): our reader takes each apart
//! into what the case put in, and our writer, given the same fields,
//! writes the same bytes (zlib payloads aside: deflaters differ).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TMessageType, TType,
};
use thrift_frame_wire::{
    read_header_frame, write_header_frame, HeaderFrame, HeaderProtocol, HeaderTransform,
};

const PEERS: [&str; 3] = ["cpp", "go", "py"];
const TEXT: &str = "Hello, 世界";

/// What each case puts in a frame.
struct Case {
    name: &'static str,
    protocol: HeaderProtocol,
    zlib: bool,
    info: &'static [(&'static str, &'static str)],
    kind: TMessageType,
    seqid: i32,
}

const fn case(
    name: &'static str,
    protocol: HeaderProtocol,
    zlib: bool,
    info: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        name,
        protocol,
        zlib,
        info,
        kind: TMessageType::Call,
        seqid: 1,
    }
}

const REQUEST_ID: &[(&str, &str)] = &[("x-request-id", "req-42")];

fn cases() -> Vec<Case> {
    use HeaderProtocol::{Binary, Compact};
    vec![
        case("binary_plain", Binary, false, &[]),
        case("compact_plain", Compact, false, &[]),
        case("binary_info", Binary, false, REQUEST_ID),
        case(
            "compact_info_two",
            Compact,
            false,
            &[("x-request-id", "req-42"), ("x-deadline-ms", "1500")],
        ),
        case("binary_zlib", Binary, true, REQUEST_ID),
        case("compact_zlib", Compact, true, &[]),
        Case {
            seqid: 7,
            ..case("binary_seqid", Binary, false, &[])
        },
        Case {
            kind: TMessageType::Reply,
            ..case("reply_binary_info", Binary, false, REQUEST_ID)
        },
    ]
}

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/header")
}

/// Every vector file by (case, peer).
fn vectors() -> BTreeMap<(String, String), Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in fs::read_dir(vector_dir()).expect("tests/vectors/header") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some((case, peer)) = name.rsplit_once('.') else {
            continue;
        };
        if PEERS.contains(&peer) {
            found.insert(
                (case.to_string(), peer.to_string()),
                fs::read(&path).expect("readable"),
            );
        }
    }
    found
}

/// The message's name, type, seqid and its one string field.
fn decode(protocol: HeaderProtocol, message: &[u8]) -> (String, TMessageType, i32, i16, String) {
    let mut input: Box<dyn TInputProtocol + '_> = match protocol {
        HeaderProtocol::Binary => Box::new(TBinaryInputProtocol::new(message, true)),
        HeaderProtocol::Compact => Box::new(TCompactInputProtocol::new(message)),
    };
    let begin = input.read_message_begin().expect("message begin");
    input.read_struct_begin().expect("struct begin");
    let field = input.read_field_begin().expect("field");
    assert_eq!(field.field_type, TType::String);
    let text = input.read_string().expect("string");
    input.read_field_end().expect("field end");
    let stop = input.read_field_begin().expect("stop");
    assert_eq!(stop.field_type, TType::Stop);
    (
        begin.name,
        begin.message_type,
        begin.sequence_number,
        field.id.unwrap_or(-1),
        text,
    )
}

#[test]
fn every_library_wrote_every_case() {
    let found = vectors();
    let mut missing = Vec::new();
    for case in cases() {
        for peer in PEERS {
            if !found.contains_key(&(case.name.to_string(), peer.to_string())) {
                missing.push(format!("{}.{peer}", case.name));
            }
        }
    }
    assert!(missing.is_empty(), "missing vectors: {missing:?}");
    let known: Vec<&str> = cases().iter().map(|c| c.name).collect();
    for (case, peer) in found.keys() {
        assert!(known.contains(&case.as_str()), "no case for {case}.{peer}");
    }
}

#[test]
fn our_reader_takes_every_frame_apart() {
    let found = vectors();
    for case in cases() {
        for peer in PEERS {
            let Some(bytes) = found.get(&(case.name.to_string(), peer.to_string())) else {
                continue;
            };
            let what = format!("{}.{peer}", case.name);
            let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            assert_eq!(length, bytes.len() - 4, "{what}: frame length");
            let (frame, message) =
                read_header_frame(&bytes[4..], 1 << 20).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(frame.protocol, Some(case.protocol), "{what}");
            let zlib: &[HeaderTransform] = if case.zlib {
                &[HeaderTransform::Zlib]
            } else {
                &[]
            };
            assert_eq!(frame.transforms, zlib, "{what}");
            let mut info = frame.info.clone();
            info.sort();
            let mut expected: Vec<(String, String)> = case
                .info
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            expected.sort();
            assert_eq!(info, expected, "{what}: info headers");
            let (name, kind, seqid, field, text) = decode(case.protocol, &message);
            assert_eq!(name, "testString", "{what}");
            assert_eq!(kind, case.kind, "{what}");
            assert_eq!(seqid, case.seqid, "{what}");
            let field_id = if case.kind == TMessageType::Reply {
                0
            } else {
                1
            };
            assert_eq!((field, text.as_str()), (field_id, TEXT), "{what}");
        }
    }
}

#[test]
fn our_writer_writes_their_bytes() {
    let found = vectors();
    for ((case, peer), bytes) in &found {
        let what = format!("{case}.{peer}");
        let (frame, message) = read_header_frame(&bytes[4..], 1 << 20).expect("read");
        let mut ours = Vec::new();
        write_header_frame(&frame, &message, &mut ours).expect("written");
        if frame.transforms.is_empty() {
            let theirs = if peer == "cpp" {
                without_cpps_extra_padding_word(bytes)
            } else {
                bytes.clone()
            };
            assert_eq!(ours, theirs, "{what}: our bytes differ from theirs");
        } else {
            // Deflaters differ byte for byte; what we wrote must read back.
            let (again, payload) = read_header_frame(&ours[4..], 1 << 20).expect("ours read");
            assert_eq!(again, frame, "{what}");
            assert_eq!(payload, message, "{what}");
        }
    }
}

/// C++ pads a header that already ends on a 4-byte boundary with a whole
/// word of zeros (the vectors' README); Go, Python and we add none. The
/// frame without that word, when the header's last word is padding only.
fn without_cpps_extra_padding_word(bytes: &[u8]) -> Vec<u8> {
    let words = usize::from(u16::from_be_bytes([bytes[12], bytes[13]]));
    let header = &bytes[14..14 + 4 * words];
    // A zero byte may also be content (an empty string's length), so
    // decide by reading: without the word the frame must read the same.
    if words == 0 || header[4 * words - 4..] != [0, 0, 0, 0] {
        return bytes.to_vec();
    }
    let mut shorter = bytes[..14 + 4 * words - 4].to_vec();
    shorter.extend_from_slice(&bytes[14 + 4 * words..]);
    let length = (shorter.len() - 4) as u32;
    shorter[0..4].copy_from_slice(&length.to_be_bytes());
    shorter[12..14].copy_from_slice(&((words - 1) as u16).to_be_bytes());
    match (
        read_header_frame(&shorter[4..], 1 << 20),
        read_header_frame(&bytes[4..], 1 << 20),
    ) {
        (Ok(short), Ok(long)) if short == long => shorter,
        _ => bytes.to_vec(),
    }
}

#[test]
fn a_frame_of_ours_with_default_fields_is_one_the_libraries_would_read() {
    // What a Rust writer sends by default: flags 0, the message's seqid,
    // protocol and headers as set. The reader above is the check that the
    // libraries' fields mean what we think; here the layout is pinned.
    let frame = HeaderFrame {
        sequence: 1,
        info: vec![("x-request-id".into(), "req-42".into())],
        ..HeaderFrame::new(HeaderProtocol::Binary)
    };
    let mut bytes = Vec::new();
    write_header_frame(&frame, b"\x80\x01\x00\x01", &mut bytes).expect("written");
    assert_eq!(
        bytes,
        [
            &[0, 0, 0, 38][..],                    // length
            &[0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 6], // magic, flags, seq, 6 words
            &[0, 0, 1, 1, 12],                     // binary, no transforms, kv, 1, len
            b"x-request-id",
            &[6],
            b"req-42",                     // 24 bytes: no padding needed
            &[0x80, 0x01, 0x00, 0x01][..], // the message
        ]
        .concat()
    );
}
