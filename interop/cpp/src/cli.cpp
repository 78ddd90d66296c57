#include "cli.h"

#include "cli_parse.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <utility>

namespace cli {

const char* name(Protocol p) {
  switch (p) {
    case Protocol::Binary: return "binary";
    case Protocol::Compact: return "compact";
    case Protocol::Json: return "json";
  }
  return "?";
}
const char* name(Transport t) {
  switch (t) {
    case Transport::Buffered: return "buffered";
    case Transport::Framed: return "framed";
    case Transport::Zlib: return "zlib";
    case Transport::Http: return "http";
    case Transport::Header: return "header";
  }
  return "?";
}
const char* name(Service s) { return s == Service::Ping ? "ping" : "student"; }
const char* name(Call c) { return c == Call::Ping ? "ping" : "output"; }
const char* name(ServerModel m) {
  switch (m) {
    case ServerModel::Threaded: return "threaded";
    case ServerModel::Simple: return "simple";
    case ServerModel::Pool: return "pool";
    case ServerModel::Nonblocking: return "nonblocking";
  }
  return "?";
}

std::string Endpoint::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace parsing {

void parse(int argc, char** argv, const FlagTable& flags, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      throw HelpRequested{};
    }
    // Long flags (--name, --name=value) and the few short ones a table lists
    // ("-n"), which take their value as the next argument.
    bool is_short = arg.size() == 2 && arg[0] == '-' && arg[1] != '-';
    if (!is_short && (arg.size() < 3 || arg.compare(0, 2, "--") != 0))
      throw UsageError("unexpected argument '" + arg + "' (see --help)");
    std::string flag = arg;
    std::string value;
    bool inline_value = false;
    if (auto eq = arg.find('='); !is_short && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto it = flags.find(flag);
    if (it == flags.end()) throw UsageError("unknown flag " + flag + " (see --help)");
    if (it->second.takes_value) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(flag + " needs a value");
        value = argv[++i];
      }
    } else if (inline_value) {
      throw UsageError(flag + " takes no value");
    }
    it->second.apply(flag, value);
  }
}

std::uint64_t parseUnsigned(const std::string& flag, const std::string& s, std::uint64_t min,
                            std::uint64_t max) {
  auto bad = [&] {
    return UsageError(flag + ": expected an integer in " + std::to_string(min) + ".." +
                      std::to_string(max) + ", got '" + s + "'");
  };
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    throw bad();
  std::uint64_t v = std::stoull(s);
  if (v < min || v > max) throw bad();
  return v;
}

int parseInt(const std::string& flag, const std::string& s, int min, int max) {
  return static_cast<int>(parseUnsigned(flag, s, static_cast<std::uint64_t>(min),
                                        static_cast<std::uint64_t>(max)));
}

std::string parseHost(const std::string& flag, std::string s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty()) throw UsageError(flag + ": empty host");
  return s;
}

// "H:P" with the port after the last colon; IPv6 literals as "[::1]:9090".
Endpoint parseEndpoint(const std::string& flag, const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw UsageError(flag + ": expected HOST:PORT, got '" + s + "'");
  std::string host = s.substr(0, colon);
  if (host.find(':') != std::string::npos && host.front() != '[')
    throw UsageError(flag + ": write IPv6 addresses as [ADDR]:PORT, got '" + s + "'");
  return Endpoint{parseHost(flag, host), parseInt(flag, s.substr(colon + 1), 1, 65535)};
}

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto comma = s.find(',', start);
    parts.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

// "128K" -> 131072, "1M" -> 1048576, "0" -> 0.
std::size_t parseSize(const std::string& flag, const std::string& s) {
  std::string digits = s;
  std::uint64_t unit = 1;
  if (!s.empty() && (s.back() == 'K' || s.back() == 'k')) unit = 1024;
  if (!s.empty() && (s.back() == 'M' || s.back() == 'm')) unit = 1024 * 1024;
  if (unit != 1) digits.pop_back();
  // Thrift strings are at most 2^31-1 bytes; stay well inside with 1 GiB.
  constexpr std::uint64_t kMax = 1ULL << 30;
  if (digits.empty() || digits.size() > 10 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(flag + ": expected sizes like 0,512,128K,1M, got '" + s + "'");
  std::uint64_t bytes = std::stoull(digits) * unit;
  if (bytes > kMax) throw UsageError(flag + ": size '" + s + "' is larger than 1G");
  return static_cast<std::size_t>(bytes);
}

void checkNonblockingTransport(const std::string& model_flag, const ServerOptions& o) {
  if (o.model != ServerModel::Nonblocking || o.transport == Transport::Framed ||
      o.transport == Transport::Header)
    return;
  if (o.transport == Transport::Http)
    throw UsageError(model_flag +
                     " nonblocking cannot serve --transport http (TNonblockingServer reads "
                     "frames itself and takes no transport factory, so THttpServer has no "
                     "place in it); choose another server model");
  throw UsageError(model_flag +
                   " nonblocking speaks framed and header transports only (TNonblockingServer); "
                   "use --transport framed or header");
}

void checkHeaderProtocol(Protocol p, Transport t) {
  if (t == Transport::Header && p == Protocol::Json)
    throw UsageError("--transport header carries binary or compact (THeaderProtocol), not json");
}

void usageExit(const char* prog, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", prog, why.c_str());
  std::exit(kExitUsage);
}

}  // namespace parsing

