// Writes the TJSONProtocol test vectors of crates/thrift-frame-wire with the
// C++ library (Debian libthrift 0.17), one file per case: <dir>/<case>.cpp.json.
// Not part of `make`. After `make` has generated gen-cpp/thrifttest, from
// interop/cpp (one command):
//   g++ -std=c++17 -O2 -Wall -Wextra -Igen-cpp/thrifttest -Isrc
//       tools/json_vectors.cpp gen-cpp/thrifttest/ThriftTest_types.cpp
//       gen-cpp/thrifttest/ThriftTest.cpp src/thrifttest_order.cpp
//       $(pkg-config --cflags --libs thrift) -o build/json-vectors
//   build/json-vectors ../../crates/thrift-frame-wire/tests/vectors/json
// The same cases, in the same order, are in ../../go/tools/json-vectors and
// ../../python/tools/json_vectors.py; see the vectors' README.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

#include <thrift/protocol/TJSONProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "ThriftTest.h"

using apache::thrift::protocol::TJSONProtocol;
using apache::thrift::protocol::TType;
using apache::thrift::transport::TMemoryBuffer;
using namespace apache::thrift::protocol;
using namespace thrift::test;

namespace {

Xtruct xtruct(const std::string& s, int8_t b, int32_t i, int64_t l) {
  Xtruct x;
  x.string_thing = s;
  x.byte_thing = b;
  x.i32_thing = i;
  x.i64_thing = l;
  return x;
}

void message(TJSONProtocol& p) {
  ThriftTest_testStruct_args args;
  args.thing = xtruct("Zero", 1, -3, -5);
  p.writeMessageBegin("testStruct", T_CALL, 7);
  args.write(&p);
  p.writeMessageEnd();
}

void xtruct2(TJSONProtocol& p) {
  Xtruct2 x;
  x.byte_thing = 1;
  x.struct_thing = xtruct("Zero", 1, -3, -5);
  x.i32_thing = 5;
  x.write(&p);
}

void insanity(TJSONProtocol& p) {
  Insanity x;
  x.userMap[Numberz::FIVE] = 5000;
  x.xtructs.push_back(xtruct("Goodbye4", 4, 4, 4));
  x.xtructs.push_back(xtruct("Hello2", 2, 2, 2));
  x.write(&p);
}

void xception(TJSONProtocol& p) {
  Xception x;
  x.errorCode = 1001;
  x.message = "Xception";
  x.write(&p);
}

void nested_map(TJSONProtocol& p) {
  p.writeMapBegin(T_I32, T_MAP, 2);
  p.writeI32(-4);
  p.writeMapBegin(T_I32, T_I32, 4);
  for (int32_t i = -4; i <= -1; ++i) {
    p.writeI32(i);
    p.writeI32(i);
  }
  p.writeMapEnd();
  p.writeI32(4);
  p.writeMapBegin(T_I32, T_I32, 4);
  for (int32_t i = 1; i <= 4; ++i) {
    p.writeI32(i);
    p.writeI32(i);
  }
  p.writeMapEnd();
  p.writeMapEnd();
}

void containers(TJSONProtocol& p) {
  const int32_t list[] = {-1, 0, 1, 2147483647, -2147483647 - 1};
  p.writeListBegin(T_I32, 5);
  for (int32_t i : list) p.writeI32(i);
  p.writeListEnd();
  p.writeSetBegin(T_I32, 2);
  p.writeI32(-1);
  p.writeI32(1);
  p.writeSetEnd();
  p.writeMapBegin(T_I32, T_STRING, 2);
  p.writeI32(1);
  p.writeString("one");
  p.writeI32(-1);
  p.writeString("minus one");
  p.writeMapEnd();
  p.writeListBegin(T_STRING, 0);
  p.writeListEnd();
  p.writeSetBegin(T_I64, 0);
  p.writeSetEnd();
  p.writeMapBegin(T_I32, T_STRING, 0);
  p.writeMapEnd();
  p.writeListBegin(T_LIST, 2);
  p.writeListBegin(T_I16, 1);
  p.writeI16(7);
  p.writeListEnd();
  p.writeListBegin(T_I16, 0);
  p.writeListEnd();
  p.writeListEnd();
}

void ints(TJSONProtocol& p) {
  p.writeListBegin(T_BYTE, 3);
  p.writeByte(-128);
  p.writeByte(0);
  p.writeByte(127);
  p.writeListEnd();
  p.writeListBegin(T_I16, 2);
  p.writeI16(-32768);
  p.writeI16(32767);
  p.writeListEnd();
  p.writeListBegin(T_I32, 2);
  p.writeI32(std::numeric_limits<int32_t>::min());
  p.writeI32(std::numeric_limits<int32_t>::max());
  p.writeListEnd();
  p.writeListBegin(T_I64, 4);
  p.writeI64(std::numeric_limits<int64_t>::min());
  p.writeI64(std::numeric_limits<int64_t>::max());
  p.writeI64(9007199254740993LL);
  p.writeI64(-9007199254740993LL);
  p.writeListEnd();
  p.writeListBegin(T_BOOL, 2);
  p.writeBool(true);
  p.writeBool(false);
  p.writeListEnd();
}

const double kDoubles[] = {0.0,
                           -0.0,
                           1.0 / 3.0,
                           1e300,
                           5e-324,
                           std::nan(""),
                           HUGE_VAL,
                           -HUGE_VAL,
                           0.1,
                           -2.5,
                           1e21,
                           1e-7,
                           123456789012345678.0,
                           9007199254740993.0,
                           1.7976931348623157e308};

void doubles(TJSONProtocol& p) {
  const uint32_t n = sizeof kDoubles / sizeof kDoubles[0];
  p.writeListBegin(T_DOUBLE, n);
  for (double d : kDoubles) p.writeDouble(d);
  p.writeListEnd();
}

void map_keys(TJSONProtocol& p) {
  const double keys[] = {1.0 / 3.0, std::nan(""), HUGE_VAL, -HUGE_VAL, -0.0, 1e300};
  p.writeMapBegin(T_DOUBLE, T_I32, 6);
  int32_t v = 1;
  for (double k : keys) {
    p.writeDouble(k);
    p.writeI32(v++);
  }
  p.writeMapEnd();
  p.writeMapBegin(T_I64, T_STRING, 2);
  p.writeI64(std::numeric_limits<int64_t>::min());
  p.writeString("min");
  p.writeI64(9007199254740993LL);
  p.writeString("2^53+1");
  p.writeMapEnd();
  p.writeMapBegin(T_STRING, T_BOOL, 2);
  p.writeString("");
  p.writeBool(true);
  p.writeString("k\"ey");
  p.writeBool(false);
  p.writeMapEnd();
  p.writeMapBegin(T_BOOL, T_BYTE, 2);
  p.writeBool(true);
  p.writeByte(-1);
  p.writeBool(false);
  p.writeByte(0);
  p.writeMapEnd();
}

const char* const kStrings[] = {
    "",
    "plain",
    "quote\" backslash\\ slash/",
    "ctl \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f end",
    "\xc3\xa9 \xc3\xbc \xc3\x9f",  // é ü ß
    "\xe4\xb8\xad\xe6\x96\x87",      // 中文
    "\xf0\x9f\x98\x80",              // U+1F600
    "<tag>&amp;'",
    "\xe2\x80\xa8\xe2\x80\xa9",  // U+2028 U+2029
};

void strings(TJSONProtocol& p) {
  const uint32_t n = sizeof kStrings / sizeof kStrings[0];
  p.writeListBegin(T_STRING, n + 1);
  for (const char* s : kStrings) p.writeString(s);
  p.writeString(std::string("nul \0 end", 9));
  p.writeListEnd();
}

void binary(TJSONProtocol& p) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string values[] = {all, "", "a", "ab", "abc"};
  p.writeListBegin(T_STRING, 5);
  for (const auto& b : values) p.writeBinary(b);
  p.writeListEnd();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <output directory>\n";
    return 2;
  }
  const std::pair<const char*, std::function<void(TJSONProtocol&)>> cases[] = {
      {"message", message},   {"xtruct2", xtruct2},       {"insanity", insanity},
      {"xception", xception}, {"nested_map", nested_map}, {"containers", containers},
      {"ints", ints},         {"doubles", doubles},       {"map_keys", map_keys},
      {"strings", strings},   {"binary", binary},
  };
  for (const auto& c : cases) {
    auto buffer = std::make_shared<TMemoryBuffer>();
    TJSONProtocol protocol(buffer);
    c.second(protocol);
    const std::string path = std::string(argv[1]) + "/" + c.first + ".cpp.json";
    std::ofstream(path, std::ios::binary) << buffer->getBufferAsString();
    std::cout << path << "\n";
  }
  return 0;
}
