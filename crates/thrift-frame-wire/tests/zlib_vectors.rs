//! Our zlib transport reads what Python's TZlibTransport writes, without
//! reading past the message it was sent.

use std::io::{self, Cursor, Read};

use thrift::protocol::{TInputProtocol, TMessageType, TType};
use thrift_frame_wire::{Limits, Protocol, Transport, WireConfig};

/// Gives its bytes, then fails where a socket would block: a read past the
/// message is a test failure, not a hang.
struct ThenBlocks(Cursor<Vec<u8>>);

impl thrift_frame_wire::ReadToVec for ThenBlocks {}

impl Read for ThenBlocks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "read past the message: the peer has sent nothing more",
            )),
            n => Ok(n),
        }
    }
}

#[test]
fn a_python_zlib_message_is_read_to_its_end_without_more_input() {
    let bytes = include_bytes!("vectors/zlib/python-compact-ping-1m-x.bin").to_vec();
    let wire = WireConfig {
        protocol: Protocol::Compact,
        transport: Transport::Zlib,
        limits: Limits::default(),
    };
    let mut input = wire.input_protocol(ThenBlocks(Cursor::new(bytes)));
    let message = input.read_message_begin().unwrap();
    assert_eq!(
        (message.name.as_str(), message.message_type),
        ("ping", TMessageType::Call)
    );
    input.read_struct_begin().unwrap();
    let field = input.read_field_begin().unwrap();
    assert_eq!((field.field_type, field.id), (TType::String, Some(1)));
    let msg = input.read_string().unwrap();
    assert!(msg.len() == 1_000_000 && msg.bytes().all(|b| b == b'x'));
    input.read_field_end().unwrap();
    // The bytes after a large string are still handed out: this read
    // blocked on the socket before ZlibReader drained the decoder first.
    assert_eq!(input.read_field_begin().unwrap().field_type, TType::Stop);
    input.read_struct_end().unwrap();
    input.read_message_end().unwrap();
}
