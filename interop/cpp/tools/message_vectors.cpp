// Writes the whole-message test vectors of crates/thrift-frame-wire with the
// C++ library (Debian libthrift 0.17): one message per file, unframed, in
// TBinaryProtocol (strict) and TCompactProtocol:
// <dir>/<case>.cpp.binary and <dir>/<case>.cpp.compact.
// Not part of `make`. After `make` has generated gen-cpp/thrifttest, from
// interop/cpp (one command):
//   g++ -std=c++17 -O2 -Wall -Wextra -Igen-cpp/thrifttest -Isrc
//       tools/message_vectors.cpp gen-cpp/thrifttest/ThriftTest_types.cpp
//       gen-cpp/thrifttest/ThriftTest.cpp src/thrifttest_order.cpp
//       $(pkg-config --cflags --libs thrift) -o build/message-vectors
//   build/message-vectors ../../crates/thrift-frame-wire/tests/vectors/messages
// The same cases, in the same order, are in ../../go/tools/message-vectors and
// ../../python/tools/message_vectors.py; see the vectors' README.

#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/TMultiplexedProtocol.h>
#include <thrift/protocol/TProtocolDecorator.h>
#include <thrift/transport/TBufferTransports.h>

#include "ThriftTest.h"

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TCompactProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TMultiplexedProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::protocol::TProtocolDecorator;
using apache::thrift::transport::TMemoryBuffer;
using namespace apache::thrift::protocol;
using namespace thrift::test;

namespace {

using Protocol = std::shared_ptr<TProtocol>;

// ThriftTestClient::send_X always writes seqid 0. This decorator writes the
// case's seqid in its place and passes everything else through, so that the
// calls below are the generated client's own send_X.
class WithSeqid : public TProtocolDecorator {
 public:
  WithSeqid(const Protocol& wrapped, int32_t seqid) : TProtocolDecorator(wrapped), seqid_(seqid) {}

  uint32_t writeMessageBegin_virt(const std::string& name, const TMessageType type,
                                  const int32_t) override {
    return TProtocolDecorator::writeMessageBegin_virt(name, type, seqid_);
  }

 private:
  int32_t seqid_;
};

ThriftTestClient client(const Protocol& p, int32_t seqid = 1) {
  return ThriftTestClient(std::make_shared<WithSeqid>(p, seqid));
}

// What ThriftTestProcessor writes after a handler returned: the result struct
// as a REPLY.
template <typename Result>
void reply(const Protocol& p, const char* method, const Result& result) {
  p->writeMessageBegin(method, T_REPLY, 1);
  result.write(p.get());
  p->writeMessageEnd();
  p->getTransport()->writeEnd();
  p->getTransport()->flush();
}

Xtruct xtruct(const std::string& s, int8_t b, int32_t i, int64_t l) {
  Xtruct x;
  x.string_thing = s;
  x.byte_thing = b;
  x.i32_thing = i;
  x.i64_thing = l;
  return x;
}

Insanity insanity() {
  Insanity x;
  x.userMap[Numberz::FIVE] = 5000;
  x.xtructs.push_back(xtruct("Goodbye4", 4, 4, 4));
  return x;
}

void call_void(const Protocol& p) { client(p).send_testVoid(); }

void call_string(const Protocol& p) { client(p).send_testString("Hello, \xe4\xb8\x96\xe7\x95\x8c"); }

void call_bool(const Protocol& p) { client(p).send_testBool(true); }

void call_struct(const Protocol& p) { client(p).send_testStruct(xtruct("Zero", 1, -3, -5)); }

void call_nest(const Protocol& p) {
  Xtruct2 x;
  x.byte_thing = 1;
  x.struct_thing = xtruct("Zero", 1, -3, -5);
  x.i32_thing = 5;
  client(p).send_testNest(x);
}

void call_map(const Protocol& p) { client(p).send_testMap({{1, 10}}); }

void call_string_map(const Protocol& p) { client(p).send_testStringMap({{"a", "b"}}); }

void call_list(const Protocol& p) { client(p).send_testList({-2, -1, 0, 1, 2}); }

void call_list_long(const Protocol& p) {
  std::vector<int32_t> list;
  for (int32_t i = 1; i <= 20; ++i) list.push_back(i);
  client(p).send_testList(list);
}

void call_set(const Protocol& p) { client(p).send_testSet({3}); }

void call_insanity(const Protocol& p) { client(p).send_testInsanity(insanity()); }

void call_binary(const Protocol& p) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  client(p).send_testBinary(all);
}

