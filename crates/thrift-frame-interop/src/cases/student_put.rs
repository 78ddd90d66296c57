//! `student_put`: `Serv.put` with structs whose fields vary per call
//! returns each `sno`.

use super::data::DataCase;
use super::steps::Service;

pub(crate) const STUDENT_PUT: DataCase = DataCase {
    service: Service::Student,
    client_flags: &["--service", "student", "--rounds", "100"],
    calls: 100,
};
