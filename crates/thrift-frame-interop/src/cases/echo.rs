//! `echo`: `output` returns `You said: <msg>` byte for byte, empty and
//! multi-byte UTF-8 strings up to 1 MiB included.

use super::data::DataCase;
use super::steps::Service;

pub(crate) const ECHO: DataCase = DataCase {
    service: Service::Ping,
    client_flags: &[
        "--call",
        "output",
        "--payload",
        "utf8",
        "--sizes",
        "0,7,1K,1M",
    ],
    calls: 4,
};
