#pragma once

// What the registry holds once for every host: interned texts, pooled values and definitions,
// and the shared, immutable row sets of the hosts' tables (host_table.h). Internal to
// stream_bridge/; guarded by the registry's lock like everything else of it.

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aclkd::stream_bridge::registry {

using TextId = uint32_t;
inline constexpr uint32_t kNone = UINT32_MAX;

// Every text a stream defines (chart ids, names, titles, label names and values), interned once
// with a 32-bit id. The strings' addresses are stable (map nodes): the views handed out stay
// valid as long as the registry.
class TextTable {
 public:
  TextId intern(std::string_view text) {
    auto it = ids_.find(text);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<TextId>(texts_.size());
    it = ids_.emplace(std::string(text), id).first;
    texts_.push_back(&it->first);
    return id;
  }
  // The id of a text already interned, else kNone (a look-up adds nothing).
  TextId find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? kNone : it->second;
  }
  const std::string& text(TextId id) const { return *texts_[id]; }

 private:
  // Transparent: a string already interned is found without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, TextId, Hash, std::equal_to<>> ids_;
  std::vector<const std::string*> texts_;
};

// Values shared by every host that has them, each with a 32-bit id (stable addresses, as above).
template <typename T, typename Index>
class IdPool {
 public:
  uint32_t id(T value) {
    auto [it, added] = index_.try_emplace(std::move(value), static_cast<uint32_t>(byId_.size()));
    if (added) byId_.push_back(&it->first);
    return it->second;
  }
  const T& operator[](uint32_t id) const { return *byId_[id]; }

 private:
  Index index_;
  std::vector<const T*> byId_;
};

// Definitions shared by every host that has them, each with a 32-bit id. Held by value in one
// array (a look-up by id is one index, as hot as the rows that point at it); a reference into
// it is therefore valid only until the next id().
template <typename Def>
class DefPool {
 public:
  static_assert(sizeof(Def) == 16, "hashed as two words");
  uint32_t id(const Def& def) {
    auto [it, added] = index_.try_emplace(def, static_cast<uint32_t>(defs_.size()));
    if (added) defs_.push_back(def);
    return it->second;
  }
  const Def& operator[](uint32_t id) const { return defs_[id]; }
  size_t size() const { return defs_.size(); }

 private:
  struct Hash {
    size_t operator()(const Def& d) const {
      uint64_t w[2];
      std::memcpy(w, &d, sizeof w);
      return std::hash<uint64_t>{}(w[0] * 0x9E3779B97F4A7C15ULL ^ w[1]);
    }
  };
  std::unordered_map<Def, uint32_t, Hash> index_;
  std::vector<Def> defs_;
};

// The definitions of one host table's rows (their ids in a DefPool, sorted by their keys'
// texts), immutable once shared: every host whose table has exactly these rows holds the same
// set. Counted by the shared_ptrs of the tables that hold it; the last one out removes it from
// its pool.
struct RowSet : std::enable_shared_from_this<RowSet> {
  std::vector<uint32_t> defs;
  size_t hash = 0;
};

// The shared row sets of one kind (charts or contexts), found by content.
class SetPool {
 public:
  SetPool() = default;
  SetPool(const SetPool&) = delete;
  SetPool& operator=(const SetPool&) = delete;

  // The shared set with exactly `defs`: an existing one, else a new one made of them.
  std::shared_ptr<const RowSet> share(std::vector<uint32_t> defs) {
    const size_t hash = hashOf(defs);
    for (auto [it, end] = byHash_.equal_range(hash); it != end; ++it) {
      if (it->second->defs == defs) return it->second->shared_from_this();
    }
    auto* set = new RowSet;
    set->defs = std::move(defs);
    set->defs.shrink_to_fit();
    set->hash = hash;
    byHash_.emplace(hash, set);
    return std::shared_ptr<const RowSet>(set, [this](const RowSet* gone) {
      for (auto [it, end] = byHash_.equal_range(gone->hash); it != end; ++it) {
        if (it->second == gone) {
          byHash_.erase(it);
          break;
        }
      }
      delete gone;
    });
  }
  // Sets held by at least one host.
  size_t size() const { return byHash_.size(); }

 private:
  static size_t hashOf(const std::vector<uint32_t>& defs) {
    uint64_t h = 14695981039346656037ULL;  // FNV-1a over the ids
    for (const uint32_t d : defs) h = (h ^ d) * 1099511628211ULL;
    return static_cast<size_t>(h);
  }
  std::unordered_multimap<size_t, const RowSet*> byHash_;
};

}  // namespace aclkd::stream_bridge::registry
