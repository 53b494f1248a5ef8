#include "compactmind/text_data.h"

#include "utf8.h"

#include "compactmind/sha256.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace compactmind {
namespace {

// A FIFO would block for a writer and a device such as /dev/zero never ends: only regular files,
// whose size is known, are read.
void require_regular_file(const std::filesystem::path& file) {
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (error) throw std::runtime_error("text file '" + file.string() + "': " + error.message());
  if (!std::filesystem::is_regular_file(status))
    throw std::runtime_error("text file '" + file.string() + "' is not a regular file (a FIFO, device or folder " +
                             "could block or never end); give a text file");
}

std::string read_whole_file(const std::filesystem::path& file) {
  require_regular_file(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open text file '" + file.string() + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("error while reading '" + file.string() + "'");
  return bytes;
}

}  // namespace

std::string read_text_file(const std::filesystem::path& text_file) {
  std::string text = read_whole_file(text_file);
  // SentencePiece would turn invalid bytes into unknown pieces and score them silently (a binary file
  // gave PPL 804 210): refuse, at the first offending byte.
  if (const size_t offset = detail::first_invalid_utf8(text); offset != std::string::npos) {
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[offset]));
    throw std::runtime_error("text file '" + text_file.string() + "' is not valid UTF-8: byte " + byte +
                             " at offset " + std::to_string(offset) +
                             " (a binary file, or another encoding such as Latin-1?); convert it to UTF-8");
  }
  return text;
}

TokenStream tokenize_file(const Tokenizer& tokenizer, const std::filesystem::path& text_file,
                          bool prepend_bos) {
  // The whole file is one string (the reference protocol): tokenizing line by line would change the
  // ids at line starts (SentencePiece's dummy prefix) and so the perplexity.
  const std::string text = read_text_file(text_file);
  std::vector<int64_t> pieces = tokenizer.encode(text);
  TokenStream stream;
  stream.source = text_file;
  stream.sha256 = sha256_hex(text.data(), text.size());
  stream.bos = prepend_bos;
  const int64_t offset = prepend_bos ? 1 : 0;
  stream.ids = at::empty({static_cast<int64_t>(pieces.size()) + offset}, at::kLong);
  int64_t* ids = stream.ids.data_ptr<int64_t>();
  if (prepend_bos) ids[0] = tokenizer.bos_id();
  std::copy(pieces.begin(), pieces.end(), ids + offset);
  return stream;
}

at::Tensor cut_windows(const at::Tensor& stream, int64_t seqlen, int64_t max_windows) {
  if (stream.dim() != 1) {
    throw std::invalid_argument("cut_windows: the token stream must be 1-D, got " +
                                std::to_string(stream.dim()) + " dimensions");
  }
  if (seqlen < 2) {
    throw std::invalid_argument("cut_windows: seqlen must be at least 2 (one prediction), got " +
                                std::to_string(seqlen));
  }
  int64_t windows = stream.size(0) / seqlen;  // non-overlapping, remainder dropped
  if (max_windows >= 0) windows = std::min(windows, max_windows);
  return stream.slice(0, 0, windows * seqlen).reshape({windows, seqlen}).to(at::kLong);
}

std::string sha256_hex_of_file(const std::filesystem::path& file) {
  require_regular_file(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + file.string() + "' to hash it");
  Sha256 hasher;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    hasher.update(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("error while reading '" + file.string() + "' to hash it");
  return hasher.hex_digest();
}

}  // namespace compactmind
