#include "stream_bridge/simple_pattern.h"

#include <cstring>

namespace aclkd::stream_bridge {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// One compiled piece of a word, as Netdata compiles it: the text up to the first `*` that has
// something after it, matched as prefix / suffix / substring / exact, then the rest of the word
// as a child piece. This is what makes `a**b` mean "prefix a, then suffix *b".
enum class Mode { kExact, kPrefix, kSuffix, kSubstring };

struct Piece {
  Mode mode = Mode::kExact;
  std::string_view text;
};

void compile(std::string_view word, std::vector<Piece>* out) {
  size_t c = 0;
  while (c < word.size() && word[c] == '*') ++c;
  while (c < word.size() && word[c] != '*') ++c;
  std::string_view self = word;
  std::string_view child;
  if (c < word.size() && c + 1 < word.size()) {
    child = word.substr(c);
    self = word.substr(0, c + 1);
  }
  Piece p;
  if (self.size() >= 2 && self.front() == '*' && self.back() == '*') {
    p.mode = Mode::kSubstring;
    p.text = self.substr(1, self.size() - 2);
  } else if (!self.empty() && self.front() == '*') {
    p.mode = Mode::kSuffix;
    p.text = self.substr(1);
  } else if (!self.empty() && self.back() == '*') {
    p.mode = Mode::kPrefix;
    p.text = self.substr(0, self.size() - 1);
  } else {
    p.text = self;
  }
  out->push_back(p);
  if (!child.empty()) compile(child, out);
}

bool matchFrom(const std::vector<Piece>& pieces, size_t i, std::string_view text) {
  const Piece& p = pieces[i];
  const bool last = i + 1 == pieces.size();
  if (p.text.size() > text.size()) return false;
  switch (p.mode) {
    case Mode::kSubstring: {
      if (p.text.empty()) return true;
      const auto at = text.find(p.text);
      if (at == std::string_view::npos) return false;
      return last || matchFrom(pieces, i + 1, text.substr(at + p.text.size()));
    }
    case Mode::kPrefix:
      if (text.substr(0, p.text.size()) != p.text) return false;
      return last || matchFrom(pieces, i + 1, text.substr(p.text.size()));
    case Mode::kSuffix:
      return last && text.substr(text.size() - p.text.size()) == p.text;
    case Mode::kExact:
      return last && text == p.text;
  }
  return false;
}

}  // namespace

SimplePattern SimplePattern::parse(std::string_view list) {
  SimplePattern out;
  out.source_ = std::string(list);
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && isSpace(list[i])) ++i;
    if (i >= list.size()) break;
    Word w;
    if (list[i] == '!') {
      w.negative = true;
      ++i;
    }
    while (i < list.size() && !isSpace(list[i])) {
      if (list[i] == '\\' && i + 1 < list.size()) ++i;
      w.text += list[i++];
    }
    if (!w.text.empty()) out.words_.push_back(std::move(w));
  }
  return out;
}

bool SimplePattern::wordMatches(const Word& word, std::string_view text) {
  std::vector<Piece> pieces;
  compile(word.text, &pieces);
  return matchFrom(pieces, 0, text);
}

bool SimplePattern::matches(std::string_view text) const {
  // Netdata: an empty string matches no pattern, not even `*`.
  if (text.empty()) return false;
  for (const auto& w : words_) {
    if (wordMatches(w, text)) return !w.negative;
  }
  return false;
}

}  // namespace aclkd::stream_bridge
