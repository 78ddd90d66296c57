// Command-line flags shared by ping-server and ping-client (interop/SPEC.md).
// Parsing is strict: an unknown flag, a missing or bad value, or a combination
// this peer cannot serve throws UsageError; main prints it and exits 2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

constexpr int kDefaultPort = 9090;  // the C++ peer's port (SPEC.md)
constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown for --help: print the usage text on stdout and exit 0.
struct HelpRequested {};

enum class Protocol { Binary, Compact, Json };
enum class Transport { Buffered, Framed, Zlib, Http, Header };
enum class Service { Ping, Student };
enum class ServerModel { Threaded, Simple, Pool, Nonblocking };
enum class Call { Ping, Output };
enum class Payload { Alnum, Utf8 };

const char* name(Protocol p);
const char* name(Transport t);
const char* name(Service s);
const char* name(ServerModel m);
const char* name(Call c);

struct Endpoint {
  std::string host;
  int port = kDefaultPort;
  std::string str() const;  // "host:port", IPv6 literals in brackets
};

struct ServerOptions {
  Endpoint bind{"127.0.0.1", kDefaultPort};  // port 0 = ephemeral
  Protocol protocol = Protocol::Compact;
  Transport transport = Transport::Buffered;
  ServerModel model = ServerModel::Threaded;
  int workers = 4;
  Service service = Service::Ping;
  bool multiplexed = false;
};

struct ClientOptions {
  std::vector<Endpoint> endpoints;  // --endpoints, or the one --host/--port
  Protocol protocol = Protocol::Compact;
  Transport transport = Transport::Buffered;
  Service service = Service::Ping;
  bool multiplexed = false;
  Call call = Call::Ping;
  std::vector<std::size_t> sizes;  // bytes
  Payload payload = Payload::Alnum;
  std::uint64_t rounds = 1;  // 0 = forever
  std::uint64_t interval_ms = 0;
  bool json = false;
  int connect_timeout_ms = 2000;
  int timeout_ms = 2000;
  // Extras beyond SPEC.md, named as in the Rust client.
  int call_attempts = 3;              // per idempotent call, the first included
  int reconnect_deadline_ms = 30000;  // per call: stop reconnecting after this long
};

ServerOptions parseServerArgs(int argc, char** argv);
ClientOptions parseClientArgs(int argc, char** argv);

// Parse argv or exit: UsageError -> one line "<prog>: <why>" on stderr, exit 2;
// --help -> usage on stdout, exit 0.
ServerOptions serverOptionsOrExit(int argc, char** argv);
ClientOptions clientOptionsOrExit(int argc, char** argv);

}  // namespace cli
