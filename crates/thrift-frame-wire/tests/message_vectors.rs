//! `MessageBoundary` on the bytes of the C++, Go and Python libraries: the
//! files in tests/vectors/messages (see its README), one whole unframed
//! message each, written by interop/{cpp,go,python}/tools/message_vectors.
//!
//! For every file, in binary and compact: the boundary is exactly the file's
//! length whether the bytes come at once, one at a time, or with the next
//! message behind them; the thrift crate's own reader ends at the same byte;
//! and the three libraries write the same bytes, except where pinned here.

use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::path::PathBuf;

use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TMessageType, TType,
};
use thrift_frame_wire::{Limits, MessageBoundary, Protocol};

const PEERS: [&str; 3] = ["cpp", "go", "py"];

/// Every vector: (case, peer, protocol name) -> bytes.
fn vectors() -> BTreeMap<(String, String, String), Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/messages");
    let mut all = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("tests/vectors/messages is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let parts: Vec<&str> = name.split('.').collect();
        let [case, peer, protocol] = parts[..] else {
            continue;
        };
        if protocol != "binary" && protocol != "compact" {
            continue;
        }
        assert!(PEERS.contains(&peer), "{name}: unknown peer");
        let bytes = fs::read(&path).expect("a vector is readable");
        all.insert(
            (case.to_owned(), peer.to_owned(), protocol.to_owned()),
            bytes,
        );
    }
    all
}

fn protocol(name: &str) -> Protocol {
    match name {
        "binary" => Protocol::Binary,
        _ => Protocol::Compact,
    }
}

fn boundary(name: &str) -> MessageBoundary {
    MessageBoundary::new(protocol(name), Limits::default()).expect("binary and compact have one")
}

/// Where the thrift crate's reader ends the message, and its type.
fn crate_reads(name: &str, bytes: &[u8]) -> (usize, TMessageType) {
    let mut cursor = Cursor::new(bytes);
    let mut input: Box<dyn TInputProtocol + '_> = match name {
        "binary" => Box::new(TBinaryInputProtocol::new(&mut cursor, true)),
        _ => Box::new(TCompactInputProtocol::new(&mut cursor)),
    };
    let message = input
        .read_message_begin()
        .expect("the crate reads the header");
    input.skip(TType::Struct).expect("the crate reads the body");
    input.read_message_end().expect("the crate reads the end");
    drop(input);
    (cursor.position() as usize, message.message_type)
}

#[test]
fn every_peer_and_protocol_has_the_same_cases() {
    let all = vectors();
    let cases: std::collections::BTreeSet<&String> = all.keys().map(|(c, _, _)| c).collect();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    for case in &cases {
        for peer in PEERS {
            for name in ["binary", "compact"] {
                let key = ((*case).clone(), peer.to_owned(), name.to_owned());
                assert!(all.contains_key(&key), "missing {case}.{peer}.{name}");
            }
        }
    }
}

#[test]
fn the_boundary_is_where_the_crate_reader_ends() {
    for ((case, peer, name), bytes) in vectors() {
        let label = format!("{case}.{peer}.{name}");
        let (read, _) = crate_reads(&name, &bytes);
        assert_eq!(
            read,
            bytes.len(),
            "{label}: the crate's reader left bytes over"
        );
        let found = boundary(&name)
            .scan(&bytes)
            .expect("a peer's message is accepted");
        assert_eq!(found, Some(bytes.len()), "{label}: whole");
    }
}

#[test]
fn the_boundary_waits_for_the_last_byte_and_ignores_what_follows() {
    for ((case, peer, name), bytes) in vectors() {
        let label = format!("{case}.{peer}.{name}");
        let mut walk = boundary(&name);
        for end in 1..bytes.len() {
            let found = walk.scan(&bytes[..end]).expect("a prefix is not an error");
            assert_eq!(found, None, "{label}: ended at {end} of {}", bytes.len());
            assert!(walk.at_least() > end, "{label}: at_least after {end} bytes");
            assert!(
                walk.at_least() <= bytes.len(),
                "{label}: at_least beyond the end"
            );
        }
        let found = walk.scan(&bytes).expect("the whole message");
        assert_eq!(found, Some(bytes.len()), "{label}: byte by byte");

        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        let found = boundary(&name).scan(&two).expect("two messages");
        assert_eq!(
            found,
            Some(bytes.len()),
            "{label}: with the next message behind"
        );
    }
}

#[test]
fn the_libraries_write_the_same_bytes_except_go_oneway() {
    let all = vectors();
    for ((case, peer, name), bytes) in &all {
        if peer == "cpp" {
            continue;
        }
        let cpp = &all[&(case.clone(), "cpp".to_owned(), name.clone())];
        if peer == "go" && case == "call_oneway" {
            // thrift-go writes a oneway call as CALL (type 1), not ONEWAY (4).
            assert_ne!(
                bytes, cpp,
                "go's oneway now matches C++: drop this exception"
            );
            assert_eq!(crate_reads(name, bytes).1, TMessageType::Call);
            assert_eq!(crate_reads(name, cpp).1, TMessageType::OneWay);
            continue;
        }
        assert_eq!(bytes, cpp, "{case}.{peer}.{name} differs from C++");
    }
}

#[test]
fn limits_under_a_peer_message_refuse_it() {
    let all = vectors();
    for name in ["binary", "compact"] {
        for peer in PEERS {
            // 256 bytes of binary in one string field.
            let bytes = &all[&("call_binary".to_owned(), peer.to_owned(), name.to_owned())];
            let strings = Limits {
                max_string_size: 255,
                ..Limits::default()
            };
            let whole = Limits {
                max_message_size: bytes.len() - 1,
                ..Limits::default()
            };
            for limits in [strings, whole] {
                let mut walk = MessageBoundary::new(protocol(name), limits).expect("a walk");
                assert!(
                    walk.scan(bytes).is_err(),
                    "{peer}.{name}: accepted over {limits:?}"
                );
            }
        }
    }
}
