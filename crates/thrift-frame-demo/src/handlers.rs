//! The demo services' handlers.

use thrift_frame_idl::ping::PingServiceSyncHandler;
use thrift_frame_idl::student::{ServSyncHandler, Student};
use thrift_frame_server::{CallContext, REQUEST_ID_HEADER};

/// Over the header transport, every reply carries its request's
/// `x-request-id` back (interop/SPEC.md, "Header transport"), which is how
/// a client of any language sees that its headers reached the handler.
fn echo_request_id() {
    if let Some(call) = CallContext::current() {
        if let Some(id) = call.request_id() {
            call.set_response_header(REQUEST_ID_HEADER, id);
        }
    }
}

/// `PingService`: reports the UTF-8 byte length of `ping`'s message and
/// echoes `output`'s.
#[derive(Debug, Default, Clone, Copy)]
pub struct PingHandler;

impl PingServiceSyncHandler for PingHandler {
    fn handle_ping(&self, msg: String) -> thrift::Result<String> {
        echo_request_id();
        // `String::len` is the UTF-8 byte length, the same number every peer reports.
        Ok(format!("receive len: {}", msg.len()))
    }

    fn handle_output(&self, msg: String) -> thrift::Result<String> {
        echo_request_id();
        Ok(format!("You said: {msg}"))
    }
}

/// `Serv`: `put` answers the student's number. (Code from the 0.17 compiler
/// reads a missing `sno` off the wire as 0, so the error below is only seen
/// by in-process callers.)
#[derive(Debug, Default, Clone, Copy)]
pub struct StudentHandler;

impl ServSyncHandler for StudentHandler {
    fn handle_put(&self, s: Student) -> thrift::Result<i32> {
        echo_request_id();
        // Read by the fault suite's put_blackhole case (interop/SPEC.md),
        // with RUST_LOG=thrift_frame_demo::handlers=debug.
        log::debug!("put sno={}", s.sno.unwrap_or_default());
        s.sno.ok_or_else(|| {
            thrift::Error::Application(thrift::ApplicationError::new(
                thrift::ApplicationErrorKind::InvalidTransform,
                "put: Student.sno (field 1) is missing",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_counts_utf8_bytes_not_characters() {
        let h = PingHandler;
        assert_eq!(
            h.handle_ping("héllo".into()).expect("ping"),
            "receive len: 6"
        );
        assert_eq!(
            h.handle_ping(String::new()).expect("ping"),
            "receive len: 0"
        );
        assert_eq!(h.handle_output("é".into()).expect("output"), "You said: é");
    }

    #[test]
    fn put_answers_sno_and_rejects_a_student_without_one() {
        let h = StudentHandler;
        let s = Student::new(42, "x".to_string(), true, 20i16);
        assert_eq!(h.handle_put(s).expect("put"), 42);
        let anonymous = Student {
            sno: None,
            ..Student::default()
        };
        assert!(h.handle_put(anonymous).is_err());
    }
}
