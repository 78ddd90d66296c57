#include "thrifttest_handler.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <thrift/TApplicationException.h>

namespace thrifttest {

using namespace thrift::test;

std::map<int32_t, std::map<int32_t, int32_t>> mapMapAnswer() {
  std::map<int32_t, std::map<int32_t, int32_t>> m;
  for (int32_t i = 1; i <= 4; ++i) {
    m[-4][-i] = -i;
    m[4][i] = i;
  }
  return m;
}

InsanityAnswer insanityAnswer(const Insanity& argument) {
  InsanityAnswer a;
  a[1][Numberz::TWO] = argument;
  a[1][Numberz::THREE] = argument;
  a[2][Numberz::SIX] = Insanity();  // userMap {}, xtructs []
  return a;
}

Xtruct multiAnswer(int8_t arg0, int32_t arg1, int64_t arg2) {
  Xtruct x;
  x.__set_string_thing("Hello2");
  x.__set_byte_thing(arg0);
  x.__set_i32_thing(arg1);
  x.__set_i64_thing(arg2);
  return x;
}

Xception xception(const std::string& message) {
  Xception e;
  e.__set_errorCode(1001);
  e.__set_message(message);
  return e;
}

Xception2 multiXception2() {
  Xception2 e;
  e.__set_errorCode(2002);
  Xtruct x;
  x.__set_string_thing("This is an Xception2");
  e.__set_struct_thing(x);
  return e;
}

std::string secondTestStringAnswer(const std::string& s) { return "testString(\"" + s + "\")"; }

void ThriftTestHandler::testVoid() {}
void ThriftTestHandler::testString(std::string& ret, const std::string& thing) { ret = thing; }
bool ThriftTestHandler::testBool(const bool thing) { return thing; }
int8_t ThriftTestHandler::testByte(const int8_t thing) { return thing; }
int32_t ThriftTestHandler::testI32(const int32_t thing) { return thing; }
int64_t ThriftTestHandler::testI64(const int64_t thing) { return thing; }
double ThriftTestHandler::testDouble(const double thing) { return thing; }
void ThriftTestHandler::testBinary(std::string& ret, const std::string& thing) { ret = thing; }
void ThriftTestHandler::testStruct(Xtruct& ret, const Xtruct& thing) { ret = thing; }
void ThriftTestHandler::testNest(Xtruct2& ret, const Xtruct2& thing) { ret = thing; }
void ThriftTestHandler::testMap(std::map<int32_t, int32_t>& ret,
                                const std::map<int32_t, int32_t>& thing) {
  ret = thing;
}
void ThriftTestHandler::testStringMap(std::map<std::string, std::string>& ret,
                                      const std::map<std::string, std::string>& thing) {
  ret = thing;
}
void ThriftTestHandler::testSet(std::set<int32_t>& ret, const std::set<int32_t>& thing) {
  ret = thing;
}
void ThriftTestHandler::testList(std::vector<int32_t>& ret, const std::vector<int32_t>& thing) {
  ret = thing;
}
Numberz::type ThriftTestHandler::testEnum(const Numberz::type thing) { return thing; }
UserId ThriftTestHandler::testTypedef(const UserId thing) { return thing; }

void ThriftTestHandler::testMapMap(std::map<int32_t, std::map<int32_t, int32_t>>& ret,
                                   const int32_t /*hello*/) {
  ret = mapMapAnswer();
}

void ThriftTestHandler::testInsanity(InsanityAnswer& ret, const Insanity& argument) {
  ret = insanityAnswer(argument);
}

void ThriftTestHandler::testMulti(Xtruct& ret, const int8_t arg0, const int32_t arg1,
                                  const int64_t arg2, const std::map<int16_t, std::string>&,
                                  const Numberz::type, const UserId) {
  ret = multiAnswer(arg0, arg1, arg2);
}

void ThriftTestHandler::testException(const std::string& arg) {
  if (arg == "Xception") throw xception(arg);
  // The generated processor answers any other exception with a
  // TApplicationException (UNKNOWN) carrying what().
  if (arg == "TException")
    throw apache::thrift::TApplicationException(apache::thrift::TApplicationException::UNKNOWN,
                                                kTExceptionMessage);
}

void ThriftTestHandler::testMultiException(Xtruct& ret, const std::string& arg0,
                                           const std::string& arg1) {
  if (arg0 == "Xception") throw xception("This is an Xception");
  if (arg0 == "Xception2") throw multiXception2();
  ret = Xtruct();
  ret.__set_string_thing(arg1);
}

// Runs on the connection's thread (TNonblockingServer: on its worker).
void ThriftTestHandler::testOneway(const int32_t secondsToSleep) {
  int seconds = std::clamp(secondsToSleep, 0, kMaxOnewaySleepSeconds);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

void SecondServiceHandler::secondtestString(std::string& ret, const std::string& thing) {
  ret = secondTestStringAnswer(thing);
}

}  // namespace thrifttest