namespace {

using namespace parsing;

const char* const kServerUsage =
    "usage: ping-server [--host H] [--port P] [--protocol binary|compact|json]\n"
    "                   [--transport buffered|framed|zlib|http|header]\n"
    "                   [--server threaded|simple|pool|nonblocking]\n"
    "                   [--workers N] [--service ping|student] [--multiplexed]\n"
    "  --host H         address to bind (default 127.0.0.1)\n"
    "  --port P         port, 0 = ephemeral (default 9090)\n"
    "  --protocol       binary (strict), compact (default) or json (TJSONProtocol)\n"
    "  --transport      buffered (default), framed, zlib, http (THttpServer) or header\n"
    "                   (THeaderProtocol, binary or compact: each reply in its request's)\n"
    "  --server         threaded (default), simple, pool, nonblocking (framed or header)\n"
    "  --workers N      worker threads of the pool model (default 4)\n"
    "  --service        processor to serve: ping (PingService) or student (Serv)\n"
    "  --multiplexed    serve PingService and Serv through TMultiplexedProcessor\n"
    "Prints 'LISTENING <port>' on stdout once it accepts connections; SIGTERM/SIGINT stop it.\n";

const char* const kClientUsage =
    "usage: ping-client [--host H] [--port P] [--endpoints H:P,H:P]\n"
    "                   [--protocol binary|compact|json]\n"
    "                   [--transport buffered|framed|zlib|http|header]\n"
    "                   [--service ping|student] [--multiplexed]\n"
    "                   [--call ping|output] [--sizes 128K,256K,512K,1M] [--payload alnum|utf8]\n"
    "                   [--rounds N] [--interval-ms MS] [--json]\n"
    "                   [--connect-timeout-ms MS] [--timeout-ms MS]\n"
    "                   [--call-attempts N] [--reconnect-deadline-ms MS]\n"
    "  --host/--port    the server (default 127.0.0.1:9090)\n"
    "  --endpoints      several servers in turn, one reconnecting client each\n"
    "  --sizes          payload bytes, suffix K = 1024, M = 1048576, 0 allowed\n"
    "  --payload        alnum ([A-Za-z0-9]) or utf8 (1- to 4-byte characters)\n"
    "  --rounds N       rounds of one call per size per endpoint, 0 = forever (default 1)\n"
    "  --interval-ms    pause between rounds (default 0)\n"
    "  --json           one JSON object per call on stdout\n"
    "  --transport header  THeaderProtocol, binary or compact: every call sends the info\n"
    "                   header x-request-id: cpp-<pid>-<n>; a reply with another id fails\n"
    "  --connect-timeout-ms, --timeout-ms   TCP connect / per-call send+recv timeouts (2000)\n"
    "  --call-attempts N          attempts per ping/output, the first included (default 3)\n"
    "  --reconnect-deadline-ms MS give up reconnecting within a call after MS (default 30000)\n"
    "SIGINT/SIGTERM stop after the call in flight; a second one kills.\n"
    "Exit: 0 all calls correct, 1 a call failed, 2 usage error.\n";

const Choices<Protocol> kProtocols = {{"binary", Protocol::Binary},
                                      {"compact", Protocol::Compact},
                                      {"json", Protocol::Json}};
const Choices<Transport> kTransports = {{"buffered", Transport::Buffered},
                                        {"framed", Transport::Framed},
                                        {"zlib", Transport::Zlib},
                                        {"http", Transport::Http},
                                        {"header", Transport::Header}};
const Choices<Service> kServices = {{"ping", Service::Ping}, {"student", Service::Student}};
const Choices<ServerModel> kModels = {{"threaded", ServerModel::Threaded},
                                      {"simple", ServerModel::Simple},
                                      {"pool", ServerModel::Pool},
                                      {"nonblocking", ServerModel::Nonblocking}};
const Choices<Call> kCalls = {{"ping", Call::Ping}, {"output", Call::Output}};
const Choices<Payload> kPayloads = {{"alnum", Payload::Alnum}, {"utf8", Payload::Utf8}};

}  // namespace

