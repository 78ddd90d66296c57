//! The client's reply reading: a generated client (as `ReconnectingClient`
//! builds it) on every protocol x transport, calling ping, output or put,
//! whose replies are the fuzz input (see `thrift_frame_fuzz::call_with_replies`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&selector, stream)) = data.split_first() {
        thrift_frame_fuzz::call_with_replies(selector, stream, std::io::sink());
    }
});
