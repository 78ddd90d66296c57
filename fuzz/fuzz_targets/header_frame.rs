//! The THeader frame reader (`read_header_frame`) on any bytes: never a
//! panic, never an allocation past the frame or the message limit, and a
//! frame it accepts writes back into one that reads the same (see
//! `thrift_frame_fuzz::check_header_frame`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    thrift_frame_fuzz::check_header_frame(data);
});
