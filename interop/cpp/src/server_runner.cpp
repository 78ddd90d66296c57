// The server process shared by ping-server and thrifttest-server: one of four
// Thrift server models around a processor, "LISTENING <port>" on stdout,
// SIGTERM/SIGINT -> stop, exit 0.
#include "server_runner.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <thrift/TProcessor.h>
#include <thrift/Thrift.h>
#include <thrift/concurrency/ThreadFactory.h>
#include <thrift/concurrency/ThreadManager.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/protocol/TJSONProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/server/TSimpleServer.h>
#include <thrift/server/TThreadPoolServer.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/THttpServer.h>
#include <thrift/transport/TNonblockingServerSocket.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TZlibTransport.h>


namespace server_runner {
namespace {

using apache::thrift::TException;
using apache::thrift::TProcessor;
using apache::thrift::concurrency::ThreadFactory;
using apache::thrift::concurrency::ThreadManager;
using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::protocol::TCompactProtocolFactory;
using apache::thrift::protocol::THeaderProtocolFactory;
using apache::thrift::protocol::TJSONProtocolFactory;
using apache::thrift::protocol::TProtocolFactory;
using apache::thrift::server::TNonblockingServer;
using apache::thrift::server::TServer;
using apache::thrift::server::TServerEventHandler;
using apache::thrift::server::TSimpleServer;
using apache::thrift::server::TThreadedServer;
using apache::thrift::server::TThreadPoolServer;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransportFactory;
using apache::thrift::transport::THttpServerTransportFactory;
using apache::thrift::transport::TNonblockingServerSocket;
using apache::thrift::transport::TServerSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportFactory;
using apache::thrift::transport::TZlibTransportFactory;

constexpr std::uint32_t kBufferedTransportBytes = 64 * 1024;

const char* g_prog = "server";  // log prefix, set by run()

// Life cycle shared by main (serve), the preServe hook and the signal thread.
class ServerState {
 public:
  void markServing() {
    std::lock_guard<std::mutex> lock(mu_);
    serving_ = true;
    cv_.notify_all();
  }
  void markFinished() {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }
  bool finished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }
  bool stopRequested() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_requested_;
  }
  // Records the stop request and waits until stop() can take effect: a
  // TServer::stop() issued before serve() has its socket listening (or its
  // event loop set up) is lost. Returns false when serve() already ended.
  bool requestStop() {
    std::unique_lock<std::mutex> lock(mu_);
    stop_requested_ = true;
    cv_.wait(lock, [this] { return serving_ || finished_; });
    return !finished_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool serving_ = false;
  bool finished_ = false;
  bool stop_requested_ = false;
};

// preServe runs once the server transport listens: announce the real port.
class ListeningAnnouncer : public TServerEventHandler {
 public:
  ListeningAnnouncer(std::function<int()> port, ServerState& state)
      : port_(std::move(port)), state_(state) {}
  void preServe() override {
    std::printf("LISTENING %d\n", port_());
    std::fflush(stdout);
    state_.markServing();
  }

 private:
  std::function<int()> port_;
  ServerState& state_;
};

// TCP_NODELAY on every accepted socket. Both server sockets set it on the
// listening socket only (Linux copies it to accepted ones, other systems need
// not), and TNonblockingServer never calls TSocket::setNoDelay.
void setNoDelay(THRIFT_SOCKET fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
    std::fprintf(stderr, "%s: setsockopt(TCP_NODELAY): %s\n", g_prog, std::strerror(errno));
}

// The library's TBufferedTransportFactory uses 512-byte buffers, which turns a
// 1 MiB message into thousands of reads.
class LargeBufferedTransportFactory : public TTransportFactory {
 public:
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> trans) override {
    return std::make_shared<TBufferedTransport>(trans, kBufferedTransportBytes,
                                                kBufferedTransportBytes);
  }
};

