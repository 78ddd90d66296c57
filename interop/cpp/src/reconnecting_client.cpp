#include "reconnecting_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <thread>
#include <utility>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "PingService.h"
#include "Serv.h"

namespace reconnecting {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TCompactProtocol;
using apache::thrift::protocol::TMultiplexedProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::uint32_t kBufferedTransportBytes = 64 * 1024;
}

struct ReconnectingClient::Stack {
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TTransport> transport;
  std::shared_ptr<TProtocol> protocol;
  std::unique_ptr<thrift_frame::ping::PingServiceClient> ping;
  std::unique_ptr<thrift_frame::student::ServClient> serv;

  // Close the socket, not the transport: TBufferedTransport/TFramedTransport
  // close() first flushes, which would push a half-written request into a
  // broken (or frozen) connection and may block for the send timeout.
  ~Stack() { socket->close(); }
};

struct ReconnectingClient::Episode {
  Clock::time_point deadline;
  std::chrono::milliseconds delay;
  int attempts = 0;  // connection attempts
  int failures = 0;  // failed connects and calls
  std::string last_error;
};

ReconnectingClient::ReconnectingClient(Config config, BackoffPolicy policy)
    : config_(std::move(config)), policy_(policy), rng_(std::random_device{}()) {}

ReconnectingClient::~ReconnectingClient() = default;

// The one place that builds a connection: socket, transport, protocol(s),
// generated clients. Throws TTransportException when it cannot connect.
std::unique_ptr<ReconnectingClient::Stack> ReconnectingClient::openStack() const {
  auto s = std::make_unique<Stack>();
  s->socket = std::make_shared<TSocket>(config_.endpoint.host, config_.endpoint.port);
  s->socket->setConnTimeout(config_.connect_timeout_ms);
  s->socket->setRecvTimeout(config_.timeout_ms);
  s->socket->setSendTimeout(config_.timeout_ms);
  s->socket->setNoDelay(true);
  // libthrift's TSocket turns SO_LINGER {on, 0 s} on by default, which makes
  // every close, even the orderly one after the last reply, an RST. Linger is
  // turned on only when a connection is abandoned (abandon()).
  s->socket->setLinger(false, 0);
  if (config_.transport == cli::Transport::Framed) {
    s->transport = std::make_shared<TFramedTransport>(s->socket);
  } else {
    s->transport = std::make_shared<TBufferedTransport>(s->socket, kBufferedTransportBytes,
                                                        kBufferedTransportBytes);
  }
  if (config_.protocol == cli::Protocol::Binary) {
    s->protocol = std::make_shared<TBinaryProtocol>(s->transport, 0, 0, true, true);
  } else {
    s->protocol = std::make_shared<TCompactProtocol>(s->transport);
  }
  std::shared_ptr<TProtocol> ping_protocol = s->protocol;
  std::shared_ptr<TProtocol> serv_protocol = s->protocol;
  if (config_.multiplexed) {
    ping_protocol = std::make_shared<TMultiplexedProtocol>(s->protocol, "PingService");
    serv_protocol = std::make_shared<TMultiplexedProtocol>(s->protocol, "Serv");
  }
  s->ping = std::make_unique<thrift_frame::ping::PingServiceClient>(ping_protocol);
  s->serv = std::make_unique<thrift_frame::student::ServClient>(serv_protocol);
  s->transport->open();
  return s;
}

ReconnectingClient::Episode ReconnectingClient::startEpisode() const {
  Episode ep;
  ep.deadline = Clock::now() + policy_.budget;
  ep.delay = policy_.initial;
  return ep;
}

// Sleeps the next backoff step (jittered to [delay/2, delay], never past the
// deadline), or throws CallFailed once the budget is spent or a stop was asked.
void ReconnectingClient::pause(Episode& ep) {
  auto now = Clock::now();
  if (config_.stop && *config_.stop)
    throw CallFailed("stopped by a signal while reconnecting: " + ep.last_error);
  if (now >= ep.deadline) {
    throw CallFailed("could not connect to " + config_.endpoint.str() + " after " +
                     std::to_string(ep.attempts) + " attempts in " +
                     std::to_string(policy_.budget.count()) + " ms: " + ep.last_error);
  }
  auto half = ep.delay.count() / 2;
  std::chrono::milliseconds sleep{half + std::uniform_int_distribution<long long>(
                                             0, ep.delay.count() - half)(rng_)};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ep.deadline - now);
  std::this_thread::sleep_for(std::min(sleep, left));
  auto next = std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(ep.delay.count()) * policy_.factor));
  ep.delay = std::min(next, policy_.max);
}