ServerOptions parseServerArgs(int argc, char** argv) {
  ServerOptions o;
  FlagTable flags = {
      {"--host", {true, [&](auto& f, auto& v) { o.bind.host = parseHost(f, v); }}},
      {"--port", {true, [&](auto& f, auto& v) { o.bind.port = parseInt(f, v, 0, 65535); }}},
      {"--protocol", {true, [&](auto& f, auto& v) { o.protocol = parseChoice(f, v, kProtocols); }}},
      {"--transport",
       {true, [&](auto& f, auto& v) { o.transport = parseChoice(f, v, kTransports); }}},
      {"--server", {true, [&](auto& f, auto& v) { o.model = parseChoice(f, v, kModels); }}},
      {"--workers", {true, [&](auto& f, auto& v) { o.workers = parseInt(f, v, 1, 4096); }}},
      {"--service", {true, [&](auto& f, auto& v) { o.service = parseChoice(f, v, kServices); }}},
      {"--multiplexed", {false, [&](auto&, auto&) { o.multiplexed = true; }}},
  };
  parse(argc, argv, flags, kServerUsage);
  checkHeaderProtocol(o.protocol, o.transport);
  checkNonblockingTransport("--server", o);
  return o;
}

ClientOptions parseClientArgs(int argc, char** argv) {
  ClientOptions o;
  Endpoint single{"127.0.0.1", kDefaultPort};
  std::vector<Endpoint> endpoints;
  FlagTable flags = {
      {"--host", {true, [&](auto& f, auto& v) { single.host = parseHost(f, v); }}},
      {"--port", {true, [&](auto& f, auto& v) { single.port = parseInt(f, v, 1, 65535); }}},
      {"--endpoints",
       {true,
        [&](auto& f, auto& v) {
          endpoints.clear();
          for (const auto& part : splitCommas(v)) endpoints.push_back(parseEndpoint(f, part));
        }}},
      {"--protocol", {true, [&](auto& f, auto& v) { o.protocol = parseChoice(f, v, kProtocols); }}},
      {"--transport",
       {true, [&](auto& f, auto& v) { o.transport = parseChoice(f, v, kTransports); }}},
      {"--service", {true, [&](auto& f, auto& v) { o.service = parseChoice(f, v, kServices); }}},
      {"--multiplexed", {false, [&](auto&, auto&) { o.multiplexed = true; }}},
      {"--call", {true, [&](auto& f, auto& v) { o.call = parseChoice(f, v, kCalls); }}},
      {"--sizes",
       {true,
        [&](auto& f, auto& v) {
          o.sizes.clear();
          for (const auto& part : splitCommas(v)) o.sizes.push_back(parseSize(f, part));
        }}},
      {"--payload", {true, [&](auto& f, auto& v) { o.payload = parseChoice(f, v, kPayloads); }}},
      {"--rounds",
       {true,
        [&](auto& f, auto& v) {
          o.rounds = parseUnsigned(f, v, 0, std::numeric_limits<std::int64_t>::max());
        }}},
      {"--interval-ms",
       {true, [&](auto& f, auto& v) { o.interval_ms = parseUnsigned(f, v, 0, 86400000); }}},
      {"--json", {false, [&](auto&, auto&) { o.json = true; }}},
      {"--connect-timeout-ms",
       {true, [&](auto& f, auto& v) { o.connect_timeout_ms = parseInt(f, v, 1, 3600000); }}},
      {"--timeout-ms",
       {true, [&](auto& f, auto& v) { o.timeout_ms = parseInt(f, v, 1, 3600000); }}},
      {"--call-attempts",
       {true, [&](auto& f, auto& v) { o.call_attempts = parseInt(f, v, 1, 1000); }}},
      {"--reconnect-deadline-ms",
       {true, [&](auto& f, auto& v) { o.reconnect_deadline_ms = parseInt(f, v, 1, 86400000); }}},
  };
  parse(argc, argv, flags, kClientUsage);
  checkHeaderProtocol(o.protocol, o.transport);
  o.endpoints = endpoints.empty() ? std::vector<Endpoint>{single} : endpoints;
  if (o.sizes.empty()) o.sizes = {128 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024};
  return o;
}

ServerOptions serverOptionsOrExit(int argc, char** argv) {
  return orExit<ServerOptions>(parseServerArgs, "ping-server", argc, argv);
}

ClientOptions clientOptionsOrExit(int argc, char** argv) {
  return orExit<ClientOptions>(parseClientArgs, "ping-client", argc, argv);
}

}  // namespace cli
