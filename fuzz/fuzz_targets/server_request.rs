//! The server's request reading: any bytes a peer may send, on every
//! protocol x transport, into PingService, Serv and the multiplexed
//! processor, through the wire layer's limits and the connection loop's
//! handling of each request (see `thrift_frame_fuzz::serve`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&selector, stream)) = data.split_first() {
        thrift_frame_fuzz::serve(selector, stream, std::io::sink());
    }
});
