// The service-independent core of a Thrift client that survives a broken
// connection (interop/SPEC.md, "Reconnect behaviour" and the ThriftTest
// client's reconnect rules), shared by ping-client and thrifttest-client.
//
// The whole stack (TSocket, buffered, framed, zlib or HTTP transport,
// protocol, or THeaderProtocol with its own THeaderTransport, the generated
// clients a ClientFactory builds on it, multiplexed or not) is built in one
// place, openStack(). On a TTransportException the stack is thrown
// away, never re-opened; a fresh one is opened with exponential backoff and
// jitter. idempotent() calls are retried on the fresh connection (at most
// BackoffPolicy::call_attempts attempts, so a server that accepts but never
// answers surfaces as a timeout error instead of stalling the caller for the
// whole budget); once() calls never are. Application errors (a
// TApplicationException) pass through untouched and are never retried.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TTransportException.h>

#include "cli.h"

namespace apache::thrift::transport {
class TSocket;
}

namespace reconnecting {

struct Config {
  cli::Endpoint endpoint;
  cli::Protocol protocol = cli::Protocol::Compact;
  cli::Transport transport = cli::Transport::Buffered;
  bool multiplexed = false;  // passed to the ClientFactory
  int connect_timeout_ms = 2000;
  int timeout_ms = 2000;  // send and receive
  // Set by the caller's signal handler: stop backing off and fail the call.
  const volatile std::sig_atomic_t* stop = nullptr;
  const char* log_prefix = "ping-client";
};

struct BackoffPolicy {
  std::chrono::milliseconds initial{10};
  double factor = 2.0;
  std::chrono::milliseconds max{200};
  std::chrono::milliseconds budget{30000};  // per call: give up reconnecting after this long
  int call_attempts = 3;  // attempts of an idempotent call, the first included
};

// A call that failed for a reason the caller should report as is: the
// reconnect budget or the call attempts ran out.
struct CallFailed : std::runtime_error {
  CallFailed(const std::string& what, bool timed_out_ = false)
      : std::runtime_error(what), timed_out(timed_out_) {}
  bool timed_out;  // the last failure was a timeout
};

// A once() call whose request may or may not have reached the server: its
// connection broke after the send started. what() is the transport error.
struct OutcomeUnknown : CallFailed {
  using CallFailed::CallFailed;
};

class Connection {
 public:
  using ProtocolPtr = std::shared_ptr<apache::thrift::protocol::TProtocol>;
  // Builds one stack's generated clients on its protocol (wrapping it in
  // TMultiplexedProtocol itself when multiplexed).
  using ClientFactory = std::function<std::shared_ptr<void>(const ProtocolPtr&, bool multiplexed)>;

  Connection(Config config, BackoffPolicy policy, ClientFactory factory);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // call(void* clients) -> R, retried on a fresh connection after a
  // transport error; CallFailed once the attempts or the budget run out.
  template <typename Call>
  auto idempotent(const char* what, Call call) -> decltype(call(nullptr));
  // call(void* clients), never retried once sent: a transport error throws
  // OutcomeUnknown and the next call opens a fresh connection. An idle
  // connection the server has already closed is replaced first.
  template <typename Call>
  auto once(const char* what, Call call) -> decltype(call(nullptr));

  // Opens a connection now unless one is open (backing off; CallFailed when
  // the budget runs out).
  void open();
  // Orderly close: nothing of ours is in flight.
  void close();

  // --transport header only (elsewhere no-ops): info headers sent with every
  // request from now on, each attempt included; and an info header of the
  // reply to the last call, if that call read one.
  void setCallHeaders(std::map<std::string, std::string> headers);
  std::optional<std::string> replyHeader(const std::string& key) const;

  // Fresh stacks opened to replace a discarded one, so far.
  std::uint64_t reconnects() const { return reconnects_; }
  const cli::Endpoint& endpoint() const { return config_.endpoint; }
  void log(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

 private:
  struct Stack;
  struct Episode {  // one call's attempts: deadline, next delay, failures
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds delay{0};
    int attempts = 0;  // connection attempts
    int failures = 0;  // failed connects and calls
    std::string last_error;
    bool last_timed_out = false;
  };

  std::unique_ptr<Stack> openStack() const;
  Episode startEpisode() const;
  void connect(Episode& ep);
  void pause(Episode& ep);
  void abandon();  // abortive close (RST) after a failed call
  void discardIfClosedByPeer();
  void beforeCall();  // header: this call's info headers, no stale reply headers
  void* clients() const;
  void noteCallFailure(Episode& ep, const apache::thrift::transport::TTransportException& e);
  std::string describe(const apache::thrift::transport::TTransportException& e) const;

  Config config_;
  BackoffPolicy policy_;
  ClientFactory factory_;
  std::unique_ptr<Stack> stack_;
  std::map<std::string, std::string> call_headers_;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
  std::mt19937_64 rng_;
};

template <typename Call>
auto Connection::idempotent(const char* what, Call call) -> decltype(call(nullptr)) {
  Episode ep = startEpisode();
  for (int attempt = 1;; ++attempt) {
    connect(ep);
    try {
      beforeCall();
      return call(clients());
    } catch (const apache::thrift::transport::TTransportException& e) {
      noteCallFailure(ep, e);
      if (attempt >= policy_.call_attempts)
        throw CallFailed(std::string(what) + " failed after " + std::to_string(attempt) +
                             " attempt(s): " + ep.last_error,
                         ep.last_timed_out);
      log("%s failed: %s; discarding the connection, retrying (attempt %d of %d)", what,
          ep.last_error.c_str(), attempt + 1, policy_.call_attempts);
    } catch (const apache::thrift::TApplicationException&) {
      throw;  // the server answered; the connection is still in step
    } catch (...) {
      abandon();  // protocol error or similar: the stream is out of step
      throw;
    }
  }
}

template <typename Call>
auto Connection::once(const char* what, Call call) -> decltype(call(nullptr)) {
  discardIfClosedByPeer();
  Episode ep = startEpisode();
  connect(ep);  // nothing sent yet: connecting may be retried
  try {
    beforeCall();
    return call(clients());
  } catch (const apache::thrift::transport::TTransportException& e) {
    noteCallFailure(ep, e);
    log("%s failed: %s; discarding the connection, not retrying %s", what,
        ep.last_error.c_str(), what);
    throw OutcomeUnknown(ep.last_error, ep.last_timed_out);
  } catch (const apache::thrift::TApplicationException&) {
    throw;
  } catch (...) {
    abandon();
    throw;
  }
}

}  // namespace reconnecting