void call_double(const Protocol& p) { client(p).send_testDouble(-5.25); }

void call_i64(const Protocol& p) { client(p).send_testI64(-34359738368LL); }

void call_oneway(const Protocol& p) { client(p).send_testOneway(1); }

void call_multiplexed(const Protocol& p) {
  ThriftTestClient(
      std::make_shared<TMultiplexedProtocol>(std::make_shared<WithSeqid>(p, 1), "ThriftTest"))
      .send_testString("x");
}

void reply_map_map(const Protocol& p) {
  ThriftTest_testMapMap_result result;
  for (int32_t i = 1; i <= 4; ++i) {
    result.success[-4][-i] = -i;
    result.success[4][i] = i;
  }
  result.__isset.success = true;
  reply(p, "testMapMap", result);
}

void reply_insanity(const Protocol& p) {
  ThriftTest_testInsanity_result result;
  result.success[1][Numberz::TWO] = insanity();
  result.__isset.success = true;
  reply(p, "testInsanity", result);
}

void reply_exception(const Protocol& p) {
  ThriftTest_testException_result result;
  result.err1.errorCode = 1001;
  result.err1.message = "Xception";
  result.__isset.err1 = true;
  reply(p, "testException", result);
}

// As ThriftTestProcessor answers a call of a method it does not know.
void reply_application_exception(const Protocol& p) {
  TApplicationException x(TApplicationException::UNKNOWN_METHOD, "bad method");
  p->writeMessageBegin("testUnknown", T_EXCEPTION, 1);
  x.write(p.get());
  p->writeMessageEnd();
  p->getTransport()->writeEnd();
  p->getTransport()->flush();
}

void call_empty_args(const Protocol& p) { client(p, 2147483647).send_testVoid(); }

void call_negative_seqid(const Protocol& p) { client(p, -1).send_testVoid(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <output directory>\n";
    return 2;
  }
  const std::pair<const char*, std::function<void(const Protocol&)>> cases[] = {
      {"call_void", call_void},
      {"call_string", call_string},
      {"call_bool", call_bool},
      {"call_struct", call_struct},
      {"call_nest", call_nest},
      {"call_map", call_map},
      {"call_string_map", call_string_map},
      {"call_list", call_list},
      {"call_list_long", call_list_long},
      {"call_set", call_set},
      {"call_insanity", call_insanity},
      {"call_binary", call_binary},
      {"call_double", call_double},
      {"call_i64", call_i64},
      {"call_oneway", call_oneway},
      {"call_multiplexed", call_multiplexed},
      {"reply_map_map", reply_map_map},
      {"reply_insanity", reply_insanity},
      {"reply_exception", reply_exception},
      {"reply_application_exception", reply_application_exception},
      {"call_empty_args", call_empty_args},
      {"call_negative_seqid", call_negative_seqid},
  };
  using Factory = std::function<Protocol(const std::shared_ptr<TMemoryBuffer>&)>;
  const std::pair<const char*, Factory> protocols[] = {
      // Strict write (the versioned header) is TBinaryProtocol's default.
      {"binary", [](const auto& t) { return std::make_shared<TBinaryProtocol>(t); }},
      {"compact", [](const auto& t) { return std::make_shared<TCompactProtocol>(t); }},
  };
  for (const auto& c : cases) {
    for (const auto& protocol : protocols) {
      auto buffer = std::make_shared<TMemoryBuffer>();
      c.second(protocol.second(buffer));
      const std::string path =
          std::string(argv[1]) + "/" + c.first + ".cpp." + protocol.first;
      std::ofstream(path, std::ios::binary) << buffer->getBufferAsString();
      std::cout << path << "\n";
    }
  }
  return 0;
}
