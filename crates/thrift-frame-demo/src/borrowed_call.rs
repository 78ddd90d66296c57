//! `ping` and `output` sent from a borrowed `&str`.
//!
//! The generated client takes the message as an owned `String`, and a client
//! that may retry must keep its own copy, so every call copied the payload:
//! for 1 MiB that memmove was 22% of `ping-client`'s CPU (perf) and made it
//! slower than the C++ client. Both methods have the same shape in the IDL,
//! `string m(1: string msg)`, so one function writes the call straight from
//! the borrowed string and reads the reply the way the generated code does.
//! A test checks the bytes against the generated client.

use thrift::protocol::{
    verify_expected_message_type, verify_expected_sequence_number, verify_expected_service_call,
    TFieldIdentifier, TMessageIdentifier, TMessageType, TStructIdentifier, TType,
};
use thrift::{ApplicationError, ApplicationErrorKind, TThriftClient};

/// Calls `method(1: string msg) -> string` on `client`'s protocols.
pub(crate) fn string_call(
    client: &mut impl TThriftClient,
    method: &str,
    msg: &str,
) -> thrift::Result<String> {
    client.increment_sequence_number();
    let seq = client.sequence_number();
    let out = client.o_prot_mut();
    out.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Call, seq))?;
    out.write_struct_begin(&TStructIdentifier::new(format!("{method}_args")))?;
    out.write_field_begin(&TFieldIdentifier::new("msg", TType::String, 1))?;
    out.write_string(msg)?;
    out.write_field_end()?;
    out.write_field_stop()?;
    out.write_struct_end()?;
    out.write_message_end()?;
    out.flush()?;

    let input = client.i_prot_mut();
    let ident = input.read_message_begin()?;
    verify_expected_sequence_number(seq, ident.sequence_number)?;
    verify_expected_service_call(method, &ident.name)?;
    if ident.message_type == TMessageType::Exception {
        let remote = thrift::Error::read_application_error_from_in_protocol(input)?;
        input.read_message_end()?;
        return Err(thrift::Error::Application(remote));
    }
    verify_expected_message_type(TMessageType::Reply, ident.message_type)?;
    // The result struct: field 0 is the return value; skip anything else.
    let mut success = None;
    input.read_struct_begin()?;
    loop {
        let field = input.read_field_begin()?;
        match (field.field_type, field.id) {
            (TType::Stop, _) => break,
            (TType::String, Some(0)) => success = Some(input.read_string()?),
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end()?;
    success.ok_or_else(|| {
        thrift::Error::Application(ApplicationError::new(
            ApplicationErrorKind::MissingResult,
            format!("no result received for {method}"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Cursor;
    use std::rc::Rc;
    use thrift::protocol::{TCompactInputProtocol, TCompactOutputProtocol, TOutputProtocol};
    use thrift_frame_idl::ping::{PingServiceSyncClient, TPingServiceSyncClient};

    /// A reply to call `seq` of `method` carrying `value` (or no result).
    fn reply(method: &str, seq: i32, value: Option<&str>) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut o = TCompactOutputProtocol::new(&mut buf);
        o.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Reply, seq))
            .expect("w");
        o.write_struct_begin(&TStructIdentifier::new("result"))
            .expect("w");
        if let Some(v) = value {
            o.write_field_begin(&TFieldIdentifier::new("success", TType::String, 0))
                .expect("w");
            o.write_string(v).expect("w");
            o.write_field_end().expect("w");
        }
        o.write_field_stop().expect("w");
        o.write_struct_end().expect("w");
        o.write_message_end().expect("w");
        o.flush().expect("w");
        drop(o);
        buf
    }

    /// Everything a client wrote, readable while the client owns the writer.
    #[derive(Clone, Default)]
    struct Sent(Rc<RefCell<Vec<u8>>>);

    impl std::io::Write for Sent {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    type Client =
        PingServiceSyncClient<TCompactInputProtocol<Cursor<Vec<u8>>>, TCompactOutputProtocol<Sent>>;

    fn client(replies: Vec<u8>) -> (Client, Sent) {
        let sent = Sent::default();
        let c = PingServiceSyncClient::new(
            TCompactInputProtocol::new(Cursor::new(replies)),
            TCompactOutputProtocol::new(sent.clone()),
        );
        (c, sent)
    }

    fn take(sent: &Sent) -> Vec<u8> {
        std::mem::take(&mut *sent.0.borrow_mut())
    }

    #[test]
    fn writes_the_same_bytes_as_the_generated_client_and_reads_its_replies() {
        for method in ["ping", "output"] {
            let msg = "héllo";
            let replies = [reply(method, 1, Some("one")), reply(method, 2, Some("two"))].concat();
            let (mut ours, ours_sent) = client(replies.clone());
            let (mut generated, generated_sent) = client(replies);
            assert_eq!(string_call(&mut ours, method, msg).expect("ours"), "one");
            let theirs = match method {
                "ping" => generated.ping(msg.to_owned()),
                _ => generated.output(msg.to_owned()),
            };
            assert_eq!(theirs.expect("generated"), "one");
            let bytes = take(&ours_sent);
            assert!(bytes.len() > msg.len(), "nothing sent");
            assert_eq!(bytes, take(&generated_sent), "{method}");
            // Sequence numbers advance alike.
            assert_eq!(string_call(&mut ours, method, msg).expect("ours"), "two");
        }
    }

    #[test]
    fn a_reply_without_result_or_to_another_call_is_an_error() {
        let (mut c, _) = client(reply("ping", 1, None));
        match string_call(&mut c, "ping", "x") {
            Err(thrift::Error::Application(e)) => {
                assert_eq!(e.kind, ApplicationErrorKind::MissingResult)
            }
            other => panic!("{other:?}"),
        }
        let (mut c, _) = client(reply("output", 1, Some("x")));
        match string_call(&mut c, "ping", "x") {
            Err(thrift::Error::Application(e)) => {
                assert_eq!(e.kind, ApplicationErrorKind::WrongMethodName)
            }
            other => panic!("{other:?}"),
        }
    }
}
