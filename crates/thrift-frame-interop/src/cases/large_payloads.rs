//! `large_payloads`: 128 KiB to 1 MiB cross every protocol, transport and
//! server model intact, in one connection.

use super::data::DataCase;
use super::steps::Service;

pub(crate) const LARGE_PAYLOADS: DataCase = DataCase {
    service: Service::Ping,
    client_flags: &["--sizes", "128K,256K,512K,1M"],
    calls: 4,
};
