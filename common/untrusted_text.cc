#include "common/untrusted_text.h"

#include "common/fail_with.h"

namespace aclkd {
namespace {

// Length of the valid UTF-8 sequence starting at text[i] (2..4), or 0 when there is none.
size_t utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t len = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  // Overlong 3- and 4-byte forms, surrogates and code points past U+10FFFF.
  const unsigned char second = byte(i + 1);
  if (lead == 0xe0 && second < 0xa0) return 0;
  if (lead == 0xed && second > 0x9f) return 0;
  if (lead == 0xf0 && second < 0x90) return 0;
  if (lead == 0xf4 && second > 0x8f) return 0;
  return len;
}

bool needsEscape(unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\'; }

}  // namespace

std::string escapeUntrusted(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (needsEscape(c)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t len = utf8SequenceLength(text, i); len > 0) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++i;
    }
  }
  return out;
}

bool isCleanText(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (needsEscape(c)) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8SequenceLength(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool checkHostname(std::string_view hostname, std::string* error) {
  if (hostname.empty()) return failWith(error, "the host name is empty");
  if (hostname.size() > 255) {
    return failWith(error,
                    "the host name has " + std::to_string(hostname.size()) + " bytes; at most 255");
  }
  if (!isCleanText(hostname)) {
    return failWith(error, "the host name has control characters, a backslash or invalid UTF-8");
  }
  return true;
}

}  // namespace aclkd
