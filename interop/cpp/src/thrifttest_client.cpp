// thrifttest-client: Apache Thrift's cross-test client suite (interop/SPEC.md,
// "ThriftTest"), mirroring the Rust client's checks
// (crates/thrift-frame-thrifttest/src/suite.rs) on the shared reconnecting
// connection. A `loop` line after each loop and one line per method on
// stdout, one line per failed check on stderr; the exit code is upstream's
// bitmask (1 base types, 2 structs, 4 containers, 8 exceptions, 64 unknown,
// 128 timeout), 0 when every check passed, 2 for a usage error.
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <thrift/TApplicationException.h>
#include <thrift/TToString.h>
#include <thrift/Thrift.h>
#include <thrift/protocol/TMultiplexedProtocol.h>

#include "SecondService.h"
#include "ThriftTest.h"
#include "reconnecting_connection.h"
#include "thrifttest_cli.h"
#include "thrifttest_handler.h"

namespace {

using namespace std::string_literals;
using apache::thrift::TApplicationException;
using apache::thrift::protocol::TMultiplexedProtocol;
using reconnecting::CallFailed;
using reconnecting::Connection;
using reconnecting::OutcomeUnknown;
using thrift::test::Insanity;
using thrift::test::Numberz;
using thrift::test::SecondServiceClient;
using thrift::test::ThriftTestClient;
using thrift::test::Xception;
using thrift::test::Xception2;
using thrift::test::Xtruct;
using thrift::test::Xtruct2;
using Clock = std::chrono::steady_clock;

constexpr const char* kProg = "thrifttest-client";
// testOneway(1) must not wait for the server's one-second sleep (upstream
// allows 200 ms; a loaded 2-core machine gets more), as in the Rust client.
constexpr auto kOnewayMaxReturn = std::chrono::milliseconds(500);
constexpr std::size_t kMaxShown = 160;  // longest rendering of a value in a failure line

// --- report ----------------------------------------------------------------------

enum class Group { BaseTypes = 1, Structs = 2, Containers = 4, Exceptions = 8 };
constexpr int kExitUnknown = 64;
constexpr int kExitTimeout = 128;

const char* name(Group g) {
  switch (g) {
    case Group::BaseTypes: return "basetypes";
    case Group::Structs: return "structs";
    case Group::Containers: return "containers";
    case Group::Exceptions: return "exceptions";
  }
  return "?";
}

struct Failure {
  Group group;
  std::string check;    // what was sent, shortened
  std::string message;  // the wrong reply, or the error
  bool timed_out;
};

struct Tally {
  unsigned checks = 0;
  unsigned failed = 0;
};

struct Report {
  std::vector<Failure> failures;
  std::map<std::string, Tally> methods;  // sorted by name, as the output lists them
  std::vector<std::string> aborted;      // loops that could not run
  std::vector<std::string> unknown;      // UNKNOWN lines (testOneway whose send failed)
  std::uint64_t reconnects = 0;          // over every loop and connection

