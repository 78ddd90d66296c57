// ThriftTest and SecondService with upstream's cross-test server semantics
// (interop/SPEC.md, "ThriftTest", server semantics table). The answers that
// are not plain echoes are also what thrifttest-client expects.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "SecondService.h"
#include "ThriftTest.h"

namespace thrifttest {

using InsanityAnswer =
    std::map<thrift::test::UserId, std::map<thrift::test::Numberz::type, thrift::test::Insanity>>;

std::map<int32_t, std::map<int32_t, int32_t>> mapMapAnswer();
InsanityAnswer insanityAnswer(const thrift::test::Insanity& argument);
thrift::test::Xtruct multiAnswer(int8_t arg0, int32_t arg1, int64_t arg2);
thrift::test::Xception xception(const std::string& message);  // errorCode 1001
thrift::test::Xception2 multiXception2();                      // 2002, "This is an Xception2"
std::string secondTestStringAnswer(const std::string& s);      // testString("<s>")
constexpr const char* kTExceptionMessage = "This is a TException";
constexpr int kMaxOnewaySleepSeconds = 60;

class ThriftTestHandler : public thrift::test::ThriftTestIf {
 public:
  void testVoid() override;
  void testString(std::string& ret, const std::string& thing) override;
  bool testBool(const bool thing) override;
  int8_t testByte(const int8_t thing) override;
  int32_t testI32(const int32_t thing) override;
  int64_t testI64(const int64_t thing) override;
  double testDouble(const double thing) override;
  void testBinary(std::string& ret, const std::string& thing) override;
  void testStruct(thrift::test::Xtruct& ret, const thrift::test::Xtruct& thing) override;
  void testNest(thrift::test::Xtruct2& ret, const thrift::test::Xtruct2& thing) override;
  void testMap(std::map<int32_t, int32_t>& ret, const std::map<int32_t, int32_t>& thing) override;
  void testStringMap(std::map<std::string, std::string>& ret,
                     const std::map<std::string, std::string>& thing) override;
  void testSet(std::set<int32_t>& ret, const std::set<int32_t>& thing) override;
  void testList(std::vector<int32_t>& ret, const std::vector<int32_t>& thing) override;
  thrift::test::Numberz::type testEnum(const thrift::test::Numberz::type thing) override;
  thrift::test::UserId testTypedef(const thrift::test::UserId thing) override;
  void testMapMap(std::map<int32_t, std::map<int32_t, int32_t>>& ret,
                  const int32_t hello) override;
  void testInsanity(InsanityAnswer& ret, const thrift::test::Insanity& argument) override;
  void testMulti(thrift::test::Xtruct& ret, const int8_t arg0, const int32_t arg1,
                 const int64_t arg2, const std::map<int16_t, std::string>& arg3,
                 const thrift::test::Numberz::type arg4,
                 const thrift::test::UserId arg5) override;
  void testException(const std::string& arg) override;
  void testMultiException(thrift::test::Xtruct& ret, const std::string& arg0,
                          const std::string& arg1) override;
  void testOneway(const int32_t secondsToSleep) override;
};

class SecondServiceHandler : public thrift::test::SecondServiceIf {
 public:
  void secondtestString(std::string& ret, const std::string& thing) override;
};

}  // namespace thrifttest
