#pragma once

// What a Netdata v2 child does to its stream (src/streaming/stream-compression/): one
// compressor per connection, one flushed block per chunk, each framed with the 4-byte header.
// For the decoder's tests, its fuzzers and the compression benchmark. Header-only.

#include <brotli/encode.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stream_bridge/compression/algorithm.h"
#include "stream_bridge/compression/decoder.h"

namespace aclkd::stream_bridge::testing_support {

inline std::string frameHeader(size_t len) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(0xFA);
  h[1] = static_cast<char>(0x80 | (len & 0x7F));
  h[2] = static_cast<char>(0x80 | ((len >> 7) & 0x7F));
  h[3] = '\n';
  return h;
}

// The compressors of a v2 child (src/streaming/stream-compression/), one stream per connection
// and one flushed block per chunk, framed.
using Compressor = std::function<std::string(std::string_view chunk)>;

inline Compressor childCompressor(Compression c) {
  switch (c) {
    case Compression::kZstd: {
      std::shared_ptr<ZSTD_CStream> z(ZSTD_createCStream(), &ZSTD_freeCStream);
      ZSTD_initCStream(z.get(), 3);
      return [z](std::string_view chunk) {
        std::string out(ZSTD_compressBound(chunk.size()) + ZSTD_CStreamOutSize(), '\0');
        ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        ZSTD_compressStream(z.get(), &o, &in);
        ZSTD_flushStream(z.get(), &o);
        out.resize(o.pos);
        return out;
      };
    }
    case Compression::kBrotli: {
      std::shared_ptr<BrotliEncoderState> b(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr),
                                            &BrotliEncoderDestroyInstance);
      BrotliEncoderSetParameter(b.get(), BROTLI_PARAM_QUALITY, 3);
      return [b](std::string_view chunk) {
        std::string out(BrotliEncoderMaxCompressedSize(chunk.size()) + 1024, '\0');
        size_t availIn = chunk.size(), availOut = out.size();
        auto nextIn = reinterpret_cast<const uint8_t*>(chunk.data());
        auto nextOut = reinterpret_cast<uint8_t*>(out.data());
        BrotliEncoderCompressStream(b.get(), BROTLI_OPERATION_FLUSH, &availIn, &nextIn, &availOut,
                                    &nextOut, nullptr);
        out.resize(out.size() - availOut);
        return out;
      };
    }
    case Compression::kGzip: {
      std::shared_ptr<z_stream> z(new z_stream{}, [](z_stream* s) {
        deflateEnd(s);
        delete s;
      });
      deflateInit2(z.get(), 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
      return [z](std::string_view chunk) {
        std::string out(deflateBound(z.get(), chunk.size()) + 64, '\0');
        z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
        z->avail_in = static_cast<uInt>(chunk.size());
        z->next_out = reinterpret_cast<Bytef*>(out.data());
        z->avail_out = static_cast<uInt>(out.size());
        deflate(z.get(), Z_SYNC_FLUSH);
        out.resize(out.size() - z->avail_out);
        return out;
      };
    }
    case Compression::kLz4: {
      // LZ4_compress_fast_continue refers back into earlier chunks: they are kept alive here.
      struct State {
        std::unique_ptr<LZ4_stream_t, decltype(&LZ4_freeStream)> lz4{LZ4_createStream(),
                                                                      &LZ4_freeStream};
        std::deque<std::string> kept;
        size_t keptBytes = 0;
      };
      auto st = std::make_shared<State>();
      return [st](std::string_view chunk) {
        st->kept.emplace_back(chunk);
        st->keptBytes += chunk.size();
        while (st->keptBytes - st->kept.front().size() > 128 * 1024) {
          st->keptBytes -= st->kept.front().size();
          st->kept.pop_front();
        }
        const std::string& src = st->kept.back();
        std::string out(static_cast<size_t>(LZ4_compressBound(static_cast<int>(src.size()))), '\0');
        const int n = LZ4_compress_fast_continue(st->lz4.get(), src.data(), out.data(),
                                                 static_cast<int>(src.size()),
                                                 static_cast<int>(out.size()), 1);
        out.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return out;
      };
    }
    case Compression::kNone:
      break;
  }
  return nullptr;
}

inline std::string compressFramed(Compression c, std::string_view text, size_t chunk) {
  auto compress = childCompressor(c);
  std::string framed;
  for (size_t at = 0; at < text.size(); at += chunk) {
    const std::string block = compress(text.substr(at, chunk));
    if (block.empty() || block.size() > 0x3FFF) std::abort();
    framed += frameHeader(block.size()) + block;
  }
  return framed;
}

