#pragma once

// One host's table of charts or contexts: which rows it has, shared between the hosts that have
// the same ones, and its own state of each. Internal to stream_bridge/.

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "stream_bridge/registry_pools.h"

namespace aclkd::stream_bridge::registry {

// A fleet's hosts define the same charts: their tables differ only in times, versions and
// flags. So a table is two parallel arrays sorted by the rows' keys (the order the link and the
// store have always seen): the rows' definitions (`Def`, by id in a DefPool), and the host's own
// `State` of each. The definitions are a RowSet shared by every host that has exactly these rows
// (4 bytes a row, once per fleet instead of once per host); the host keeps only its states.
//
// Copy on write: a change to the rows (a chart only this host has, another label set) first
// gives the host its own copy of the definitions, which it then changes in place: the hosts it
// shared them with see nothing. A table stays private while its host defines, so a definition
// burst copies once, not once per chart; share() gives it back to the pool (an equal set if
// there is one) when its definitions have settled: at the host's disconnect, and when the
// stream server sees a quiet second after a burst (NodeRegistry::shareTables). A look-up by text
// needs no interning, and the tables are read far more often than they grow.
template <typename Def, typename State>
class HostTable {
 public:
  HostTable(const TextTable& texts, DefPool<Def>& defs, SetPool& sets)
      : texts_(&texts), defs_(&defs), sets_(&sets) {}

  size_t size() const { return states_.size(); }
  void reserve(size_t n) {
    own_.reserve(n);
    states_.reserve(n);
  }
  // The row of `key`'s text, or nullptr. Pointers and references to states stay valid until a
  // row is added.
  State* find(std::string_view key) {
    const size_t row = lowerBound(key);
    return row != size() && texts_->text(keyOfRow(row)) == key ? &states_[row] : nullptr;
  }
  State* find(TextId id) { return find(std::string_view(texts_->text(id))); }
  // The row of `id`, added (with a definition holding only the key) when missing.
  State& get(TextId id) {
    const size_t row = lowerBound(texts_->text(id));
    if (row != size() && keyOfRow(row) == id) return states_[row];
    makeOwn();
    if (states_.size() == states_.capacity()) {
      // Grown by an eighth rather than doubled: a host's tables are filled once, by its
      // definition burst, and then kept for as long as the host is known (doubling left up to
      // half of each table unused).
      reserve(states_.size() + states_.size() / 8 + 4);
    }
    Def d;
    d.id = id;
    own_.insert(own_.begin() + static_cast<ptrdiff_t>(row), defs_->id(d));
    return *states_.insert(states_.begin() + static_cast<ptrdiff_t>(row), State{});
  }

  TextId keyOf(const State& s) const { return keyOfRow(rowOf(s)); }
  // A copy: the pool may grow while the caller holds it.
  Def def(const State& s) const { return (*defs_)[defIds()[rowOf(s)]]; }
  // Changes the row's definition (never its key); the rows become this host's own first when
  // the definition is not the same.
  template <typename F>
  void update(const State& s, F&& change) {
    const size_t row = rowOf(s);
    Def d = (*defs_)[defIds()[row]];
    change(d);
    assert(d.id == keyOfRow(row));
    const uint32_t id = defs_->id(d);
    if (id == defIds()[row]) return;
    makeOwn();
    own_[row] = id;
  }

  // Hands the rows to the pool: this host then shares them with every host that has the same.
  void share() {
    if (shared_ || own_.empty()) return;
    shared_ = sets_->share(std::move(own_));
    std::vector<uint32_t>().swap(own_);
  }
  bool isShared() const { return shared_ != nullptr; }

  auto begin() { return states_.begin(); }
  auto end() { return states_.end(); }
  auto begin() const { return states_.begin(); }
  auto end() const { return states_.end(); }

 private:
  const std::vector<uint32_t>& defIds() const { return shared_ ? shared_->defs : own_; }
  size_t rowOf(const State& s) const { return static_cast<size_t>(&s - states_.data()); }
  TextId keyOfRow(size_t row) const { return (*defs_)[defIds()[row]].id; }
  size_t lowerBound(std::string_view key) const {
    const auto& ids = defIds();
    const auto it = std::lower_bound(ids.begin(), ids.end(), key,
                                     [this](uint32_t def, std::string_view k) {
                                       return std::string_view(texts_->text((*defs_)[def].id)) < k;
                                     });
    return static_cast<size_t>(it - ids.begin());
  }
  // Copy on write: the shared definitions become this host's own.
  void makeOwn() {
    if (!shared_) return;
    own_.reserve(states_.capacity());
    own_.assign(shared_->defs.begin(), shared_->defs.end());
    shared_.reset();
  }

  const TextTable* texts_;
  DefPool<Def>* defs_;
  SetPool* sets_;
  std::shared_ptr<const RowSet> shared_;  // the rows' definitions, when shared
  std::vector<uint32_t> own_;             // ... when this host's own (shared_ is null)
  std::vector<State> states_;             // this host's, parallel to the definitions
};

}  // namespace aclkd::stream_bridge::registry
