#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aclkd::stream_bridge {

// Netdata's simple patterns (docs/protocol/streaming.md §11), used by `allow from` and
// `send charts matching`: whitespace-separated words, tried left to right, the first word that
// matches decides (a `!word` that matches means "no"); `*` matches any run of characters; a
// backslash makes the next character literal and is removed; a lone `*` does not match the
// empty string; an empty list matches nothing; matching is case-sensitive.
class SimplePattern {
 public:
  SimplePattern() = default;
  static SimplePattern parse(std::string_view list);

  bool matches(std::string_view text) const;
  bool empty() const { return words_.empty(); }
  // An access list ([web] allow … from): an empty pattern admits everyone, else matches().
  bool admits(std::string_view text) const { return empty() || matches(text); }
  const std::string& source() const { return source_; }

 private:
  struct Word {
    std::string text;  // unescaped; every `*` is a wildcard, as in Netdata
    bool negative = false;
  };
  static bool wordMatches(const Word& word, std::string_view text);

  std::string source_;
  std::vector<Word> words_;
};

}  // namespace aclkd::stream_bridge