// True when `framed`, fed to `decoder` (reset first) in `piece`-byte pieces, decodes without an
// error to exactly `text` (the fuzzers' round trip).
inline bool decodesBackTo(StreamDecoder& decoder, std::string_view framed, size_t piece,
                          std::string_view text) {
  decoder.reset();
  std::string out, error;
  for (size_t at = 0; at < framed.size(); at += piece) {
    if (!decoder.feed(framed.substr(at, piece), &out, &error)) return false;
  }
  return out == text;
}

// The same with a fresh decoder.
inline bool decodesBackTo(Compression c, std::string_view framed, size_t piece,
                          std::string_view text) {
  StreamDecoder decoder(c);
  return decodesBackTo(decoder, framed, piece, text);
}

// A child's compressor kept for many streams, for the fuzz targets: each compressFramed() is a
// new connection's stream (the state is reset), but the memory stays, and the windows are sized
// for the fuzzers' inputs of at most 16 KiB (zstd 128 KiB, brotli 64 KiB, stated in the stream
// so the decoder allocates no more). Creating a level-3 zstd compressor and a 2 MiB decoder window
// per input was most of a decoder target's time (zstd_decoder_fuzz: 271 exec/s).
class ReusedCompressor {
 public:
  explicit ReusedCompressor(Compression c) : algorithm_(c) {
    zstd_ = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(zstd_, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(zstd_, ZSTD_c_windowLog, 17);
    deflateInit2(&gzip_, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  }
  ~ReusedCompressor() {
    ZSTD_freeCCtx(zstd_);
    deflateEnd(&gzip_);
    LZ4_freeStream(lz4_);
  }
  ReusedCompressor(const ReusedCompressor&) = delete;
  ReusedCompressor& operator=(const ReusedCompressor&) = delete;

  std::string compressFramed(std::string_view text, size_t chunk) {
    std::unique_ptr<BrotliEncoderState, decltype(&BrotliEncoderDestroyInstance)> brotli(
        nullptr, &BrotliEncoderDestroyInstance);
    if (algorithm_ == Compression::kBrotli) {  // no reset in brotli's API: one per stream
      brotli.reset(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr));
      BrotliEncoderSetParameter(brotli.get(), BROTLI_PARAM_QUALITY, 3);
      BrotliEncoderSetParameter(brotli.get(), BROTLI_PARAM_LGWIN, 16);
    }
    ZSTD_CCtx_reset(zstd_, ZSTD_reset_session_only);
    deflateReset(&gzip_);
    LZ4_resetStream_fast(lz4_);
    std::string framed;
    for (size_t at = 0; at < text.size(); at += chunk) {
      // The whole text outlives the call: LZ4 may refer back into earlier chunks in place.
      const std::string_view piece = text.substr(at, chunk);
      block_.assign(piece.size() + piece.size() / 2 + 1024, '\0');
      size_t n = 0;
      if (algorithm_ == Compression::kZstd) {
        ZSTD_inBuffer in{piece.data(), piece.size(), 0};
        ZSTD_outBuffer out{block_.data(), block_.size(), 0};
        size_t left = 0;
        do {
          left = ZSTD_compressStream2(zstd_, &out, &in, ZSTD_e_flush);
        } while (left > 0 && !ZSTD_isError(left));
        n = out.pos;
      } else if (algorithm_ == Compression::kBrotli) {
        size_t availIn = piece.size(), availOut = block_.size();
        auto nextIn = reinterpret_cast<const uint8_t*>(piece.data());
        auto nextOut = reinterpret_cast<uint8_t*>(block_.data());
        BrotliEncoderCompressStream(brotli.get(), BROTLI_OPERATION_FLUSH, &availIn, &nextIn,
                                    &availOut, &nextOut, nullptr);
        n = block_.size() - availOut;
      } else if (algorithm_ == Compression::kGzip) {
        gzip_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
        gzip_.avail_in = static_cast<uInt>(piece.size());
        gzip_.next_out = reinterpret_cast<Bytef*>(block_.data());
        gzip_.avail_out = static_cast<uInt>(block_.size());
        deflate(&gzip_, Z_SYNC_FLUSH);
        n = block_.size() - gzip_.avail_out;
      } else {
        const int r = LZ4_compress_fast_continue(lz4_, piece.data(), block_.data(),
                                                 static_cast<int>(piece.size()),
                                                 static_cast<int>(block_.size()), 1);
        n = r > 0 ? static_cast<size_t>(r) : 0;
      }
      if (n == 0 || n > 0x3FFF) std::abort();
      framed += frameHeader(n);
      framed.append(block_.data(), n);
    }
    return framed;
  }

 private:
  Compression algorithm_;
  ZSTD_CCtx* zstd_ = nullptr;
  z_stream gzip_{};
  LZ4_stream_t* lz4_ = LZ4_createStream();
  std::string block_;
};

}  // namespace aclkd::stream_bridge::testing_support
