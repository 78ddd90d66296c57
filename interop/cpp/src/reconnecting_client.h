// A Thrift client that survives a broken connection (interop/SPEC.md,
// "Reconnect behaviour").
//
// The whole stack (TSocket, buffered or framed transport, protocol, optional
// multiplexed protocols, generated clients) is built in one place, openStack().
// On a TTransportException the stack is thrown away, never re-opened; a fresh
// one is opened with exponential backoff and jitter. ping/output are retried
// on the fresh connection (at most BackoffPolicy::call_attempts attempts, so a
// server that accepts but never answers surfaces as a timeout error instead of
// stalling the caller for the whole budget); put never is. Application errors
// (a TApplicationException) pass through untouched and are never retried.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include <thrift/transport/TTransportException.h>

#include "cli.h"
#include "student_types.h"

namespace reconnecting {

struct Config {
  cli::Endpoint endpoint;
  cli::Protocol protocol = cli::Protocol::Compact;
  cli::Transport transport = cli::Transport::Buffered;
  bool multiplexed = false;
  int connect_timeout_ms = 2000;
  int timeout_ms = 2000;  // send and receive
  // Set by the caller's signal handler: stop backing off and fail the call.
  const volatile std::sig_atomic_t* stop = nullptr;
};

struct BackoffPolicy {
  std::chrono::milliseconds initial{10};
  double factor = 2.0;
  std::chrono::milliseconds max{200};
  std::chrono::milliseconds budget{30000};  // per call: give up reconnecting after this long
  int call_attempts = 3;  // attempts of an idempotent call, the first included
};

// A call that failed for a reason the caller should report as is: the
// reconnect budget or the call attempts ran out, or a put whose outcome is
// unknown.
struct CallFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ReconnectingClient {
 public:
  explicit ReconnectingClient(Config config, BackoffPolicy policy = {});
  ~ReconnectingClient();
  ReconnectingClient(const ReconnectingClient&) = delete;
  ReconnectingClient& operator=(const ReconnectingClient&) = delete;

  // Idempotent: retried on a fresh connection after a transport error.
  std::string ping(const std::string& msg);
  std::string output(const std::string& msg);
  // Never retried once sent: a transport error throws CallFailed ("outcome
  // unknown") and the next call opens a fresh connection. An idle connection
  // the server has already closed is replaced before put is sent.
  std::int32_t put(const thrift_frame::student::Student& s);

  // Fresh stacks opened to replace a discarded one, so far.
  std::uint64_t reconnects() const { return reconnects_; }
  const cli::Endpoint& endpoint() const { return config_.endpoint; }

 private:
  struct Stack;
  struct Episode;  // one call's attempts: deadline, next delay, failures

  std::unique_ptr<Stack> openStack() const;
  Episode startEpisode() const;
  void connect(Episode& ep);
  void pause(Episode& ep);
  void discard();  // orderly close: nothing of ours is in flight
  void abandon();  // abortive close (RST) after a failed call
  void discardIfClosedByPeer();
  std::string describe(const apache::thrift::transport::TTransportException& e) const;
  template <typename Call>
  std::string idempotent(const char* what, Call call);
  void log(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

  Config config_;
  BackoffPolicy policy_;
  std::unique_ptr<Stack> stack_;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace reconnecting