  void record(const char* method, std::optional<Failure> failure) {
    Tally& t = methods[method];
    ++t.checks;
    if (failure) {
      ++t.failed;
      failures.push_back(std::move(*failure));
    }
  }
  std::pair<unsigned, unsigned> totals() const {
    unsigned checks = 0, failed = 0;
    for (const auto& [m, t] : methods) {
      checks += t.checks;
      failed += t.failed;
    }
    return {checks, failed};
  }
  int exitCode() const {
    int code = 0;
    for (const auto& f : failures) {
      code |= static_cast<int>(f.group);
      if (f.timed_out) code |= kExitTimeout;
    }
    if (!aborted.empty()) code |= kExitUnknown | 1 | 2 | 4 | 8;
    return code;
  }
};

// --- rendering values for failure lines ---------------------------------------------

std::string shorten(std::string text) {
  if (text.size() <= kMaxShown) return text;
  std::size_t end = kMaxShown;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // UTF-8
  return text.substr(0, end) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string show(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}
std::string show(bool b) { return b ? "true" : "false"; }
std::string show(std::int8_t v) { return std::to_string(static_cast<int>(v)); }
std::string show(std::int16_t v) { return std::to_string(v); }
std::string show(std::int32_t v) { return std::to_string(v); }
std::string show(std::int64_t v) { return std::to_string(v); }
std::string show(double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g (0x%016" PRIx64 ")", d, bits);
  return buf;
}
std::string show(Numberz::type n) { return thrift::test::to_string(n); }
std::string show(const Xtruct& x) { return apache::thrift::to_string(x); }
std::string show(const Xtruct2& x) { return apache::thrift::to_string(x); }
std::string show(const Insanity& x) { return apache::thrift::to_string(x); }
std::string show(const Xception& x) { return apache::thrift::to_string(x); }
std::string show(const Xception2& x) { return apache::thrift::to_string(x); }

template <typename T>
std::string show(const std::vector<T>& v);
template <typename T>
std::string show(const std::set<T>& v);
template <typename K, typename V>
std::string show(const std::map<K, V>& m);

template <typename Seq>
std::string showSeq(const Seq& seq, const char* open, const char* close) {
  std::string out = open;
  bool first = true;
  for (const auto& e : seq) {
    if (!first) out += ", ";
    first = false;
    out += show(e);
    if (out.size() > 2 * kMaxShown) return out + ", ...";
  }
  return out + close;
}
template <typename T>
std::string show(const std::vector<T>& v) {
  return showSeq(v, "[", "]");
}
template <typename T>
std::string show(const std::set<T>& v) {
  return showSeq(v, "{", "}");
}
template <typename K, typename V>
std::string show(const std::map<K, V>& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ", ";
    first = false;
    out += show(k) + ": " + show(v);
    if (out.size() > 2 * kMaxShown) return out + ", ...";
  }
  return out + "}";
}

// Binary payloads: their length and first bytes in hex.
struct Binary {
  std::string bytes;
  bool operator==(const Binary& o) const { return bytes == o.bytes; }
};
std::string show(const Binary& b) {
  std::string out = "binary(" + std::to_string(b.bytes.size()) + " bytes";
  for (std::size_t i = 0; i < b.bytes.size() && i < 32; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof(buf), i == 0 ? ": %02x" : " %02x",
                  static_cast<unsigned char>(b.bytes[i]));
    out += buf;
  }
  return out + (b.bytes.size() > 32 ? " ...)" : ")");
}

// Doubles compare bit for bit: -0.0 equals 0.0 numerically, not on the wire.
struct Bits {
  double value;
  bool operator==(const Bits& o) const {
    return std::memcmp(&value, &o.value, sizeof(value)) == 0;
  }
};
std::string show(const Bits& b) { return show(b.value); }

struct Void {
  bool operator==(const Void&) const { return true; }
};
std::string show(const Void&) { return "()"; }

// --- the suite ------------------------------------------------------------------

// A lambda over the generated client of a Connection's stack.
template <typename Client, typename F>
auto on(F f) {
  return [f](void* clients) { return f(*static_cast<Client*>(clients)); };
}

// What an exception-method call did, as a value (so Connection sees a normal
// return: a declared exception leaves the connection in step).
struct Thrown {
  enum Kind { Returned, GotXception, GotXception2, GotApplication } kind = Returned;
  Xception x;
  Xception2 x2;
  std::string app;  // TApplicationException::what()
  Xtruct ret;       // testMultiException's return
  std::string describe() const {
    switch (kind) {
      case Returned: return "a normal return " + show(ret);
      case GotXception: return show(x);
      case GotXception2: return show(x2);
      case GotApplication: return "TApplicationException: " + app;
    }
    return "?";
  }
};

