//! What a handler can know about the call it is running, and say back:
//! the connection it came on and, over the header transport, the request's
//! info headers and the reply's.
//!
//! Generated processors pass a handler only the call's arguments, so the
//! server puts the context where the handler's thread can find it for the
//! length of the call: [`CallContext::current`].

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use thrift_frame_wire::{HeaderExchange, DEADLINE_HEADER, REQUEST_ID_HEADER};

thread_local! {
    static CURRENT: RefCell<Option<CallContext>> = const { RefCell::new(None) };
}

/// The call a handler is running.
///
/// ```
/// use thrift_frame_server::CallContext;
///
/// // Inside a handler method:
/// fn handle_ping(msg: String) -> thrift::Result<String> {
///     if let Some(call) = CallContext::current() {
///         if let Some(id) = call.request_id() {
///             log::info!("{}: ping from {}", id, call.peer());
///             call.set_response_header("x-request-id", id); // echoed back
///         }
///     }
///     Ok(format!("receive len: {}", msg.len()))
/// }
/// // Outside a call there is no context.
/// assert!(CallContext::current().is_none());
/// # handle_ping("x".into()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct CallContext {
    connection: u64,
    peer: SocketAddr,
    headers: Option<HeaderExchange>,
}

impl CallContext {
    pub(crate) fn new(connection: u64, peer: SocketAddr, headers: Option<HeaderExchange>) -> Self {
        CallContext {
            connection,
            peer,
            headers,
        }
    }

    /// The context of the call this thread is running, if it is running
    /// one for the server.
    pub fn current() -> Option<CallContext> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Runs `f` with `context` as the current call (restored after, also
    /// when `f` panics).
    pub(crate) fn scope<T>(context: CallContext, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<CallContext>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(context));
        let _restore = Restore(previous);
        f()
    }

    /// The connection's number, as the server's log lines give it (`conn#N`).
    pub fn connection(&self) -> u64 {
        self.connection
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The request's info header `key` (header transport only).
    pub fn header(&self, key: &str) -> Option<String> {
        self.headers.as_ref()?.received_header(key)
    }

    /// Every info header of the request, in the order they came (empty but
    /// over the header transport).
    pub fn headers(&self) -> Vec<(String, String)> {
        self.headers
            .as_ref()
            .map(HeaderExchange::received_headers)
            .unwrap_or_default()
    }

    /// The request's `x-request-id`.
    pub fn request_id(&self) -> Option<String> {
        self.header(REQUEST_ID_HEADER)
    }

    /// When the caller stops waiting: the request's arrival plus its
    /// `x-deadline-ms` (None without one, or when it is not a number).
    pub fn deadline(&self) -> Option<Instant> {
        let headers = self.headers.as_ref()?;
        let millis: u64 = headers
            .received_header(DEADLINE_HEADER)?
            .trim()
            .parse()
            .ok()?;
        Some(headers.received_at()? + Duration::from_millis(millis))
    }

    /// Sends `key: value` with this call's reply (header transport only;
    /// returns false, and does nothing, when the request came another way).
    /// A later value of the same key replaces an earlier one.
    pub fn set_response_header(&self, key: impl Into<String>, value: impl Into<String>) -> bool {
        match &self.headers {
            // An `auto` connection has an exchange whatever its client
            // speaks; only a THeader client's has read a frame.
            Some(headers) if headers.received_at().is_some() => {
                headers.set_header(key, value);
                true
            }
            _ => false,
        }
    }
}
