//! The `thrift-frame-decode` binary on messages encoded here with the thrift
//! crate's own protocols.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TStructIdentifier, TType,
};

fn message(p: &mut dyn TOutputProtocol, text: &str) {
    p.write_message_begin(&TMessageIdentifier::new("echo", TMessageType::Call, 1))
        .expect("begin");
    p.write_struct_begin(&TStructIdentifier::new("echo_args"))
        .expect("struct");
    p.write_field_begin(&TFieldIdentifier::new("text", TType::String, 1))
        .expect("field");
    p.write_string(text).expect("string");
    p.write_field_end().expect("field end");
    p.write_field_begin(&TFieldIdentifier::new("n", TType::I32, 2))
        .expect("field");
    p.write_i32(-5).expect("i32");
    p.write_field_end().expect("field end");
    p.write_field_stop().expect("stop");
    p.write_struct_end().expect("struct end");
    p.write_message_end().expect("end");
}

fn binary(text: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    message(&mut TBinaryOutputProtocol::new(&mut bytes, true), text);
    bytes
}

fn shown(text: &str) -> String {
    format!("(call) echo( {{\n    01:  (string) = \"{text}\",\n    02:  (i32) = -5,\n  }})\n")
}

fn decode(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_thrift-frame-decode"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8")
}

#[test]
fn a_binary_message_in_a_file() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&binary("hello")).expect("write");
    let path = file.path().to_str().expect("path");
    let o = decode(&["--protocol", "binary", path], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), shown("hello"));
    assert_eq!(stderr(&o), "");
}

#[test]
fn hex_on_stdin_with_whitespace() {
    let hex: String = binary("hello")
        .chunks(7)
        .map(|c| c.iter().map(|b| format!("{b:02X} ")).collect::<String>() + "\n\t")
        .collect();
    let o = decode(&["--protocol", "binary", "--hex"], hex.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), shown("hello"));
    let o = decode(&["--hex", "--protocol", "binary", "-"], hex.as_bytes());
    assert_eq!(stdout(&o), shown("hello"));
}

#[test]
fn a_framed_compact_message() {
    let mut body = Vec::new();
    message(&mut TCompactOutputProtocol::new(&mut body), "hi");
    let mut framed = (body.len() as u32).to_be_bytes().to_vec();
    framed.extend(body);
    let o = decode(&["--protocol", "compact", "--transport", "framed"], &framed);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), shown("hi"));
}

#[test]
fn string_limits() {
    let long = "z".repeat(300);
    let o = decode(&["--protocol", "binary"], &binary(&long));
    assert_eq!(stdout(&o), shown("zzzzzzzzzzzzzzzz[...](300)"));
    let o = decode(&["--protocol", "binary", "--full-strings"], &binary(&long));
    assert_eq!(stdout(&o), shown(&long));
    let o = decode(
        &["--protocol", "binary", "--string-limit", "2"],
        &binary("abc"),
    );
    assert_eq!(stdout(&o), shown("abc[...](3)"));
}

#[test]
fn bad_input_is_a_clear_error_and_exit_1() {
    let bytes = binary("hello");
    let o = decode(&["--protocol", "binary"], &bytes[..bytes.len() - 3]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        err.contains("thrift-frame-decode: stdin (")
            && err.contains(
                "is not a binary message on buffered transport: cannot decode the message: "
            ),
        "{err}"
    );
    assert!(
        err.starts_with("decoded before the error:\n(call) echo( {\n"),
        "{err}"
    );

    let o = decode(&["--protocol", "compact", "--hex"], b"12 3");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stdin is not hex text: an odd number of hex digits"),
        "{}",
        stderr(&o)
    );

    let o = decode(&["--protocol", "json"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stdin (0 bytes) is not a json message"),
        "{}",
        stderr(&o)
    );

    let o = decode(&["--protocol", "binary", "/nonexistent/message.bin"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read /nonexistent/message.bin"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--protocol", "header"][..],
        &["--protocol", "binary", "--transport", "carrier-pigeon"][..],
        &["--protocol", "binary", "--string-limit", "-1"][..],
        &[
            "--protocol",
            "binary",
            "--full-strings",
            "--string-limit",
            "3",
        ][..],
        &["--protocol", "binary", "a", "b"][..],
    ] {
        let o = decode(args, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{args:?}");
        assert!(stderr(&o).contains("--help"), "{args:?}");
    }
}