template <typename F>
Thrown capture(F f) {
  Thrown t;
  try {
    f(t.ret);
  } catch (const Xception& e) {
    t.kind = Thrown::GotXception;
    t.x = e;
  } catch (const Xception2& e) {
    t.kind = Thrown::GotXception2;
    t.x2 = e;
  } catch (const TApplicationException& e) {
    t.kind = Thrown::GotApplication;
    t.app = e.what();
  }
  return t;
}

using Verdict = std::optional<std::string>;  // why the check failed

Xtruct xtruct(const std::string& s, std::int8_t b, std::int32_t i, std::int64_t l) {
  Xtruct x;
  x.__set_string_thing(s);
  x.__set_byte_thing(b);
  x.__set_i32_thing(i);
  x.__set_i64_thing(l);
  return x;
}

class Checks {
 public:
  Checks(Connection& conn, Report& report) : conn_(conn), report_(report) {}

  // One call through the connection, judged by judge(result) -> Verdict.
  template <typename Call, typename Judge>
  void check(Group g, const char* method, const std::string& shown, Call call, Judge judge) {
    Verdict why;
    bool timed_out = false;
    try {
      why = judge(conn_.idempotent(method, call));
    } catch (const CallFailed& e) {
      why = std::string("got error: ") + e.what();
      timed_out = e.timed_out;
    } catch (const TApplicationException& e) {
      why = std::string("got an application error: ") + e.what();
    } catch (const apache::thrift::TException& e) {
      why = std::string("got a thrift error: ") + e.what();
    } catch (const std::exception& e) {
      why = std::string("got an error: ") + e.what();
    }
    record(g, method, shown, why, timed_out);
  }

  void record(Group g, const char* method, const std::string& shown, const Verdict& why,
              bool timed_out) {
    std::optional<Failure> failure;
    if (why) failure = Failure{g, shorten(shown), *why, timed_out};
    report_.record(method, std::move(failure));
  }

  // call(client) must return a value equal to `expected`.
  template <typename T, typename F>
  void expect(Group g, const char* method, const std::string& shown, const T& expected, F call) {
    check(g, method, shown, on<ThriftTestClient>(call), [&](const T& got) -> Verdict {
      if (got == expected) return std::nullopt;
      return "expected " + shorten(show(expected)) + ", got " + shorten(show(got));
    });
  }

  // Sends `value` through call(client, value) and expects it back unchanged.
  template <typename T, typename F>
  void echo(Group g, const char* method, const T& value, F call) {
    expect(g, method, std::string(method) + "(" + show(value) + ")", value,
           [value, call](ThriftTestClient& c) { return call(c, value); });
  }

  void baseTypes();
  void structs();
  void containers();
  void exceptions();
  void oneway();

 private:
  Connection& conn_;
  Report& report_;
};

void Checks::baseTypes() {
  const Group B = Group::BaseTypes;
  expect(B, "testVoid", "testVoid()", Void{}, [](ThriftTestClient& c) {
    c.testVoid();
    return Void{};
  });
  for (const std::string& s :
       {"Test"s, ""s, "Iñtërnâtiônàlizætiøn: ☃ 日本語 Ελληνικά русский עברית 🦀"s,
        "with \0 nul, \t tab and \n newline"s, std::string(64 * 1024, 'x')})
    echo(B, "testString", s, [](ThriftTestClient& c, const std::string& v) {
      std::string r;
      c.testString(r, v);
      return r;
    });
  for (bool b : {true, false})
    echo(B, "testBool", b, [](ThriftTestClient& c, bool v) { return c.testBool(v); });
  for (std::int8_t b : {std::int8_t{1}, std::int8_t{0}, std::int8_t{-1},
                        std::numeric_limits<std::int8_t>::min(),
                        std::numeric_limits<std::int8_t>::max()})
    echo(B, "testByte", b, [](ThriftTestClient& c, std::int8_t v) { return c.testByte(v); });
  for (std::int32_t i : {-1, 0, 1, std::numeric_limits<std::int32_t>::min(),
                         std::numeric_limits<std::int32_t>::max()})
    echo(B, "testI32", i, [](ThriftTestClient& c, std::int32_t v) { return c.testI32(v); });
  constexpr std::int64_t k2p53p1 = (std::int64_t{1} << 53) + 1;
  for (std::int64_t i : {std::int64_t{-34359738368}, std::int64_t{0}, k2p53p1, -k2p53p1,
                         std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()})
    echo(B, "testI64", i, [](ThriftTestClient& c, std::int64_t v) { return c.testI64(v); });
  using L = std::numeric_limits<double>;
  for (double d : {-5.2098523, 0.0, -0.0, 1.0 / 3.0, L::denorm_min(), L::min(), 1e-300, -1e300,
                   L::max(), L::lowest(), L::infinity(), -L::infinity()})
    echo(B, "testDouble", Bits{d},
         [](ThriftTestClient& c, const Bits& v) { return Bits{c.testDouble(v.value)}; });
  std::string every_byte, large;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  for (int i = 0; i < 256 * 1024; ++i) large.push_back(static_cast<char>(i * 7 % 251));
  for (const std::string& bytes : {every_byte, std::string(), large})
    echo(B, "testBinary", Binary{bytes}, [](ThriftTestClient& c, const Binary& v) {
      Binary r;
      c.testBinary(r.bytes, v.bytes);
      return r;
    });
}

