#include "stream_bridge/escaping_events.h"

#include "common/untrusted_text.h"

namespace aclkd::stream_bridge {

std::string_view EscapingEvents::clean(std::string_view v, size_t slot) {
  if (isCleanText(v)) return v;
  scratch_[slot] = escapeUntrusted(v);
  return scratch_[slot];
}

void EscapingEvents::onClaimedId(std::string_view g, std::string_view c) {
  if (next_) next_->onClaimedId(clean(g, 0), clean(c, 1));
}

void EscapingEvents::onHostLabel(std::string_view n, std::string_view v, uint32_t s) {
  if (next_) next_->onHostLabel(clean(n, 0), clean(v, 1), s);
}

void EscapingEvents::onHostLabelsCommit() {
  if (next_) next_->onHostLabelsCommit();
}

void EscapingEvents::onChart(const ChartDefinition& c) {
  if (!next_) return;
  ChartDefinition d = c;
  size_t slot = 0;
  for (auto* f : {&d.id, &d.name, &d.title, &d.units, &d.family, &d.context, &d.chartType,
                  &d.options, &d.plugin, &d.module}) {
    *f = clean(*f, slot++);
  }
  next_->onChart(d);
}

void EscapingEvents::onChartLabel(std::string_view c, std::string_view n, std::string_view v,
                                  uint32_t s) {
  if (next_) next_->onChartLabel(clean(c, 0), clean(n, 1), clean(v, 2), s);
}

void EscapingEvents::onChartLabelsCommit(std::string_view c) {
  if (next_) next_->onChartLabelsCommit(clean(c, 0));
}

void EscapingEvents::onDimension(std::string_view c, const DimensionDefinition& d) {
  if (!next_) return;
  DimensionDefinition e = d;
  e.id = clean(d.id, 1);
  e.name = clean(d.name, 2);
  e.algorithm = clean(d.algorithm, 3);
  e.options = clean(d.options, 4);
  next_->onDimension(clean(c, 0), e);
}

void EscapingEvents::onFunction(std::string_view c, const FunctionDeclaration& f) {
  if (!next_) return;
  FunctionDeclaration e = f;
  e.name = clean(f.name, 1);
  e.help = clean(f.help, 2);
  e.tags = clean(f.tags, 3);
  next_->onFunction(clean(c, 0), e);
}

void EscapingEvents::onFunctionDel(std::string_view c, std::string_view n) {
  if (next_) next_->onFunctionDel(clean(c, 0), clean(n, 1));
}

void EscapingEvents::onVariable(std::string_view c, std::string_view n, std::string_view v) {
  if (next_) next_->onVariable(clean(c, 0), clean(n, 1), clean(v, 2));
}

void EscapingEvents::onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) {
  if (next_) next_->onChartDefinitionEnd(clean(c, 0), f, l, now);
}

void EscapingEvents::onSamples(std::string_view c, int64_t t) {
  if (next_) next_->onSamples(clean(c, 0), t);
}

void EscapingEvents::onReplicationEnd(std::string_view c, int64_t f, int64_t l) {
  if (next_) next_->onReplicationEnd(clean(c, 0), f, l);
}

}  // namespace aclkd::stream_bridge
