//! The tracing wrappers with trace not enabled for their target: nothing is
//! mirrored, and every call still reaches the wrapped protocol. (A test
//! binary of its own: the log level is global to the process.)

use std::io::Cursor;
use std::sync::Mutex;

use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TFieldIdentifier, TInputProtocol,
    TMessageIdentifier, TMessageType, TOutputProtocol, TStructIdentifier, TType,
};
use thrift_frame_debug::{TracingInputProtocol, TracingOutputProtocol};

/// Everything at debug level and above, so that trace is off.
struct Capture(Mutex<Vec<String>>);
impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Debug
    }
    fn log(&self, record: &log::Record) {
        if let Ok(mut records) = self.0.lock() {
            records.push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}
static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn nothing_is_mirrored_without_trace() {
    log::set_logger(&CAPTURE).expect("logger");
    log::set_max_level(log::LevelFilter::Debug);

    let mut bytes = Vec::new();
    let mut out = TracingOutputProtocol::new(TBinaryOutputProtocol::new(&mut bytes, true), "->");
    out.write_message_begin(&TMessageIdentifier::new("m", TMessageType::Call, 1))
        .expect("begin");
    assert!(!out.is_tracing());
    out.write_struct_begin(&TStructIdentifier::new("s"))
        .expect("struct");
    out.write_field_begin(&TFieldIdentifier::new("f", TType::I64, 1))
        .expect("field");
    out.write_i64(-7).expect("i64");
    out.write_field_end().expect("field end");
    out.write_field_stop().expect("stop");
    out.write_struct_end().expect("struct end");
    out.write_message_end().expect("end");
    out.flush().expect("flush");
    drop(out);

    let mut input =
        TracingInputProtocol::new(TBinaryInputProtocol::new(Cursor::new(bytes), true), "<-");
    assert_eq!(input.read_message_begin().expect("begin").name, "m");
    assert!(!input.is_tracing());
    input.read_struct_begin().expect("struct");
    assert_eq!(input.read_field_begin().expect("field").id, Some(1));
    assert_eq!(input.read_i64().expect("i64"), -7);
    input.read_field_end().expect("field end");
    assert_eq!(
        input.read_field_begin().expect("stop").field_type,
        TType::Stop
    );
    input.read_struct_end().expect("struct end");
    input.read_message_end().expect("end");
    drop(input);

    assert!(CAPTURE.0.lock().expect("records").is_empty());
}
