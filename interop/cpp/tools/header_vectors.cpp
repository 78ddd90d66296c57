// Writes the THeader test vectors of crates/thrift-frame-wire with the C++
// library (Debian libthrift 0.17): THeaderProtocol over a TMemoryBuffer, one
// frame per file as THeaderTransport::flush puts it on the wire (4-byte frame
// length included): <dir>/<case>.cpp.
// Not part of `make`. After `make` has generated gen-cpp/thrifttest, from
// interop/cpp (one command; THeaderTransport lives in libthriftz):
//   g++ -std=c++17 -O2 -Wall -Wextra -Igen-cpp/thrifttest -Isrc
//       tools/header_vectors.cpp gen-cpp/thrifttest/ThriftTest_types.cpp
//       gen-cpp/thrifttest/ThriftTest.cpp src/thrifttest_order.cpp
//       $(pkg-config --cflags --libs thrift-z thrift) -o build/header-vectors
//   build/header-vectors ../../crates/thrift-frame-wire/tests/vectors/header
// The same cases, in the same order, are in ../../go/tools/header-vectors and
// ../../python/tools/header_vectors.py; see the vectors' README.

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/protocol/TProtocolDecorator.h>
#include <thrift/protocol/TProtocolTypes.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/THeaderTransport.h>

#include "ThriftTest.h"

using apache::thrift::protocol::T_BINARY_PROTOCOL;
using apache::thrift::protocol::T_COMPACT_PROTOCOL;
using apache::thrift::protocol::T_REPLY;
using apache::thrift::protocol::THeaderProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TProtocol;
using apache::thrift::protocol::TProtocolDecorator;
using apache::thrift::transport::TMemoryBuffer;
using apache::thrift::transport::THeaderTransport;
using namespace thrift::test;

namespace {

using Protocol = std::shared_ptr<TProtocol>;

const char* const kText = "Hello, \xe4\xb8\x96\xe7\x95\x8c";

// ThriftTestClient::send_X always writes seqid 0. This decorator writes the
// case's seqid in its place and passes everything else through, so that the
// calls below are the generated client's own send_X (as in
// message_vectors.cpp).
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

void call_string(const Protocol& p, int32_t seqid) {
  ThriftTestClient(std::make_shared<WithSeqid>(p, seqid)).send_testString(kText);
}

// What ThriftTestProcessor writes after the handler returned: the result
// struct as a REPLY.
void reply_string(const Protocol& p, int32_t seqid) {
  ThriftTest_testString_result result;
  result.success = kText;
  result.__isset.success = true;
  p->writeMessageBegin("testString", T_REPLY, seqid);
  result.write(p.get());
  p->writeMessageEnd();
  p->getTransport()->writeEnd();
  p->getTransport()->flush();
}

struct Case {
  const char* name;
  uint16_t protocol_id;
  bool zlib;
  std::vector<std::pair<std::string, std::string>> info;
  void (*write)(const Protocol&, int32_t);
  int32_t seqid;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <output directory>\n";
    return 2;
  }
  const std::pair<std::string, std::string> request_id{"x-request-id", "req-42"};
  const Case cases[] = {
      {"binary_plain", T_BINARY_PROTOCOL, false, {}, call_string, 1},
      {"compact_plain", T_COMPACT_PROTOCOL, false, {}, call_string, 1},
      {"binary_info", T_BINARY_PROTOCOL, false, {request_id}, call_string, 1},
      {"compact_info_two", T_COMPACT_PROTOCOL, false,
       {request_id, {"x-deadline-ms", "1500"}}, call_string, 1},
      {"binary_zlib", T_BINARY_PROTOCOL, true, {request_id}, call_string, 1},
      {"compact_zlib", T_COMPACT_PROTOCOL, true, {}, call_string, 1},
      {"binary_seqid", T_BINARY_PROTOCOL, false, {}, call_string, 7},
      {"reply_binary_info", T_BINARY_PROTOCOL, false, {request_id}, reply_string, 1},
  };
  for (const auto& c : cases) {
    auto buffer = std::make_shared<TMemoryBuffer>();
    auto protocol = std::make_shared<THeaderProtocol>(buffer, c.protocol_id);
    auto transport = std::dynamic_pointer_cast<THeaderTransport>(protocol->getTransport());
    if (c.zlib) transport->setTransform(THeaderTransport::ZLIB_TRANSFORM);
    for (const auto& header : c.info) protocol->setHeader(header.first, header.second);
    c.write(protocol, c.seqid);
    const std::string path = std::string(argv[1]) + "/" + c.name + ".cpp";
    std::ofstream(path, std::ios::binary) << buffer->getBufferAsString();
    std::cout << path << "\n";
  }
  return 0;
}
