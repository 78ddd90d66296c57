//! `MessageBoundary`, which the non-blocking server uses to find where an
//! unframed binary or compact request ends, on any bytes: fed in chunks it
//! answers as it does on the whole input, and where it finds an end, the
//! thrift crate's reader never needs a byte past it (see
//! `thrift_frame_fuzz::check_boundary`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&selector, stream)) = data.split_first() {
        thrift_frame_fuzz::check_boundary(selector, stream);
    }
});
