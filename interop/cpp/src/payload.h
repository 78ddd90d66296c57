// What the client sends: ping/output payloads and put's Students (SPEC.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "cli.h"
#include "student_types.h"

namespace payload {

// Exactly `bytes` bytes: random [A-Za-z0-9], or valid UTF-8 mixing 1-, 2-, 3-
// and 4-byte characters.
std::string make(cli::Payload kind, std::size_t bytes, std::mt19937_64& rng);

// sno as given, sname "student-<sno>" (multi-byte UTF-8 appended when sno is
// a multiple of 3), ssex alternating, sage = sno % 100.
thrift_frame::student::Student student(std::int32_t sno);

}  // namespace payload
