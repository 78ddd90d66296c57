// One line per call on stdout: JSON (--json) or human-readable (SPEC.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace report {

struct CallResult {
  std::string endpoint;  // host:port
  std::uint64_t round = 0;
  std::string call;  // ping, output or put
  std::size_t size = 0;  // payload bytes (put: bytes of sname)
  std::int64_t latency_ns = 0;
  // CPU time (user + system, every thread) of this process over the same
  // span as latency_ns.
  std::int64_t cpu_ns = 0;
  bool ok = false;
  std::string error;  // when !ok
  std::uint64_t reconnects = 0;
  // --transport header only: the x-request-id sent, and whether the reply
  // carried the same one back.
  std::optional<std::string> request_id;
  bool request_id_echoed = false;
};

// A JSON string literal. Non-ASCII is written as \u escapes, so the output is
// ASCII and stays valid JSON even for bytes that are not valid UTF-8 (U+FFFD).
std::string jsonString(const std::string& s);

std::string jsonLine(const CallResult& r);   // {"endpoint":...}\n
std::string humanLine(const CallResult& r);  // one readable line\n

}  // namespace report
