// The operator< that Thrift's generated C++ declares for every struct but
// leaves to the user. ThriftTest needs it where a struct is a set element or
// a map key (CrazyNesting: set<Insanity>, map<Insanity, string>), which in
// turn compares Insanity's fields (map<Numberz, UserId>, list<Xtruct>).
// A plain lexicographic order over the fields in id order; optional fields
// play no part here (none of these structs has one).
#include <tuple>

#include "ThriftTest_types.h"

namespace thrift::test {

bool Xtruct::operator<(const Xtruct& o) const {
  return std::tie(string_thing, byte_thing, i32_thing, i64_thing) <
         std::tie(o.string_thing, o.byte_thing, o.i32_thing, o.i64_thing);
}

bool Insanity::operator<(const Insanity& o) const {
  return std::tie(userMap, xtructs) < std::tie(o.userMap, o.xtructs);
}

}  // namespace thrift::test
