//! One whole request through the processor, into one reply buffer.

use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use log::{info, warn};
use thrift_frame_debug::traced;
use thrift_frame_wire::{
    split_header_frame, write_header_frame, HeaderExchange, HeaderProtocol, ObservedInputProtocol,
    RequestObserver, RequestOutcome, Transport, WireConfig, REQUEST_ID_HEADER,
};

use super::io_loop::Mailbox;
use crate::call_context::CallContext;
use crate::connection::{answer_panic, explain, panic_message, who};
use crate::server::Shared;

/// A complete request: `bytes[start..end]` is the message (a frame's
/// payload, or an unframed message); `charged` is what the buffer cost
/// the budget.
pub(crate) struct Request {
    pub bytes: Vec<u8>,
    pub start: usize,
    pub end: usize,
    pub charged: usize,
}

/// A request on its way to a worker, and where its reply goes.
pub(crate) struct Job {
    pub io: usize,
    pub key: usize,
    pub id: u64,
    pub peer: SocketAddr,
    pub request: Request,
}

/// What the connection does once the processor is done.
pub(crate) enum Verdict {
    /// Send the reply (none for a oneway call) and read the next request.
    Continue,
    /// Send the reply (an exception), then close with this reason.
    CloseAfter(String),
    /// Close at once: nothing can be sent. `None`: already logged.
    Close(Option<String>),
}

/// A processed request, back at its connection's I/O thread.
pub(crate) struct Completion {
    pub key: usize,
    pub id: u64,
    /// Ready to write: framed already when the transport is framed; empty
    /// when there is nothing to send.
    pub reply: Vec<u8>,
    pub verdict: Verdict,
    /// What the request's buffer cost the budget, to give back.
    pub request_charged: usize,
}

/// A worker: takes jobs until the queue closes.
pub(crate) fn work(
    queue: &crossbeam_channel::Receiver<Job>,
    shared: &Shared,
    mailboxes: &[Mailbox],
) {
    // Every worker waits on the one queue (no lock around it: a job wakes one
    // waiting worker, not a worker and then the lock's next holder).
    while let Ok(job) = queue.recv() {
        let io = job.io;
        let completion = run(shared, job.key, job.id, job.peer, job.request);
        if let Some(mailbox) = mailboxes.get(io) {
            mailbox.deliver_completion(completion);
        }
    }
}

/// Runs the processor over one request; never panics (a handler's panic
/// becomes an INTERNAL_ERROR exception, or a close when none can be sent).
pub(crate) fn run(
    shared: &Shared,
    key: usize,
    id: u64,
    peer: SocketAddr,
    request: Request,
) -> Completion {
    let message = request.bytes.get(request.start..request.end).unwrap_or(&[]);
    let done = |reply: Vec<u8>, verdict: Verdict| Completion {
        key,
        id,
        reply,
        verdict,
        request_charged: request.charged,
    };
    if shared.config.wire.transport == Transport::Header {
        let (reply, verdict) = run_header(shared, id, peer, message);
        return done(reply, verdict);
    }
    let framed = shared.config.wire.transport == Transport::Framed;
    let header = if framed { 4 } else { 0 };
    let mut reply = vec![0u8; header];
    let verdict = process(
        shared,
        &shared.config.wire,
        id,
        peer,
        message,
        None,
        &mut reply,
        header,
    );
    if reply.len() == header {
        reply.clear();
    } else if framed {
        match u32::try_from(reply.len() - header) {
            Ok(length) => reply[..4].copy_from_slice(&length.to_be_bytes()),
            Err(_) => {
                return done(
                    Vec::new(),
                    Verdict::Close(Some("the reply is too large for a frame".into())),
                )
            }
        }
    }
    done(reply, verdict)
}

