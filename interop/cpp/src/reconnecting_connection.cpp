#include "reconnecting_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <thread>
#include <utility>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/protocol/TJSONProtocol.h>
#include <thrift/protocol/TProtocolTypes.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/THttpClient.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TZlibTransport.h>

namespace reconnecting {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TCompactProtocol;
using apache::thrift::protocol::THeaderProtocol;
using apache::thrift::protocol::TJSONProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::THttpClient;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;
using apache::thrift::transport::TZlibTransport;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::uint32_t kBufferedTransportBytes = 64 * 1024;

// The HTTP Host header: the host as given, IPv6 literals in brackets
// (RFC 9110, 7.2). THttpClient sends no port.
std::string hostHeader(const cli::Endpoint& e) {
  if (e.host.find(':') != std::string::npos) return "[" + e.host + "]";
  return e.host;
}

std::shared_ptr<TProtocol> makeProtocol(cli::Protocol p, const std::shared_ptr<TTransport>& t) {
  switch (p) {
    case cli::Protocol::Binary: return std::make_shared<TBinaryProtocol>(t, 0, 0, true, true);
    case cli::Protocol::Json: return std::make_shared<TJSONProtocol>(t);
    case cli::Protocol::Compact: break;
  }
  return std::make_shared<TCompactProtocol>(t);
}
}  // namespace

struct Connection::Stack {
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TTransport> transport;
  std::shared_ptr<TProtocol> protocol;
  std::shared_ptr<THeaderProtocol> header;  // = protocol, for --transport header
  std::shared_ptr<void> clients;  // the generated clients, from the ClientFactory

  // Close the socket, not the transport: TBufferedTransport/TFramedTransport
  // close() first flushes, which would push a half-written request into a
  // broken (or frozen) connection and may block for the send timeout.
  // (TZlibTransport's destructor discards what was written and not flushed;
  // THttpClient's close() only closes the socket, its destructor frees the
  // unsent request; THeaderTransport's close() flushes too, and sends a frame
  // even when nothing was written.)
  ~Stack() {
    clients.reset();
    socket->close();
  }
};

Connection::Connection(Config config, BackoffPolicy policy, ClientFactory factory)
    : config_(std::move(config)),
      policy_(policy),
      factory_(std::move(factory)),
      rng_(std::random_device{}()) {}

Connection::~Connection() = default;

void* Connection::clients() const { return stack_->clients.get(); }

// The one place that builds a connection: socket, transport, protocol(s),
// generated clients. Throws TTransportException when it cannot connect.
std::unique_ptr<Connection::Stack> Connection::openStack() const {
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
  switch (config_.transport) {
    case cli::Transport::Framed:
      s->transport = std::make_shared<TFramedTransport>(s->socket);
      break;
    case cli::Transport::Zlib:
      // Straight on the socket, the library's buffer sizes and
      // Z_DEFAULT_COMPRESSION; flush() ends every message with Z_FULL_FLUSH.
      s->transport = std::make_shared<TZlibTransport>(s->socket);
      break;
    case cli::Transport::Http:
      // Straight on the socket: every flush() sends one "POST / HTTP/1.1"
      // (Host: the --host, Content-Type: application/x-thrift,
      // Content-Length) on this keep-alive connection; a reply is read from
      // the response body. A fresh stack is a fresh socket and THttpClient.
      s->transport = std::make_shared<THttpClient>(s->socket, hostHeader(config_.endpoint), "/");
      break;
    case cli::Transport::Header:
      // THeaderProtocol puts its own THeaderTransport on the socket: every
      // flush() is one THeader frame with the --protocol id, no transform and
      // the write headers, which it then forgets (beforeCall() sets them).
      s->header = std::make_shared<THeaderProtocol>(
          s->socket, config_.protocol == cli::Protocol::Binary
                         ? apache::thrift::protocol::T_BINARY_PROTOCOL
                         : apache::thrift::protocol::T_COMPACT_PROTOCOL);
      s->transport = s->header->getTransport();
      break;
    case cli::Transport::Buffered:
      s->transport = std::make_shared<TBufferedTransport>(s->socket, kBufferedTransportBytes,
                                                          kBufferedTransportBytes);
      break;
  }
  s->protocol = s->header ? s->header : makeProtocol(config_.protocol, s->transport);
  s->clients = factory_(s->protocol, config_.multiplexed);
  s->transport->open();
  return s;
}

Connection::Episode Connection::startEpisode() const {
  Episode ep;
  ep.deadline = Clock::now() + policy_.budget;
  ep.delay = policy_.initial;
  return ep;
}