void Checks::structs() {
  const Group S = Group::Structs;
  Xtruct zero = xtruct("Zero", 1, -3, -5);
  Xtruct edges = xtruct("", std::numeric_limits<std::int8_t>::min(),
                        std::numeric_limits<std::int32_t>::min(), (std::int64_t{1} << 53) + 1);
  Xtruct unicode = xtruct("Ünïcödé 🦀", std::numeric_limits<std::int8_t>::max(),
                          std::numeric_limits<std::int32_t>::max(),
                          std::numeric_limits<std::int64_t>::min());
  for (const Xtruct& x : {zero, edges, unicode})
    echo(S, "testStruct", x, [](ThriftTestClient& c, const Xtruct& v) {
      Xtruct r;
      c.testStruct(r, v);
      return r;
    });
  Xtruct2 n1, n2;
  n1.__set_byte_thing(1);
  n1.__set_struct_thing(zero);
  n1.__set_i32_thing(5);
  n2.__set_byte_thing(-1);
  n2.__set_struct_thing(edges);
  n2.__set_i32_thing(std::numeric_limits<std::int32_t>::min());
  for (const Xtruct2& n : {n1, n2})
    echo(S, "testNest", n, [](ThriftTestClient& c, const Xtruct2& v) {
      Xtruct2 r;
      c.testNest(r, v);
      return r;
    });
  for (Numberz::type e : {Numberz::ONE, Numberz::TWO, Numberz::THREE, Numberz::FIVE,
                          Numberz::SIX, Numberz::EIGHT})
    echo(S, "testEnum", e, [](ThriftTestClient& c, Numberz::type v) { return c.testEnum(v); });
  for (std::int64_t t : {std::int64_t{309858235082523}, std::int64_t{-1}, std::int64_t{0},
                         std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()})
    echo(S, "testTypedef", t,
         [](ThriftTestClient& c, std::int64_t v) { return c.testTypedef(v); });

  // The generated operator== ignores __isset for these (default-requiredness)
  // fields, so an empty Insanity with its containers absent equals one with
  // them present and empty, as the spec allows.
  Insanity argument;
  argument.__set_userMap({{Numberz::FIVE, 5}, {Numberz::EIGHT, 8}});
  argument.__set_xtructs({xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)});
  expect(S, "testInsanity", "testInsanity(" + show(argument) + ")",
         thrifttest::insanityAnswer(argument), [argument](ThriftTestClient& c) {
           thrifttest::InsanityAnswer r;
           c.testInsanity(r, argument);
           return r;
         });

  struct MultiArgs {
    std::int8_t a0;
    std::int32_t a1;
    std::int64_t a2;
    std::map<std::int16_t, std::string> a3;
    Numberz::type a4;
    std::int64_t a5;
  };
  for (const MultiArgs& m :
       {MultiArgs{9, 11, 12, {{1, "2"}, {2, "3"}}, Numberz::FIVE, 13},
        MultiArgs{std::numeric_limits<std::int8_t>::min(),
                  std::numeric_limits<std::int32_t>::min(),
                  std::numeric_limits<std::int64_t>::max(),
                  {},
                  Numberz::EIGHT,
                  -1}}) {
    std::string shown = "testMulti(" + show(m.a0) + ", " + show(m.a1) + ", " + show(m.a2) +
                        ", " + show(m.a3) + ", " + show(m.a4) + ", " + show(m.a5) + ")";
    expect(S, "testMulti", shown, thrifttest::multiAnswer(m.a0, m.a1, m.a2),
           [m](ThriftTestClient& c) {
             Xtruct r;
             c.testMulti(r, m.a0, m.a1, m.a2, m.a3, m.a4, m.a5);
             return r;
           });
  }
}

