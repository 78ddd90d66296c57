// Service implementations (interop/SPEC.md, idl/*.thrift).
#pragma once

#include <cstdint>
#include <string>

#include "PingService.h"
#include "Serv.h"

namespace handlers {

// ping(msg) -> "receive len: N" (N = UTF-8 byte length); output(msg) -> "You said: <msg>".
class PingHandler : public thrift_frame::ping::PingServiceIf {
 public:
  void ping(std::string& reply, const std::string& msg) override;
  void output(std::string& reply, const std::string& msg) override;
};

// put(s) -> s.sno
class StudentHandler : public thrift_frame::student::ServIf {
 public:
  std::int32_t put(const thrift_frame::student::Student& s) override;
};

}  // namespace handlers
