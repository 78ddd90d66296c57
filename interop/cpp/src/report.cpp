#include "report.h"

#include <cstdio>

namespace report {
namespace {

void appendU16(std::string& out, std::uint32_t unit) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(unit));
  out += buf;
}

void appendCodePoint(std::string& out, std::uint32_t cp) {
  if (cp < 0x10000) {
    appendU16(out, cp);
  } else {
    cp -= 0x10000;
    appendU16(out, 0xD800 + (cp >> 10));
    appendU16(out, 0xDC00 + (cp & 0x3FF));
  }
}

// Decodes one UTF-8 character at s[i]; returns its length, or 0 if invalid.
std::size_t decodeUtf8(const std::string& s, std::size_t i, std::uint32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  std::size_t len;
  std::uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) appendU16(out, c);
          else out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    std::size_t len = decodeUtf8(s, i, cp);
    if (len == 0) {
      appendU16(out, 0xFFFD);
      ++i;
    } else {
      appendCodePoint(out, cp);
      i += len;
    }
  }
  out += '"';
  return out;
}

std::string jsonLine(const CallResult& r) {
  std::string out = "{\"endpoint\":" + jsonString(r.endpoint);
  out += ",\"round\":" + std::to_string(r.round);
  out += ",\"call\":" + jsonString(r.call);
  out += ",\"size\":" + std::to_string(r.size);
  out += ",\"latency_ns\":" + std::to_string(r.latency_ns);
  out += ",\"cpu_ns\":" + std::to_string(r.cpu_ns);
  out += r.ok ? ",\"ok\":true" : ",\"ok\":false";
  out += ",\"error\":" + (r.ok ? std::string("null") : jsonString(r.error));
  out += ",\"reconnects\":" + std::to_string(r.reconnects);
  if (r.request_id) {
    out += ",\"request_id\":" + jsonString(*r.request_id);
    out += r.request_id_echoed ? ",\"request_id_echoed\":true" : ",\"request_id_echoed\":false";
  }
  out += "}\n";
  return out;
}

// Same layout as the Rust client's text lines.
std::string humanLine(const CallResult& r) {
  char latency[32];
  std::snprintf(latency, sizeof(latency), "%.3f ms", static_cast<double>(r.latency_ns) / 1e6);
  std::string request_id;
  if (r.request_id)
    request_id = ", x-request-id " + *r.request_id + (r.request_id_echoed ? " (echoed)" : "");
  return r.endpoint + " round " + std::to_string(r.round) + " " + r.call + " " +
         std::to_string(r.size) + " B: " + latency + ", reconnects " +
         std::to_string(r.reconnects) + request_id + ": " +
         (r.ok ? "ok" : "FAILED: " + r.error) + "\n";
}

}  // namespace report
