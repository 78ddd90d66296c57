// The strict flag parser behind cli.h, shared by every binary of this peer
// (ping-* in cli.cpp, thrifttest-* in thrifttest_cli.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"

namespace cli::parsing {

// One flag: whether it takes a value, and what to do with it.
struct Flag {
  bool takes_value;
  std::function<void(const std::string& flag, const std::string& value)> apply;
};
// Keys are "--long" flags, or "-x" short ones (value always the next argument).
using FlagTable = std::map<std::string, Flag>;

// Applies argv to the table; throws UsageError, or HelpRequested after
// printing `usage` for --help/-h.
void parse(int argc, char** argv, const FlagTable& flags, const char* usage);

std::uint64_t parseUnsigned(const std::string& flag, const std::string& s, std::uint64_t min,
                            std::uint64_t max);
int parseInt(const std::string& flag, const std::string& s, int min, int max);
std::string parseHost(const std::string& flag, std::string s);
Endpoint parseEndpoint(const std::string& flag, const std::string& s);
std::vector<std::string> splitCommas(const std::string& s);
std::size_t parseSize(const std::string& flag, const std::string& s);

template <typename E>
using Choices = std::vector<std::pair<const char*, E>>;

template <typename E>
E parseChoice(const std::string& flag, const std::string& s, const Choices<E>& choices) {
  std::string names;
  for (const auto& [n, v] : choices) {
    if (s == n) return v;
    names += names.empty() ? n : std::string("|") + n;
  }
  throw UsageError(flag + ": expected " + names + ", got '" + s + "'");
}

// TNonblockingServer frames messages itself: framed and header transports
// only; any other (buffered, zlib, http) is a combination this peer cannot
// serve. `model_flag` names the binary's flag (--server, --server-type) in the
// message.
void checkNonblockingTransport(const std::string& model_flag, const ServerOptions& o);

// THeaderProtocol carries binary or compact (protocol ids 0 and 2), never JSON.
void checkHeaderProtocol(Protocol p, Transport t);

// Prints "<prog>: <why>" on stderr and exits kExitUsage.
[[noreturn]] void usageExit(const char* prog, const std::string& why);

// parseFn(argc, argv), or exit: UsageError -> usageExit, --help -> exit 0.
template <typename Options, typename Parse>
Options orExit(Parse parseFn, const char* prog, int argc, char** argv) {
  try {
    return parseFn(argc, argv);
  } catch (const UsageError& e) {
    usageExit(prog, e.what());
  } catch (const HelpRequested&) {
    std::exit(0);
  }
}

}  // namespace cli::parsing