int boundPort(THRIFT_SOCKET fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("getsockname failed on the server socket");
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

std::shared_ptr<TProtocolFactory> makeProtocolFactory(cli::Protocol p, cli::Transport t) {
  // One THeaderProtocol (and its THeaderTransport) per connection, for input
  // and output alike (see makeServer): it reads each request's frame, binary or
  // compact, THeader, framed or unframed, and writes the reply the same way.
  if (t == cli::Transport::Header) return std::make_shared<THeaderProtocolFactory>();
  switch (p) {
    case cli::Protocol::Binary:  // strict read and strict write
      return std::make_shared<TBinaryProtocolFactory>(0, 0, true, true);
    case cli::Protocol::Json: return std::make_shared<TJSONProtocolFactory>();
    case cli::Protocol::Compact: break;
  }
  return std::make_shared<TCompactProtocolFactory>();
}

std::shared_ptr<TTransportFactory> makeTransportFactory(cli::Transport t) {
  switch (t) {
    case cli::Transport::Framed: return std::make_shared<TFramedTransportFactory>();
    case cli::Transport::Zlib: return std::make_shared<TZlibTransportFactory>();  // on the socket
    // THttpServer straight on the socket: reads a POST's headers and body,
    // answers each flush() with "200 OK" and a Content-Length (keep-alive).
    case cli::Transport::Http: return std::make_shared<THttpServerTransportFactory>();
    // THeaderTransport (made by THeaderProtocolFactory) frames messages itself:
    // the socket as it is underneath.
    case cli::Transport::Header: return std::make_shared<TTransportFactory>();
    case cli::Transport::Buffered: break;
  }
  return std::make_shared<LargeBufferedTransportFactory>();
}

struct Server {
  std::shared_ptr<TServer> server;
  std::function<int()> port;  // the bound port, valid once listening
};

Server makeModel(const cli::ServerOptions& o, const Options& run,
                 const std::shared_ptr<TProcessor>& processor) {
  auto protocols = makeProtocolFactory(o.protocol, o.transport);
  if (o.model == cli::ServerModel::Nonblocking) {
    // TNonblockingServer reads and writes frames itself; no transport factory.
    // For header (no output protocol factory, see makeServer) it passes each
    // frame on with its length, the way THeaderTransport reads it.
    auto socket = std::make_shared<TNonblockingServerSocket>(o.bind.host, o.bind.port);
    socket->setAcceptCallback(setNoDelay);
    if (!run.nonblocking_workers)  // calls run on the I/O thread
      return {std::make_shared<TNonblockingServer>(processor, protocols, socket),
              [socket] { return socket->getListenPort(); }};
    auto workers = ThreadManager::newSimpleThreadManager(static_cast<std::size_t>(o.workers));
    workers->threadFactory(std::make_shared<ThreadFactory>());
    workers->start();
    return {std::make_shared<TNonblockingServer>(processor, protocols, socket, workers),
            [socket] { return socket->getListenPort(); }};
  }
  auto socket = std::make_shared<TServerSocket>(o.bind.host, o.bind.port);
  socket->setAcceptCallback(setNoDelay);
  auto transports = makeTransportFactory(o.transport);
  std::function<int()> port = [socket] { return boundPort(socket->getSocketFD()); };
  switch (o.model) {
    case cli::ServerModel::Simple:
      return {std::make_shared<TSimpleServer>(processor, socket, transports, protocols), port};
    case cli::ServerModel::Pool: {
      auto workers = ThreadManager::newSimpleThreadManager(static_cast<std::size_t>(o.workers));
      workers->threadFactory(std::make_shared<ThreadFactory>());
      workers->start();
      return {std::make_shared<TThreadPoolServer>(processor, socket, transports, protocols,
                                                  workers),
              port};
    }
    case cli::ServerModel::Threaded:
    case cli::ServerModel::Nonblocking:
      break;
  }
  return {std::make_shared<TThreadedServer>(processor, socket, transports, protocols), port};
}

Server makeServer(const cli::ServerOptions& o, const Options& run,
                  const std::shared_ptr<TProcessor>& processor) {
  Server s = makeModel(o, run, processor);
  // Without an output protocol factory every server model hands the input
  // protocol to the processor as output too (TNonblockingServer calls that
  // "header transport"); with one, the reply would go through a second
  // THeaderTransport that never saw the request's protocol, transforms and
  // framing.
  if (o.transport == cli::Transport::Header) s.server->setOutputProtocolFactory(nullptr);
  return s;
}

// Waits for SIGTERM/SIGINT (blocked in every thread) and stops the server.
// SIGUSR1 from main ends the thread once serve() has returned.
void signalLoop(sigset_t signals, ServerState& state, TServer& server) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      if (state.finished()) return;
      continue;
    }
    std::fprintf(stderr, "%s: %s, stopping\n", g_prog, sig == SIGINT ? "SIGINT" : "SIGTERM");
    if (state.requestStop()) server.stop();
    return;
  }
}

}  // namespace

int run(const cli::ServerOptions& opts, const Options& run_opts,
        const std::function<std::shared_ptr<TProcessor>()>& make_processor) {
  g_prog = run_opts.prog;
  // Before any thread exists, so every thread inherits the mask and only
  // sigwait() in the signal thread sees these signals.
  std::signal(SIGPIPE, SIG_IGN);
  // Thrift's own diagnostics (a client that vanished mid-call, a failed bind)
  // are worth keeping; prefix them like every other log line.
  apache::thrift::GlobalOutput.setOutputFunction(
      [](const char* msg) { std::fprintf(stderr, "%s: thrift: %s\n", g_prog, msg); });
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerState state;
  Server s;
  try {
    s = makeServer(opts, run_opts, make_processor());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot set up the server: %s\n", g_prog, e.what());
    return 1;
  }
  s.server->setServerEventHandler(std::make_shared<ListeningAnnouncer>(s.port, state));
  std::fprintf(stderr, "%s: %s server, %s/%s, %s, binding %s\n", g_prog, cli::name(opts.model),
               cli::name(opts.protocol), cli::name(opts.transport), run_opts.what.c_str(),
               opts.bind.str().c_str());

  std::thread signal_thread(signalLoop, signals, std::ref(state), std::ref(*s.server));
  int rc = 1;
  try {
    s.server->serve();
    if (state.stopRequested()) {
      rc = 0;
      std::fprintf(stderr, "%s: stopped\n", g_prog);
    } else {
      std::fprintf(stderr, "%s: serve() returned without a stop request\n", g_prog);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", g_prog, e.what());
  }
  state.markFinished();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  return rc;
}

}  // namespace server_runner
