// Token streams of text files and the windows cut from them, as the evaluation protocol of the
// SmoothQuant and GPTQ evaluation scripts defines: the whole file is one string, one BOS in front, no EOS,
// non-overlapping windows of `seqlen`, remainder dropped. Calibration and training use the same cut.
#pragma once

#include "compactmind/tokenizer.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace compactmind {

struct TokenStream {
  at::Tensor ids;               // [n] int64
  std::filesystem::path source; // the text file
  std::string sha256;           // of the file's bytes (the evaluation record)
  bool bos = true;              // whether one BOS was prepended
};

// The whole file; throws std::runtime_error naming it when it is not a regular file (a FIFO or
// /dev/zero would block or never end) or not valid UTF-8 (with the offset of the first bad byte).
std::string read_text_file(const std::filesystem::path& text_file);

TokenStream tokenize_file(const Tokenizer& tokenizer, const std::filesystem::path& text_file,
                          bool prepend_bos = true);

// [min(n / seqlen, max_windows), seqlen] int64; max_windows < 0 means all.
at::Tensor cut_windows(const at::Tensor& stream, int64_t seqlen, int64_t max_windows = -1);

std::string sha256_hex_of_file(const std::filesystem::path& file);

}  // namespace compactmind