// Sleeps the next backoff step (jittered to [delay/2, delay], never past the
// deadline), or throws CallFailed once the budget is spent or a stop was asked.
void Connection::pause(Episode& ep) {
  auto now = Clock::now();
  if (config_.stop && *config_.stop)
    throw CallFailed("stopped by a signal while reconnecting: " + ep.last_error);
  if (now >= ep.deadline) {
    throw CallFailed("could not connect to " + config_.endpoint.str() + " after " +
                         std::to_string(ep.attempts) + " attempts in " +
                         std::to_string(policy_.budget.count()) + " ms: " + ep.last_error,
                     ep.last_timed_out);
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
void Connection::connect(Episode& ep) {
  while (!stack_) {
    if (ep.failures > 0) pause(ep);
    const char* kind = ever_connected_ ? "reconnect" : "connect";
    ++ep.attempts;
    try {
      stack_ = openStack();
    } catch (const TTransportException& e) {
      ++ep.failures;
      ep.last_error = describe(e);
      ep.last_timed_out = false;  // a connect timeout is not a call timeout
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

void Connection::open() {
  Episode ep = startEpisode();
  connect(ep);
}

void Connection::close() { stack_.reset(); }

void Connection::setCallHeaders(std::map<std::string, std::string> headers) {
  call_headers_ = std::move(headers);
}

std::optional<std::string> Connection::replyHeader(const std::string& key) const {
  if (!stack_ || !stack_->header) return std::nullopt;
  const auto& headers = stack_->header->getHeaders();
  auto it = headers.find(key);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

// THeaderTransport forgets its write headers once a flush has sent them, so
// they are set again for every attempt. Its read headers are replaced by each
// THeader frame it reads (with an empty map when the frame has none), but a
// framed or unframed reply leaves the previous reply's in place: cleared here,
// through the only access 0.17 gives (a const reference to its own map), so
// replyHeader() never reports an earlier reply's.
void Connection::beforeCall() {
  if (!stack_->header) return;
  stack_->header->clearHeaders();
  for (const auto& [key, value] : call_headers_) stack_->header->setHeader(key, value);
  const_cast<THeaderProtocol::StringToStringMap&>(stack_->header->getHeaders()).clear();
}

// After a failed call the request may still sit unsent in the kernel's send
// queue; an ordinary close would keep retransmitting it, so a call reported
// as "outcome unknown" could reach a restarted (or reachable-again) server
// seconds later, after newer calls. SO_LINGER {on, 0 s} makes close discard
// those bytes and send RST instead.
void Connection::abandon() {
  if (stack_) stack_->socket->setLinger(true, 0);
  close();
}

void Connection::noteCallFailure(Episode& ep, const TTransportException& e) {
  abandon();
  ++ep.failures;
  ep.last_error = describe(e);
  ep.last_timed_out = e.getType() == TTransportException::TIMED_OUT;
}

// A server that closed an idle connection (restart, idle timeout) leaves the
// socket readable at EOF. Checking before a call that is never retried keeps
// a call that was never delivered from being reported as "outcome unknown".
void Connection::discardIfClosedByPeer() {
  if (!stack_) return;
  char byte;
  ssize_t n = ::recv(stack_->socket->getSocketFD(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // idle and healthy
  // n == 0: orderly close; n > 0: bytes nobody asked for; else: reset.
  log("the server closed the idle connection; opening a new one");
  close();
}

// Thrift's messages name the syscall, not the situation; say which limit hit.
std::string Connection::describe(const TTransportException& e) const {
  switch (e.getType()) {
    case TTransportException::TIMED_OUT:
      return "timed out: no progress within --timeout-ms " +
             std::to_string(config_.timeout_ms) + " ms (" + e.what() + ")";
    case TTransportException::END_OF_FILE:
      return std::string("connection closed by the server (") + e.what() + ")";
    case TTransportException::NOT_OPEN:  // TSocket::open(): refused, unreachable, timed out
      // TSocket::write() throws NOT_OPEN too, for EPIPE/ECONNRESET/ENOTCONN:
      // a request written into a connection the server had closed (an
      // HTTP/1.0 server closes after every response).
      if (std::string_view(e.what()).rfind("write()", 0) == 0)
        return std::string("connection closed by the server before the request was sent (") +
               e.what() + ")";
      if (std::string_view(e.what()).find("timed out") != std::string_view::npos)
        return "connect timed out after --connect-timeout-ms " +
               std::to_string(config_.connect_timeout_ms) + " ms";
      return std::string("cannot connect: ") + e.what();
    default:
      return e.what();
  }
}

void Connection::log(const char* fmt, ...) const {
  char msg[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, args);
  va_end(args);
  std::fprintf(stderr, "%s: %s: %s\n", config_.log_prefix, config_.endpoint.str().c_str(), msg);
}

}  // namespace reconnecting
