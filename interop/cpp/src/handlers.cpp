#include "handlers.h"

namespace handlers {

// std::string::size() counts bytes, which is what the contract asks for.
void PingHandler::ping(std::string& reply, const std::string& msg) {
  reply = "receive len: " + std::to_string(msg.size());
}

void PingHandler::output(std::string& reply, const std::string& msg) {
  reply.reserve(10 + msg.size());
  reply = "You said: ";
  reply += msg;
}

std::int32_t StudentHandler::put(const thrift_frame::student::Student& s) { return s.sno; }

}  // namespace handlers
