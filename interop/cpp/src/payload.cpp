#include "payload.h"

#include <algorithm>

namespace payload {
namespace {

constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

char alnum(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlnum) - 2);
  return kAlnum[pick(rng)];
}

std::uint32_t between(std::mt19937_64& rng, std::uint32_t lo, std::uint32_t hi) {
  return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
}

// One random character whose UTF-8 encoding is `len` bytes long.
void appendChar(std::string& out, int len, std::mt19937_64& rng) {
  auto byte = [&](std::uint32_t b) { out.push_back(static_cast<char>(b)); };
  switch (len) {
    case 1:
      out.push_back(alnum(rng));
      return;
    case 2: {  // U+00A0..U+07FF (skips the C1 controls)
      std::uint32_t cp = between(rng, 0xA0, 0x7FF);
      byte(0xC0 | (cp >> 6));
      byte(0x80 | (cp & 0x3F));
      return;
    }
    case 3: {  // U+0800..U+FFFD without the surrogates U+D800..U+DFFF
      std::uint32_t cp = between(rng, 0x800, 0xFFFD - 0x800);
      if (cp >= 0xD800) cp += 0x800;
      byte(0xE0 | (cp >> 12));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
      return;
    }
    default: {  // U+10000..U+10FFFF
      std::uint32_t cp = between(rng, 0x10000, 0x10FFFF);
      byte(0xF0 | (cp >> 18));
      byte(0x80 | ((cp >> 12) & 0x3F));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
      return;
    }
  }
}

}  // namespace

std::string make(cli::Payload kind, std::size_t bytes, std::mt19937_64& rng) {
  std::string out;
  out.reserve(bytes);
  if (kind == cli::Payload::Alnum) {
    while (out.size() < bytes) out.push_back(alnum(rng));
    return out;
  }
  while (out.size() < bytes) {
    int room = static_cast<int>(std::min<std::size_t>(4, bytes - out.size()));
    appendChar(out, static_cast<int>(between(rng, 1, static_cast<std::uint32_t>(room))), rng);
  }
  return out;
}

thrift_frame::student::Student student(std::int32_t sno) {
  thrift_frame::student::Student s;
  std::string name = "student-" + std::to_string(sno);
  if (sno % 3 == 0) name += "-\u00e9t\u00fcdiant-\u5b66\u751f-\U0001F393";
  s.__set_sno(sno);
  s.__set_sname(name);
  s.__set_ssex(sno % 2 == 1);
  s.__set_sage(static_cast<std::int16_t>(sno % 100));
  return s;
}

}  // namespace payload
