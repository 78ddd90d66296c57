#include "thrifttest_cli.h"

#include <string>

#include "cli_parse.h"

namespace thrifttest {
namespace {

using namespace cli::parsing;
using cli::UsageError;

const char* const kServerUsage =
    "usage: thrifttest-server [--host H] [--port P]\n"
    "                         [--protocol binary|compact|json|multi|multic|multij]\n"
    "                         [--transport buffered|framed|zlib|http|header]\n"
    "                         [--server-type simple|threaded|thread-pool|nonblocking]\n"
    "                         [-n|--workers N] [--multiplexed]\n"
    "  --host H         address to bind (default 127.0.0.1)\n"
    "  --port P         port, 0 = ephemeral (default 9090)\n"
    "  --protocol       binary (strict, default), compact, json; multi/multic/multij =\n"
    "                   the same multiplexed\n"
    "  --transport      buffered (default), framed, zlib, http (THttpServer) or header\n"
    "                   (THeaderProtocol: binary, compact, multi or multic)\n"
    "  --server-type    simple (default), threaded, thread-pool, nonblocking (framed or header)\n"
    "  -n, --workers N  worker threads of thread-pool and nonblocking (default 4)\n"
    "  --multiplexed    ThriftTest and SecondService through TMultiplexedProcessor\n"
    "Prints 'LISTENING <port>' on stdout once it accepts connections; SIGTERM/SIGINT stop it.\n";

const char* const kClientUsage =
    "usage: thrifttest-client [--host H] [--port P]\n"
    "                         [--protocol binary|compact|json|multi|multic|multij]\n"
    "                         [--transport buffered|framed|zlib|http|header]\n"
    "                         [-n|--testloops N]\n"
    "                         [--multiplexed]\n"
    "                         [--timeout-ms MS] [--reconnect-deadline-ms MS]\n"
    "  --host/--port    the server (default localhost:9090)\n"
    "  -n, --testloops  times to run the suite, each on a fresh connection (default 1)\n"
    "  --multiplexed    call ThriftTest and SecondService multiplexed\n"
    "  --timeout-ms     send/receive timeout per call, more than 1000 (default 5000)\n"
    "  --reconnect-deadline-ms  give up connecting after MS (default 30000)\n"
    "Exit: 0 all checks passed, else the OR of 1 base types, 2 structs, 4 containers,\n"
    "8 exceptions, 64 unknown (a loop could not run), 128 timeout; 2 usage error.\n";

struct WireChoice {
  cli::Protocol protocol;
  bool multiplexed;
};
const Choices<WireChoice> kProtocols = {{"binary", {cli::Protocol::Binary, false}},
                                        {"compact", {cli::Protocol::Compact, false}},
                                        {"json", {cli::Protocol::Json, false}},
                                        {"multi", {cli::Protocol::Binary, true}},
                                        {"multic", {cli::Protocol::Compact, true}},
                                        {"multij", {cli::Protocol::Json, true}}};
const Choices<cli::Transport> kTransports = {{"buffered", cli::Transport::Buffered},
                                             {"framed", cli::Transport::Framed},
                                             {"zlib", cli::Transport::Zlib},
                                             {"http", cli::Transport::Http},
                                             {"header", cli::Transport::Header}};
const Choices<cli::ServerModel> kModels = {{"simple", cli::ServerModel::Simple},
                                           {"threaded", cli::ServerModel::Threaded},
                                           {"thread-pool", cli::ServerModel::Pool},
                                           {"nonblocking", cli::ServerModel::Nonblocking}};

cli::ServerOptions parseServer(int argc, char** argv) {
  cli::ServerOptions o;
  o.protocol = cli::Protocol::Binary;
  o.model = cli::ServerModel::Simple;
  bool mux_protocol = false;
  auto workers = [&](auto& f, auto& v) { o.workers = parseInt(f, v, 1, 4096); };
  FlagTable flags = {
      {"--host", {true, [&](auto& f, auto& v) { o.bind.host = parseHost(f, v); }}},
      {"--port", {true, [&](auto& f, auto& v) { o.bind.port = parseInt(f, v, 0, 65535); }}},
      {"--protocol",
       {true,
        [&](auto& f, auto& v) {
          auto c = parseChoice(f, v, kProtocols);
          o.protocol = c.protocol;
          mux_protocol = c.multiplexed;
        }}},
      {"--transport",
       {true, [&](auto& f, auto& v) { o.transport = parseChoice(f, v, kTransports); }}},
      {"--server-type", {true, [&](auto& f, auto& v) { o.model = parseChoice(f, v, kModels); }}},
      {"--workers", {true, workers}},
      {"-n", {true, workers}},
      {"--multiplexed", {false, [&](auto&, auto&) { o.multiplexed = true; }}},
  };
  parse(argc, argv, flags, kServerUsage);
  o.multiplexed = o.multiplexed || mux_protocol;
  checkHeaderProtocol(o.protocol, o.transport);
  checkNonblockingTransport("--server-type", o);
  return o;
}

ClientOptions parseClient(int argc, char** argv) {
  ClientOptions o;
  bool mux_protocol = false;
  auto loops = [&](auto& f, auto& v) {
    o.loops = static_cast<std::uint32_t>(parseUnsigned(f, v, 0, 1000000));
  };
  FlagTable flags = {
      {"--host", {true, [&](auto& f, auto& v) { o.server.host = parseHost(f, v); }}},
      {"--port", {true, [&](auto& f, auto& v) { o.server.port = parseInt(f, v, 1, 65535); }}},
      {"--protocol",
       {true,
        [&](auto& f, auto& v) {
          auto c = parseChoice(f, v, kProtocols);
          o.protocol = c.protocol;
          mux_protocol = c.multiplexed;
        }}},
      {"--transport",
       {true, [&](auto& f, auto& v) { o.transport = parseChoice(f, v, kTransports); }}},
      {"--testloops", {true, loops}},
      {"-n", {true, loops}},
      {"--multiplexed", {false, [&](auto&, auto&) { o.multiplexed = true; }}},
      {"--timeout-ms",
       {true, [&](auto& f, auto& v) { o.timeout_ms = parseInt(f, v, 1001, 3600000); }}},
      {"--reconnect-deadline-ms",
       {true, [&](auto& f, auto& v) { o.reconnect_deadline_ms = parseInt(f, v, 1, 86400000); }}},
  };
  parse(argc, argv, flags, kClientUsage);
  o.multiplexed = o.multiplexed || mux_protocol;
  checkHeaderProtocol(o.protocol, o.transport);
  return o;
}

}  // namespace

cli::ServerOptions serverOptionsOrExit(int argc, char** argv) {
  return orExit<cli::ServerOptions>(parseServer, "thrifttest-server", argc, argv);
}

ClientOptions clientOptionsOrExit(int argc, char** argv) {
  return orExit<ClientOptions>(parseClient, "thrifttest-client", argc, argv);
}

}  // namespace thrifttest
