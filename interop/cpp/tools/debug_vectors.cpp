// Writes the TDebugProtocol test vectors of crates/thrift-frame-debug with the
// C++ library (Debian libthrift 0.17), one file per case: <dir>/<case>.txt.
// Not part of `make`, and needs no generated code: every case is raw
// TDebugProtocol calls. From the repository root (one command):
//   g++ -std=c++17 -O2 -Wall -Wextra interop/cpp/tools/debug_vectors.cpp
//       $(pkg-config --cflags --libs thrift) -o /tmp/debug-vectors
//       && /tmp/debug-vectors crates/thrift-frame-debug/tests/vectors
// The same calls, case by case and in the same order, are made on
// DebugOutputProtocol by crates/thrift-frame-debug/tests/cpp_vectors.rs,
// which compares its text with these files byte for byte.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <thrift/protocol/TDebugProtocol.h>
#include <thrift/transport/TBufferTransports.h>

using apache::thrift::protocol::TDebugProtocol;
using apache::thrift::transport::TMemoryBuffer;
using namespace apache::thrift::protocol;

namespace {

// A field holding one value: begin, the value's calls, end.
void field(TDebugProtocol& p, const char* name, TType type, int16_t id,
           const std::function<void()>& value) {
  p.writeFieldBegin(name, type, id);
  value();
  p.writeFieldEnd();
}

void end_struct(TDebugProtocol& p) {
  p.writeFieldStop();
  p.writeStructEnd();
}

// Xtruct of ThriftTest.thrift, by hand.
void xtruct(TDebugProtocol& p, const std::string& s, int8_t b, int32_t i, int64_t l) {
  p.writeStructBegin("Xtruct");
  field(p, "string_thing", T_STRING, 1, [&] { p.writeString(s); });
  field(p, "byte_thing", T_BYTE, 4, [&] { p.writeByte(b); });
  field(p, "i32_thing", T_I32, 9, [&] { p.writeI32(i); });
  field(p, "i64_thing", T_I64, 11, [&] { p.writeI64(l); });
  end_struct(p);
}

std::string letters(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

std::string repeat(const std::string& part, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += part;
  return s;
}

void message_base_types(TDebugProtocol& p) {
  p.writeMessageBegin("testTypes", T_CALL, 7);
  p.writeStructBegin("testTypes_args");
  field(p, "bool_true", T_BOOL, 1, [&] { p.writeBool(true); });
  field(p, "bool_false", T_BOOL, 2, [&] { p.writeBool(false); });
  field(p, "byte_min", T_BYTE, 3, [&] { p.writeByte(-128); });
  field(p, "byte_max", T_BYTE, 4, [&] { p.writeByte(127); });
  field(p, "byte_small", T_BYTE, 5, [&] { p.writeByte(5); });
  field(p, "i16_min", T_I16, 6, [&] { p.writeI16(-32768); });
  field(p, "i16_max", T_I16, 7, [&] { p.writeI16(32767); });
  field(p, "i32_min", T_I32, 8, [&] { p.writeI32(std::numeric_limits<int32_t>::min()); });
  field(p, "i32_max", T_I32, 9, [&] { p.writeI32(std::numeric_limits<int32_t>::max()); });
  field(p, "i64_min", T_I64, 10, [&] { p.writeI64(std::numeric_limits<int64_t>::min()); });
  field(p, "i64_max", T_I64, 11, [&] { p.writeI64(std::numeric_limits<int64_t>::max()); });
  field(p, "double_thing", T_DOUBLE, 12, [&] { p.writeDouble(-3.25); });
  field(p, "string_thing", T_STRING, 13, [&] { p.writeString("hello"); });
  field(p, "binary_thing", T_STRING, 14, [&] { p.writeBinary(std::string("\x00\x01\xfe\xff", 4)); });
  end_struct(p);
  p.writeMessageEnd();
}

void message_types(TDebugProtocol& p) {
  p.writeMessageBegin("ping", T_CALL, 1);
  p.writeStructBegin("ping_args");
  end_struct(p);
  p.writeMessageEnd();

  p.writeMessageBegin("add", T_REPLY, 2);
  p.writeStructBegin("add_result");
  field(p, "success", T_I32, 0, [&] { p.writeI32(42); });
  end_struct(p);
  p.writeMessageEnd();

  p.writeMessageBegin("missing", T_EXCEPTION, 3);
  p.writeStructBegin("TApplicationException");
  field(p, "message", T_STRING, 1, [&] { p.writeString("Unknown function missing"); });
  field(p, "type", T_I32, 2, [&] { p.writeI32(1); });
  end_struct(p);
  p.writeMessageEnd();

  p.writeMessageBegin("notify", T_ONEWAY, -1);
  p.writeStructBegin("notify_args");
  field(p, "event", T_STRING, 1, [&] { p.writeString("started"); });
  end_struct(p);
  p.writeMessageEnd();
}

void nested_struct(TDebugProtocol& p) {
  p.writeMessageBegin("testNest", T_REPLY, 9);
  p.writeStructBegin("testNest_result");
  field(p, "success", T_STRUCT, 0, [&] {
    p.writeStructBegin("Xtruct2");
    field(p, "byte_thing", T_BYTE, 1, [&] { p.writeByte(1); });
    field(p, "struct_thing", T_STRUCT, 2, [&] { xtruct(p, "Zero", 1, -3, -5); });
    field(p, "i32_thing", T_I32, 3, [&] { p.writeI32(5); });
    end_struct(p);
  });
  field(p, "deep", T_STRUCT, 1, [&] {
    p.writeStructBegin("Level1");
    field(p, "level2", T_STRUCT, 1, [&] {
      p.writeStructBegin("Level2");
      field(p, "level3", T_STRUCT, 1, [&] {
        p.writeStructBegin("Level3");
        field(p, "leaf", T_STRING, 1, [&] { p.writeString("leaf"); });
        end_struct(p);
      });
      field(p, "empty", T_STRUCT, 2, [&] {
        p.writeStructBegin("Empty");
        end_struct(p);
      });
      end_struct(p);
    });
    end_struct(p);
  });
  end_struct(p);
  p.writeMessageEnd();
}

void lists(TDebugProtocol& p) {
  p.writeMessageBegin("testLists", T_CALL, 10);
  p.writeStructBegin("testLists_args");
  field(p, "ints", T_LIST, 1, [&] {
    p.writeListBegin(T_I32, 3);
    p.writeI32(-1);
    p.writeI32(0);
    p.writeI32(1);
    p.writeListEnd();
  });
  field(p, "strings", T_LIST, 2, [&] {
    p.writeListBegin(T_STRING, 2);
    p.writeString("one");
    p.writeString("two");
    p.writeListEnd();
  });
  field(p, "bools", T_LIST, 3, [&] {
    p.writeListBegin(T_BOOL, 2);
    p.writeBool(true);
    p.writeBool(false);
    p.writeListEnd();
  });
  field(p, "nested", T_LIST, 4, [&] {
    p.writeListBegin(T_LIST, 2);
    p.writeListBegin(T_I16, 2);
    p.writeI16(7);
    p.writeI16(8);
    p.writeListEnd();
    p.writeListBegin(T_I16, 0);
    p.writeListEnd();
    p.writeListEnd();
  });
  field(p, "structs", T_LIST, 5, [&] {
    p.writeListBegin(T_STRUCT, 2);
    xtruct(p, "Goodbye4", 4, 4, 4);
    xtruct(p, "Hello2", 2, 2, 2);
    p.writeListEnd();
  });
  field(p, "maps", T_LIST, 6, [&] {
    p.writeListBegin(T_MAP, 1);
    p.writeMapBegin(T_STRING, T_I32, 2);
    p.writeString("a");
    p.writeI32(1);
    p.writeString("b");
    p.writeI32(2);
    p.writeMapEnd();
    p.writeListEnd();
  });
  field(p, "eleven", T_LIST, 7, [&] {
    p.writeListBegin(T_BYTE, 11);
    for (int8_t i = 0; i < 11; ++i) p.writeByte(static_cast<int8_t>(i * 25));
    p.writeListEnd();
  });
  end_struct(p);
  p.writeMessageEnd();
}

void sets(TDebugProtocol& p) {
  p.writeMessageBegin("testSets", T_CALL, 11);
  p.writeStructBegin("testSets_args");
  field(p, "longs", T_SET, 1, [&] {
    p.writeSetBegin(T_I64, 2);
    p.writeI64(-9007199254740993LL);
    p.writeI64(9007199254740993LL);
    p.writeSetEnd();
  });
  field(p, "strings", T_SET, 2, [&] {
    p.writeSetBegin(T_STRING, 2);
    p.writeString("x");
    p.writeString("y");
    p.writeSetEnd();
  });
  field(p, "structs", T_SET, 3, [&] {
    p.writeSetBegin(T_STRUCT, 1);
    xtruct(p, "in a set", 0, 0, 0);
    p.writeSetEnd();
  });
  field(p, "sets", T_SET, 4, [&] {
    p.writeSetBegin(T_SET, 2);
    p.writeSetBegin(T_BYTE, 1);
    p.writeByte(-1);
    p.writeSetEnd();
    p.writeSetBegin(T_DOUBLE, 1);
    p.writeDouble(0.5);
    p.writeSetEnd();
    p.writeSetEnd();
  });
  end_struct(p);
  p.writeMessageEnd();
}

void maps_non_string_keys(TDebugProtocol& p) {
  p.writeMessageBegin("testMaps", T_CALL, 12);
  p.writeStructBegin("testMaps_args");
  field(p, "by_i32", T_MAP, 1, [&] {
    p.writeMapBegin(T_I32, T_STRING, 2);
    p.writeI32(1);
    p.writeString("one");
    p.writeI32(-1);
    p.writeString("minus one");
    p.writeMapEnd();
  });
  field(p, "by_i64", T_MAP, 2, [&] {
    p.writeMapBegin(T_I64, T_DOUBLE, 1);
    p.writeI64(std::numeric_limits<int64_t>::min());
    p.writeDouble(0.25);
    p.writeMapEnd();
  });
  field(p, "by_bool", T_MAP, 3, [&] {
    p.writeMapBegin(T_BOOL, T_BYTE, 2);
    p.writeBool(true);
    p.writeByte(1);
    p.writeBool(false);
    p.writeByte(0);
    p.writeMapEnd();
  });
  field(p, "by_double", T_MAP, 4, [&] {
    p.writeMapBegin(T_DOUBLE, T_I16, 2);
    p.writeDouble(1.0 / 3.0);
    p.writeI16(3);
    p.writeDouble(-0.0);
    p.writeI16(0);
    p.writeMapEnd();
  });
  field(p, "by_byte", T_MAP, 5, [&] {
    p.writeMapBegin(T_BYTE, T_BOOL, 1);
    p.writeByte(-128);
    p.writeBool(true);
    p.writeMapEnd();
  });
  field(p, "by_struct", T_MAP, 6, [&] {
    p.writeMapBegin(T_STRUCT, T_LIST, 1);
    xtruct(p, "key", 1, 2, 3);
    p.writeListBegin(T_STRING, 1);
    p.writeString("value");
    p.writeListEnd();
    p.writeMapEnd();
  });
  field(p, "by_list", T_MAP, 7, [&] {
    p.writeMapBegin(T_LIST, T_SET, 1);
    p.writeListBegin(T_I32, 2);
    p.writeI32(3);
    p.writeI32(4);
    p.writeListEnd();
    p.writeSetBegin(T_STRING, 1);
    p.writeString("a");
    p.writeSetEnd();
    p.writeMapEnd();
  });
  field(p, "nested", T_MAP, 8, [&] {
    p.writeMapBegin(T_I16, T_MAP, 2);
    p.writeI16(-4);
    p.writeMapBegin(T_I32, T_I64, 2);
    p.writeI32(-4);
    p.writeI64(-4);
    p.writeI32(-3);
    p.writeI64(-3);
    p.writeMapEnd();
    p.writeI16(4);
    p.writeMapBegin(T_I32, T_I64, 0);
    p.writeMapEnd();
    p.writeMapEnd();
  });
  end_struct(p);
  p.writeMessageEnd();
}

void empty_containers(TDebugProtocol& p) {
  p.writeMessageBegin("testEmpty", T_CALL, 13);
  p.writeStructBegin("testEmpty_args");
  field(p, "list", T_LIST, 1, [&] {
    p.writeListBegin(T_STRING, 0);
    p.writeListEnd();
  });
  field(p, "set", T_SET, 2, [&] {
    p.writeSetBegin(T_I64, 0);
    p.writeSetEnd();
  });
  field(p, "map", T_MAP, 3, [&] {
    p.writeMapBegin(T_I32, T_STRING, 0);
    p.writeMapEnd();
  });
  // An empty map read from the compact protocol has no key or value types:
  // C++ reads them as T_STOP.
  field(p, "compact_map", T_MAP, 4, [&] {
    p.writeMapBegin(T_STOP, T_STOP, 0);
    p.writeMapEnd();
  });
  field(p, "list_of_empty", T_LIST, 5, [&] {
    p.writeListBegin(T_LIST, 1);
    p.writeListBegin(T_I32, 0);
    p.writeListEnd();
    p.writeListEnd();
  });
  field(p, "struct", T_STRUCT, 6, [&] {
    p.writeStructBegin("Empty");
    end_struct(p);
  });
  field(p, "string", T_STRING, 7, [&] { p.writeString(""); });
  field(p, "binary", T_STRING, 8, [&] { p.writeBinary(""); });
  end_struct(p);
  p.writeMessageEnd();
}

void binary(TDebugProtocol& p) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  p.writeStructBegin("Binaries");
  // 256 bytes: at the default limit, not over it, so shown whole.
  field(p, "all_bytes", T_STRING, 1, [&] { p.writeBinary(all); });
  field(p, "nul", T_STRING, 2, [&] { p.writeBinary(std::string(1, '\0')); });
  field(p, "high", T_STRING, 3, [&] { p.writeBinary("\xff\xfe\x80"); });
  field(p, "text", T_STRING, 4, [&] { p.writeBinary("plain"); });
  end_struct(p);
}

void long_string(TDebugProtocol& p) {
  p.writeMessageBegin("testLong", T_CALL, 14);
  p.writeStructBegin("testLong_args");
  field(p, "at_limit", T_STRING, 1, [&] { p.writeString(letters(256)); });
  field(p, "over_limit", T_STRING, 2, [&] { p.writeString(letters(257)); });
  field(p, "long", T_STRING, 3, [&] { p.writeString(letters(100000)); });
  field(p, "escaped_prefix", T_STRING, 4, [&] {
    std::string s = "\"quo\\ted\"\n\t" + letters(300);
    p.writeString(s);
  });
  // 1 + 2 * 200 bytes: the 16-byte prefix ends inside an "é".
  field(p, "utf8_split", T_STRING, 5, [&] { p.writeString("a" + repeat("\xc3\xa9", 200)); });
  field(p, "long_binary", T_STRING, 6, [&] { p.writeBinary(std::string(300, '\0')); });
  field(p, "in_list", T_LIST, 7, [&] {
    p.writeListBegin(T_STRING, 2);
    p.writeString(letters(1000));
    p.writeString("short");
    p.writeListEnd();
  });
  end_struct(p);
  p.writeMessageEnd();
}

// Strings around a limit of 10 with a prefix of 4.
void string_limit_10_prefix_4(TDebugProtocol& p) {
  p.setStringSizeLimit(10);
  p.setStringPrefixSize(4);
  p.writeListBegin(T_STRING, 4);
  p.writeString(letters(10));
  p.writeString(letters(11));
  p.writeString("");
  p.writeBinary(std::string(11, '\x01'));
  p.writeListEnd();
}

// A limit of 0 cuts every non-empty string; the default prefix stays.
void string_limit_0(TDebugProtocol& p) {
  p.setStringSizeLimit(0);
  p.writeListBegin(T_STRING, 3);
  p.writeString("");
  p.writeString("x");
  p.writeString(letters(40));
  p.writeListEnd();
}

// A prefix longer than the string keeps all of it, and still marks the cut.
void string_prefix_over_length(TDebugProtocol& p) {
  p.setStringSizeLimit(5);
  p.setStringPrefixSize(30);
  p.writeString(letters(8));
}

// A negative limit (no limit) shows every string whole.
void string_no_limit(TDebugProtocol& p) {
  p.setStringSizeLimit(-1);
  p.writeString(letters(1000));
}

void special_doubles(TDebugProtocol& p) {
  const double values[] = {
      0.0,
      -0.0,
      1.0,
      -2.5,
      0.1,
      0.3,
      1.0 / 3.0,
      2.0 / 3.0,
      100.0,
      123456789.125,
      1e15,
      1e16,
      1e17,
      123456789012345678.0,
      9007199254740992.0,
      9007199254740994.0,
      1e-4,
      1e-5,
      1.5e-5,
      1e21,
      1e22,
      1e100,
      1e300,
      -1e-300,
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::min(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::epsilon(),
      // Exactly halfway between two 17-digit decimals: ties round to even.
      10001.0 * std::ldexp(1.0, -20),
      10003.0 * std::ldexp(1.0, -20),
      std::numeric_limits<double>::quiet_NaN(),
      -std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
  };
  const uint32_t n = sizeof values / sizeof values[0];
  p.writeListBegin(T_DOUBLE, n);
  for (double d : values) p.writeDouble(d);
  p.writeListEnd();
}

void unicode_escaped(TDebugProtocol& p) {
  // Names are written as they are: no quoting, no escaping.
  p.writeMessageBegin("m\xc3\xa9thode", T_CALL, 15);
  p.writeStructBegin("\xc3\x9cnicode");
  field(p, "na\xc3\xafve", T_STRING, 1, [&] { p.writeString("h\xc3\xa9llo w\xc3\xb6rld"); });
  field(p, "cjk", T_STRING, 2, [&] { p.writeString("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); });
  field(p, "emoji", T_STRING, 3, [&] { p.writeString("\xf0\x9f\x98\x80"); });
  field(p, "quotes", T_STRING, 4, [&] { p.writeString("\"quoted\" and \\backslash\\ 'single'"); });
  field(p, "controls", T_STRING, 5, [&] { p.writeString("\a\b\t\n\v\f\r"); });
  field(p, "nul", T_STRING, 6, [&] { p.writeString(std::string("a\0b", 3)); });
  field(p, "escape", T_STRING, 7, [&] { p.writeString("\x1b[0m \x7f \x1f"); });
  field(p, "punctuation", T_STRING, 8, [&] { p.writeString(" !#$%&()*+,-./:;<=>?@[]^_`{|}~"); });
  field(p, "line_separator", T_STRING, 9, [&] { p.writeString("\xe2\x80\xa8"); });
  end_struct(p);
  p.writeMessageEnd();
}

void field_ids(TDebugProtocol& p) {
  p.writeStructBegin("FieldIds");
  const int16_t ids[] = {0, 1, 9, 10, 99, 100, 32767, -1, -9, -10, -32768};
  for (int16_t id : ids) {
    field(p, "f", T_I16, id, [&] { p.writeI16(id); });
  }
  field(p, "", T_BOOL, 2, [&] { p.writeBool(true); });
  end_struct(p);
}

// Every type name the Rust crate's TType can ask for, as a list's element
// type: TType 7 (UTF7) has no name; T_U64 (9) and 16 (T_UTF8 in 0.17, UUID in
// the Rust crate) are left out, as the Rust TType has no 9 and its 16 differs.
void type_names(TDebugProtocol& p) {
  const TType types[] = {T_STOP, T_VOID, T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32,
                         T_I64, T_STRING, T_STRUCT, T_MAP, T_SET, T_LIST,
                         static_cast<TType>(7)};
  p.writeStructBegin("TypeNames");
  int16_t id = 1;
  for (TType t : types) {
    field(p, "l", T_LIST, id++, [&] {
      p.writeListBegin(t, 0);
      p.writeListEnd();
    });
  }
  end_struct(p);
}

// Values outside any struct or message: nothing between them, no newline
// after the last.
void top_level_values(TDebugProtocol& p) {
  p.writeI32(1);
  p.writeString("two");
  p.writeBool(false);
  p.writeStructBegin("S");
  field(p, "f", T_I32, 1, [&] { p.writeI32(3); });
  end_struct(p);
  p.writeListBegin(T_I32, 1);
  p.writeI32(4);
  p.writeListEnd();
  p.writeDouble(5.5);
}

// A message whose body is bare values rather than one struct.
void message_bare_values(TDebugProtocol& p) {
  p.writeMessageBegin("bare", T_CALL, 16);
  p.writeI32(5);
  p.writeString("s");
  p.writeListBegin(T_BYTE, 1);
  p.writeByte(9);
  p.writeListEnd();
  p.writeMessageEnd();
}

struct Case {
  const char* name;
  std::function<void(TDebugProtocol&)> write;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTPUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<Case> cases = {
      {"message_base_types", message_base_types},
      {"message_types", message_types},
      {"nested_struct", nested_struct},
      {"lists", lists},
      {"sets", sets},
      {"maps_non_string_keys", maps_non_string_keys},
      {"empty_containers", empty_containers},
      {"binary", binary},
      {"long_string", long_string},
      {"string_limit_10_prefix_4", string_limit_10_prefix_4},
      {"string_limit_0", string_limit_0},
      {"string_prefix_over_length", string_prefix_over_length},
      {"string_no_limit", string_no_limit},
      {"special_doubles", special_doubles},
      {"unicode_escaped", unicode_escaped},
      {"field_ids", field_ids},
      {"type_names", type_names},
      {"top_level_values", top_level_values},
      {"message_bare_values", message_bare_values},
  };
  for (const Case& c : cases) {
    auto buffer = std::make_shared<TMemoryBuffer>();
    TDebugProtocol protocol(buffer);
    c.write(protocol);
    const std::string path = dir + "/" + c.name + ".txt";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << buffer->getBufferAsString();
    out.close();
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
    std::cout << path << "\n";
  }
  return 0;
}
