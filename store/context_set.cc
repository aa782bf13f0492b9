#include "store/context_set.h"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace aclkd::store {
namespace {

constexpr char kVersion = 1;
// Level 1: the sets are written during a burst, on the store's one thread; the text is
// repetitive enough (family and units names, id prefixes) that the fastest level already keeps
// a quarter of it or less.
constexpr int kLevel = 1;

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void putString(std::string& out, std::string_view s) {
  putVarint(out, s.size());
  out.append(s);
}

// Reads the raw body; every read checks what is left first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto byte = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && byte > 1) return false;  // past 64 bits
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool string(std::string* s) {
    uint64_t n = 0;
    if (!varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool flag(bool* b) {
    if (pos_ >= in_.size()) return false;
    const auto byte = static_cast<uint8_t>(in_[pos_++]);
    if (byte > 1) return false;
    *b = byte == 1;
    return true;
  }
  size_t left() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

bool inflate(std::string_view frame, std::string* out, std::string* error) {
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size()) {
    *error = "not one whole zstd frame";
    return false;
  }
  const auto claimed = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (claimed == ZSTD_CONTENTSIZE_ERROR || claimed == ZSTD_CONTENTSIZE_UNKNOWN) {
    *error = "a zstd frame without its content size";
    return false;
  }
  if (claimed > kMaxContextSetBytes) {
    *error = "a set of " + std::to_string(claimed) + " bytes (at most " +
             std::to_string(kMaxContextSetBytes) + ")";
    return false;
  }
  // Grown as the frame decodes, not sized from its header: a small damaged value that claims
  // 64 MiB costs only what it really expands to.
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
  out->clear();
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  size_t chunk = std::min<size_t>(claimed, 4 * frame.size() + 4096);
  while (true) {
    const size_t had = out->size();
    const size_t consumed = in.pos;
    out->resize(std::min<size_t>(had + chunk, claimed));
    ZSTD_outBuffer o{out->data() + had, out->size() - had, 0};
    const size_t rc = ZSTD_decompressStream(dctx.get(), &o, &in);
    out->resize(had + o.pos);
    if (ZSTD_isError(rc)) {
      *error = std::string("zstd: ") + ZSTD_getErrorName(rc);
      return false;
    }
    if (rc == 0) break;  // the frame is over
    // No progress with room on one side: the input ended early, or the frame wants to expand
    // past its recorded size (the output is full).
    if (o.pos == 0 && in.pos == consumed) {
      *error = out->size() >= claimed ? "the frame expands past its recorded size"
                                      : "a truncated zstd frame";
      return false;
    }
    chunk *= 2;
  }
  if (out->size() != claimed) {
    *error = "the frame expands to other than its recorded size";
    return false;
  }
  return true;
}

}  // namespace

void ContextSetEncoder::add(std::string_view id, uint64_t version, uint64_t firstEntry,
                            uint64_t lastEntry, bool deleted, std::string_view title,
                            uint64_t priority, std::string_view chartType,
                            std::string_view units, std::string_view family) {
  putString(body_, id);
  putVarint(body_, version);
  putVarint(body_, firstEntry);
  putVarint(body_, lastEntry);
  body_.push_back(deleted ? 1 : 0);
  putString(body_, title);
  putVarint(body_, priority);
  putString(body_, chartType);
  putString(body_, units);
  putString(body_, family);
  ++count_;
}

void ContextSetEncoder::add(const ContextRecord& c) {
  add(c.id, c.version, c.firstEntry, c.lastEntry, c.deleted, c.title, c.priority, c.chartType,
      c.units, c.family);
}

std::string ContextSetEncoder::finish() {
  // The count goes first but is known last: it is fed to the compressor ahead of the body, so the
  // body (~30 KB a node) is not copied behind it.
  std::string count;
  putVarint(count, count_);
  const size_t size = count.size() + body_.size();
  thread_local const std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx = [] {
    std::unique_ptr<ZSTD_CCtx, CCtxFree> c(ZSTD_createCCtx());
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, kLevel);  // kept across frames
    return c;
  }();
  // The size is recorded in the frame: decodeContextSet refuses a frame without it, so a set
  // written without it would be lost at the next start.
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_only);  // a frame left unended starts over
  size_t rc = ZSTD_CCtx_setPledgedSrcSize(cctx.get(), size);
  std::string out(1 + ZSTD_compressBound(size), '\0');
  out[0] = kVersion;
  ZSTD_outBuffer o{out.data() + 1, out.size() - 1, 0};
  ZSTD_inBuffer head{count.data(), count.size(), 0};
  ZSTD_inBuffer body{body_.data(), body_.size(), 0};
  if (!ZSTD_isError(rc)) rc = ZSTD_compressStream2(cctx.get(), &o, &head, ZSTD_e_continue);
  if (!ZSTD_isError(rc)) rc = ZSTD_compressStream2(cctx.get(), &o, &body, ZSTD_e_end);
  // Into a buffer of compressBound the frame ends in one call (0 left to flush); anything else
  // is a broken library, and a set that cannot be written must not pass for an empty one.
  if (ZSTD_isError(rc) || rc != 0) {
    throw std::runtime_error(std::string("zstd: ") +
                             (ZSTD_isError(rc) ? ZSTD_getErrorName(rc) : "the frame did not end"));
  }
  out.resize(1 + o.pos);
  body_.clear();
  count_ = 0;
  return out;
}

std::string encodeContextSet(const std::vector<ContextRecord>& contexts) {
  ContextSetEncoder e;
  for (const auto& c : contexts) e.add(c);
  return e.finish();
}

bool decodeContextSet(std::string_view encoded, std::vector<ContextRecord>* out,
                      std::string* error) {
  out->clear();
  if (encoded.empty() || encoded[0] != kVersion) {
    *error = encoded.empty() ? "an empty value" : "an unknown encoding version";
    return false;
  }
  std::string raw;
  if (!inflate(encoded.substr(1), &raw, error)) return false;
  Reader r(raw);
  uint64_t count = 0;
  // Every context takes at least 10 bytes (5 empty strings, 4 one-byte varints, the flag): a
  // count that the bytes cannot hold is refused before anything is reserved for it.
  constexpr uint64_t kMinContextBytes = 10;
  if (!r.varint(&count) || count > r.left() / kMinContextBytes) {
    *error = "a damaged context count";
    return false;
  }
  out->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    ContextRecord c;
    if (!r.string(&c.id) || !r.varint(&c.version) || !r.varint(&c.firstEntry) ||
        !r.varint(&c.lastEntry) || !r.flag(&c.deleted) || !r.string(&c.title) ||
        !r.varint(&c.priority) || !r.string(&c.chartType) || !r.string(&c.units) ||
        !r.string(&c.family)) {
      *error = "context " + std::to_string(i + 1) + " of " + std::to_string(count) +
               " is damaged";
      out->clear();
      return false;
    }
    out->push_back(std::move(c));
  }
  if (r.left() != 0) {
    *error = std::to_string(r.left()) + " bytes after the last context";
    out->clear();
    return false;
  }
  return true;
}

}  // namespace aclkd::store