void Checks::containers() {
  const Group C = Group::Containers;
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
  std::map<std::int32_t, std::int32_t> m1;
  for (std::int32_t i = 0; i < 5; ++i) m1[i] = i - 10;
  for (const auto& m : {m1, {}, {{kMin, kMax}, {-1, 0}, {kMax, kMin}}})
    echo(C, "testMap", m, [](ThriftTestClient& c, const std::map<std::int32_t, std::int32_t>& v) {
      std::map<std::int32_t, std::int32_t> r;
      c.testMap(r, v);
      return r;
    });
  using StringMap = std::map<std::string, std::string>;
  for (const StringMap& m :
       {StringMap{{"a", "2"}, {"b", "blah"}, {"some", "thing"}}, StringMap{},
        StringMap{{"", ""}, {"日本", "🦀"}, {"key with spaces", "nul \0 inside"s}}})
    echo(C, "testStringMap", m, [](ThriftTestClient& c, const StringMap& v) {
      StringMap r;
      c.testStringMap(r, v);
      return r;
    });
  for (const std::set<std::int32_t>& s :
       {std::set<std::int32_t>{-2, -1, 0, 1, 2}, std::set<std::int32_t>{},
        std::set<std::int32_t>{kMin, kMax}})
    echo(C, "testSet", s, [](ThriftTestClient& c, const std::set<std::int32_t>& v) {
      std::set<std::int32_t> r;
      c.testSet(r, v);
      return r;
    });
  for (const std::vector<std::int32_t>& l :
       {std::vector<std::int32_t>{-2, -1, 0, 1, 2}, std::vector<std::int32_t>{},
        std::vector<std::int32_t>{3, 3, 1, -7, 3, kMin}})
    echo(C, "testList", l, [](ThriftTestClient& c, const std::vector<std::int32_t>& v) {
      std::vector<std::int32_t> r;
      c.testList(r, v);
      return r;
    });
  for (std::int32_t hello : {1, -1})
    expect(C, "testMapMap", "testMapMap(" + show(hello) + ")", thrifttest::mapMapAnswer(),
           [hello](ThriftTestClient& c) {
             std::map<std::int32_t, std::map<std::int32_t, std::int32_t>> r;
             c.testMapMap(r, hello);
             return r;
           });
}