/// One THeader frame (the bytes after its length): its message through the
/// processor in the frame's protocol, the reply in a frame of the same
/// protocol and transforms with the headers the handler set.
fn run_header(shared: &Shared, id: u64, peer: SocketAddr, frame: &[u8]) -> (Vec<u8>, Verdict) {
    let limits = shared.config.wire.limits;
    let (request_frame, message) = match split_header_frame(frame, limits.max_message_size) {
        Ok(read) => read,
        Err(e) => return (Vec::new(), Verdict::Close(Some(e.to_string()))),
    };
    if message.is_empty() {
        // C++ sends a frame with no message as it closes: nothing to answer.
        return (Vec::new(), Verdict::Continue);
    }
    let sequence = request_frame.sequence;
    let wire = WireConfig {
        protocol: request_frame
            .protocol
            .unwrap_or(HeaderProtocol::Binary)
            .into(),
        transport: Transport::Buffered,
        limits,
    };
    let exchange = HeaderExchange::for_request(request_frame);
    let mut reply_message = Vec::new();
    let verdict = process(
        shared,
        &wire,
        id,
        peer,
        &message,
        Some(exchange.clone()),
        &mut reply_message,
        0,
    );
    let mut reply = Vec::new();
    if !reply_message.is_empty() {
        let reply_frame = exchange.take_frame_to_write(sequence);
        if let Err(e) = write_header_frame(&reply_frame, &reply_message, &mut reply) {
            return (Vec::new(), Verdict::Close(Some(e.to_string())));
        }
    }
    (reply, verdict)
}

/// The processor over `message` in `wire`'s protocol, the reply appended to
/// `reply` after its first `header` bytes (room for a frame length).
#[allow(clippy::too_many_arguments)]
fn process(
    shared: &Shared,
    wire: &WireConfig,
    id: u64,
    peer: SocketAddr,
    message: &[u8],
    headers: Option<HeaderExchange>,
    reply: &mut Vec<u8>,
    header: usize,
) -> Verdict {
    let observer = RequestObserver::new();
    let request_id = headers
        .as_ref()
        .and_then(|h| h.received_header(REQUEST_ID_HEADER));
    let who = who(id, peer, request_id.as_deref());
    let result = {
        let input = wire.message_input(message);
        let output = wire.message_output(&mut *reply);
        let (input, mut output) = if shared.config.trace_wire {
            traced(input, output, &format!("conn#{id} {peer}"))
        } else {
            (input, output)
        };
        let mut input = ObservedInputProtocol::new(input, observer.clone());
        let processor = &shared.processor;
        let context = CallContext::new(id, peer, headers);
        panic::catch_unwind(AssertUnwindSafe(|| {
            CallContext::scope(context, || processor.process(&mut input, &mut *output))
        }))
    };
    match result {
        Err(payload) => {
            shared.stats.panics.fetch_add(1, Ordering::Relaxed);
            let message = panic_message(&*payload);
            // Whatever the processor wrote before it panicked is not sent.
            reply.truncate(header);
            let outcome = observer.take();
            let answered = {
                let mut output = wire.message_output(&mut *reply);
                answer_panic(&mut *output, &outcome, &message)
            };
            match answered {
                Ok(call) => {
                    warn!(
                        "{who}: call {call} failed, its handler panicked ({message}); \
                         answered with INTERNAL_ERROR"
                    );
                    Verdict::Continue
                }
                Err(why) => {
                    log::error!("{who}: the processor panicked: {message}; closing ({why})");
                    Verdict::Close(None)
                }
            }
        }
        Ok(result) => judge(shared, &who, result, observer.take()),
    }
}

/// What the processor's result and the observer's record mean for the
/// connection, as the blocking models judge them.
fn judge(
    shared: &Shared,
    who: &str,
    result: thrift::Result<()>,
    outcome: RequestOutcome,
) -> Verdict {
    let config = &shared.config;
    match (result, outcome) {
        (Ok(()), RequestOutcome::Complete { .. }) => {
            shared.stats.calls.fetch_add(1, Ordering::Relaxed);
            Verdict::Continue
        }
        (Ok(()), RequestOutcome::Failed { name, error }) => Verdict::CloseAfter(format!(
            "rejected call {}: {}",
            name.as_deref().unwrap_or("?"),
            explain(&error, config)
        )),
        (Ok(()), RequestOutcome::Unfinished { name }) => {
            // The message's end is known already: nothing to skip.
            info!("{who}: unknown method {name:?}: answered with an exception");
            Verdict::Continue
        }
        (Ok(()), RequestOutcome::NotStarted) => {
            Verdict::Close(Some("processor returned without reading a call".into()))
        }
        (Err(e), outcome) => {
            let call = outcome
                .name()
                .map_or(String::new(), |name| format!(" in call {name}"));
            Verdict::Close(Some(format!("{}{call}", explain(&e, config))))
        }
    }
}