// Opens a fresh stack unless one is open, backing off after every failure.
void ReconnectingClient::connect(Episode& ep) {
  while (!stack_) {
    if (ep.failures > 0) pause(ep);
    const char* kind = ever_connected_ ? "reconnect" : "connect";
    ++ep.attempts;
    try {
      stack_ = openStack();
    } catch (const TTransportException& e) {
      ++ep.failures;
      ep.last_error = describe(e);
      log("%s attempt %d failed: %s", kind, ep.attempts, ep.last_error.c_str());
      continue;
    }
    if (ever_connected_) {
      ++reconnects_;
      log("reconnect attempt %d: connected (reconnects %llu)", ep.attempts,
          static_cast<unsigned long long>(reconnects_));
    } else if (ep.attempts > 1) {
      log("connect attempt %d: connected", ep.attempts);
    }
    ever_connected_ = true;
  }
}

void ReconnectingClient::discard() { stack_.reset(); }

// After a failed call the request may still sit unsent in the kernel's send
// queue; an ordinary close would keep retransmitting it, so a put reported as
// "outcome unknown" could reach a restarted (or reachable-again) server
// seconds later, after newer calls. SO_LINGER {on, 0 s} makes close discard
// those bytes and send RST instead.
void ReconnectingClient::abandon() {
  if (stack_) stack_->socket->setLinger(true, 0);
  discard();
}

// A server that closed an idle connection (restart, idle timeout) leaves the
// socket readable at EOF. Checking before put keeps a call that was never
// delivered from being reported as "outcome unknown".
void ReconnectingClient::discardIfClosedByPeer() {
  if (!stack_) return;
  char byte;
  ssize_t n = ::recv(stack_->socket->getSocketFD(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // idle and healthy
  // n == 0: orderly close; n > 0: bytes nobody asked for; else: reset.
  log("the server closed the idle connection; opening a new one");
  discard();
}

// Thrift's messages name the syscall, not the situation; say which limit hit.
std::string ReconnectingClient::describe(const TTransportException& e) const {
  switch (e.getType()) {
    case TTransportException::TIMED_OUT:
      return "timed out: no progress within --timeout-ms " +
             std::to_string(config_.timeout_ms) + " ms (" + e.what() + ")";
    case TTransportException::END_OF_FILE:
      return std::string("connection closed by the server (") + e.what() + ")";
    case TTransportException::NOT_OPEN:  // TSocket::open(): refused, unreachable, timed out
      if (std::string_view(e.what()).find("timed out") != std::string_view::npos)
        return "connect timed out after --connect-timeout-ms " +
               std::to_string(config_.connect_timeout_ms) + " ms";
      return std::string("cannot connect: ") + e.what();
    default:
      return e.what();
  }
}

template <typename Call>
std::string ReconnectingClient::idempotent(const char* what, Call call) {
  Episode ep = startEpisode();
  for (int attempt = 1;; ++attempt) {
    connect(ep);
    try {
      return call(*stack_);
    } catch (const TTransportException& e) {
      abandon();
      ++ep.failures;
      ep.last_error = describe(e);
      if (attempt >= policy_.call_attempts)
        throw CallFailed(std::string(what) + " failed after " + std::to_string(attempt) +
                         " attempt(s): " + ep.last_error);
      log("%s failed: %s; discarding the connection, retrying (attempt %d of %d)", what,
          ep.last_error.c_str(), attempt + 1, policy_.call_attempts);
    } catch (const TApplicationException&) {
      throw;  // the server answered; the connection is still in step
    } catch (...) {
      abandon();  // protocol error or similar: the stream is out of step
      throw;
    }
  }
}

std::string ReconnectingClient::ping(const std::string& msg) {
  return idempotent("ping", [&](Stack& s) {
    std::string reply;
    s.ping->ping(reply, msg);
    return reply;
  });
}

std::string ReconnectingClient::output(const std::string& msg) {
  return idempotent("output", [&](Stack& s) {
    std::string reply;
    s.ping->output(reply, msg);
    return reply;
  });
}

std::int32_t ReconnectingClient::put(const thrift_frame::student::Student& student) {
  discardIfClosedByPeer();
  Episode ep = startEpisode();
  connect(ep);  // nothing sent yet: connecting may be retried
  try {
    return stack_->serv->put(student);
  } catch (const TTransportException& e) {
    abandon();
    std::string why = describe(e);
    log("put failed: %s; discarding the connection, not retrying put", why.c_str());
    throw CallFailed("put outcome unknown: the connection broke mid-call and put is never "
                     "retried (" + why + ")");
  } catch (const TApplicationException&) {
    throw;
  } catch (...) {
    abandon();
    throw;
  }
}

void ReconnectingClient::log(const char* fmt, ...) const {
  char msg[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  std::fprintf(stderr, "ping-client: %s: %s\n", config_.endpoint.str().c_str(), msg);
}

}  // namespace reconnecting