void Checks::exceptions() {
  const Group E = Group::Exceptions;
  auto judge = [](std::function<bool(const Thrown&)> ok, std::string expected) {
    return [ok, expected](const Thrown& got) -> Verdict {
      if (ok(got)) return std::nullopt;
      return "expected " + expected + ", got " + shorten(got.describe());
    };
  };
  auto exception = [](const std::string& arg) {
    return on<ThriftTestClient>(
        [arg](ThriftTestClient& c) { return capture([&](Xtruct&) { c.testException(arg); }); });
  };
  auto multi = [](const std::string& a0, const std::string& a1) {
    return on<ThriftTestClient>([a0, a1](ThriftTestClient& c) {
      return capture([&](Xtruct& r) { c.testMultiException(r, a0, a1); });
    });
  };

  Xception want1 = thrifttest::xception("Xception");
  check(E, "testException", "testException(\"Xception\")", exception("Xception"),
        judge([want1](const Thrown& t) { return t.kind == Thrown::GotXception && t.x == want1; },
              show(want1)));
  check(E, "testException", "testException(\"TException\")", exception("TException"),
        judge([](const Thrown& t) { return t.kind == Thrown::GotApplication; },
              "a TApplicationException"));
  check(E, "testException", "testException(\"success\")", exception("success"),
        judge([](const Thrown& t) { return t.kind == Thrown::Returned; }, "a normal return"));

  Xception want2 = thrifttest::xception("This is an Xception");
  check(E, "testMultiException", "testMultiException(\"Xception\", \"test 1\")",
        multi("Xception", "test 1"),
        judge([want2](const Thrown& t) { return t.kind == Thrown::GotXception && t.x == want2; },
              show(want2)));
  // Only errorCode and struct_thing.string_thing are specified.
  Xception2 want3 = thrifttest::multiXception2();
  check(E, "testMultiException", "testMultiException(\"Xception2\", \"test 2\")",
        multi("Xception2", "test 2"),
        judge(
            [want3](const Thrown& t) {
              return t.kind == Thrown::GotXception2 && t.x2.errorCode == want3.errorCode &&
                     t.x2.struct_thing.string_thing == want3.struct_thing.string_thing;
            },
            show(want3)));
  // Peers whose fields are never absent also send byte_thing etc. as zero:
  // only string_thing is specified.
  check(E, "testMultiException", "testMultiException(\"success\", \"test 3\")",
        multi("success", "test 3"),
        judge(
            [](const Thrown& t) {
              return t.kind == Thrown::Returned && t.ret.string_thing == "test 3";
            },
            "string_thing \"test 3\""));
  // Exceptions leave the connection in step.
  echo(E, "testI32", std::int32_t{7},
       [](ThriftTestClient& c, std::int32_t v) { return c.testI32(v); });
}

void Checks::oneway() {
  auto started = Clock::now();
  auto reconnects_before = conn_.reconnects();
  Verdict why;
  bool timed_out = false;
  bool unknown = false;
  try {
    conn_.once("testOneway", on<ThriftTestClient>([](ThriftTestClient& c) {
                 c.testOneway(1);
                 return 0;
               }));
    auto elapsed = Clock::now() - started;
    // A call that had to reconnect first cannot be judged by its time.
    bool reconnected = conn_.reconnects() != reconnects_before;
    if (!reconnected && elapsed > kOnewayMaxReturn)
      why = "returned after " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()) +
            " ms, more than " + std::to_string(kOnewayMaxReturn.count()) +
            " ms: did it wait for a reply?";
  } catch (const OutcomeUnknown& e) {
    // Never retried: the server may or may not have run it. Not a failure;
    // the testI32(-1) below is the check.
    report_.unknown.push_back("UNKNOWN [basetypes] testOneway(1): outcome unknown: "s +
                              e.what());
    unknown = true;
  } catch (const CallFailed& e) {  // could not even connect
    why = "got error: "s + e.what();
    timed_out = e.timed_out;
  } catch (const std::exception& e) {
    why = "got an error: "s + e.what();
  }
  if (!unknown) record(Group::BaseTypes, "testOneway", "testOneway(1)", why, timed_out);
  // The connection is still usable once the server has slept.
  echo(Group::BaseTypes, "testI32", std::int32_t{-1},
       [](ThriftTestClient& c, std::int32_t v) { return c.testI32(v); });
}

