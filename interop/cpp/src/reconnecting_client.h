// ping-client's reconnecting client for PingService and Serv (interop/SPEC.md,
// "Reconnect behaviour"), on the shared reconnecting::Connection: the whole
// stack is rebuilt after a transport error; ping/output are retried on the
// fresh connection, put never is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "reconnecting_connection.h"
#include "student_types.h"

namespace reconnecting {

class ReconnectingClient {
 public:
  explicit ReconnectingClient(Config config, BackoffPolicy policy = {});

  // Idempotent: retried on a fresh connection after a transport error.
  std::string ping(const std::string& msg);
  std::string output(const std::string& msg);
  // Never retried once sent: a transport error throws CallFailed ("outcome
  // unknown") and the next call opens a fresh connection. An idle connection
  // the server has already closed is replaced before put is sent.
  std::int32_t put(const thrift_frame::student::Student& s);

  // --transport header: info headers of every following call, and one of the
  // last call's reply (Connection::setCallHeaders, replyHeader).
  void setCallHeaders(std::map<std::string, std::string> headers) {
    conn_.setCallHeaders(std::move(headers));
  }
  std::optional<std::string> replyHeader(const std::string& key) const {
    return conn_.replyHeader(key);
  }

  // Fresh stacks opened to replace a discarded one, so far.
  std::uint64_t reconnects() const { return conn_.reconnects(); }
  const cli::Endpoint& endpoint() const { return conn_.endpoint(); }

 private:
  Connection conn_;
};

}  // namespace reconnecting