void secondService(Connection& conn, Report& report) {
  Checks checks(conn, report);
  for (const std::string& s : {"Test"s, "SecondService: ☃ 日本語 🦀"s}) {
    std::string want = thrifttest::secondTestStringAnswer(s);
    checks.check(Group::BaseTypes, "secondtestString", "secondtestString(" + show(s) + ")",
                 on<SecondServiceClient>([s](SecondServiceClient& c) {
                   std::string r;
                   c.secondtestString(r, s);
                   return r;
                 }),
                 [&](const std::string& got) -> Verdict {
                   if (got == want) return std::nullopt;
                   return "expected " + shorten(show(want)) + ", got " + shorten(show(got));
                 });
  }
}

reconnecting::Config connectionConfig(const thrifttest::ClientOptions& o, bool multiplexed) {
  reconnecting::Config c;
  c.endpoint = o.server;
  c.protocol = o.protocol;
  c.transport = o.transport;
  c.multiplexed = multiplexed;
  c.connect_timeout_ms = o.connect_timeout_ms;
  c.timeout_ms = o.timeout_ms;
  c.log_prefix = kProg;
  return c;
}

template <typename Client>
Connection::ClientFactory factory(const char* service) {
  return [service](const Connection::ProtocolPtr& protocol, bool multiplexed) {
    Connection::ProtocolPtr p = protocol;
    if (multiplexed) p = std::make_shared<TMultiplexedProtocol>(protocol, service);
    return std::static_pointer_cast<void>(std::make_shared<Client>(p));
  };
}

}  // namespace

int main(int argc, char** argv) {
  const thrifttest::ClientOptions opts = thrifttest::clientOptionsOrExit(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  // Thrift logs every socket error itself before throwing; Connection logs
  // the exception, so keep stderr to one line per attempt.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});

  reconnecting::BackoffPolicy policy;  // 10 ms doubling, capped at 200 ms, 3 attempts
  policy.budget = std::chrono::milliseconds(opts.reconnect_deadline_ms);

  Report report;
  const std::uint32_t loops = opts.loops == 0 ? 1 : opts.loops;
  for (std::uint32_t n = 1; n <= loops; ++n) {
    auto [checks_before, failed_before] = report.totals();
    {
      // Each loop on a fresh connection; not a reconnect.
      Connection test(connectionConfig(opts, opts.multiplexed), policy,
                      factory<ThriftTestClient>("ThriftTest"));
      try {
        test.open();
      } catch (const CallFailed& e) {
        report.aborted.push_back("loop " + std::to_string(n) + ": " + e.what());
        break;
      }
      Checks checks(test, report);
      checks.baseTypes();
      checks.structs();
      checks.containers();
      checks.exceptions();
      checks.oneway();
      // One connection at a time: a `simple` server serves the next
      // connection only once this one is closed.
      test.close();
      report.reconnects += test.reconnects();
    }
    if (opts.multiplexed) {
      Connection second(connectionConfig(opts, true), policy,
                        factory<SecondServiceClient>("SecondService"));
      secondService(second, report);
      second.close();
      report.reconnects += second.reconnects();
    }
    auto [checks_after, failed_after] = report.totals();
    std::printf("loop %u: %u checks, %u failed, %llu reconnects\n", n,
                checks_after - checks_before, failed_after - failed_before,
                static_cast<unsigned long long>(report.reconnects));
    std::fflush(stdout);  // the runner reads these lines while the suite goes on
  }
  for (const auto& [method, t] : report.methods)
    std::printf("%s: %u checks, %u failed: %s\n", method.c_str(), t.checks, t.failed,
                t.failed == 0 ? "ok" : "FAILED");
  std::fflush(stdout);
  for (const auto& f : report.failures)
    std::fprintf(stderr, "%s: FAILED [%s] %s: %s\n", kProg, name(f.group), f.check.c_str(),
                 f.message.c_str());
  for (const auto& line : report.unknown) std::fprintf(stderr, "%s: %s\n", kProg, line.c_str());
  for (const auto& why : report.aborted)
    std::fprintf(stderr, "%s: could not run the suite: %s\n", kProg, why.c_str());
  return report.exitCode();
}
