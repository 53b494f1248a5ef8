#include "compactmind/model_fingerprint.h"

#include "compactmind/sha256.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace compactmind {
namespace fs = std::filesystem;

namespace {

// A safetensors header longer than this is corrupt (the reader's own limit is of the same order).
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;
constexpr uint64_t kSampleBytes = 4096;
constexpr int kSampleIntervals = 64;  // samples at 0/64, 1/64, ..., 64/64 of the data section

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Up to `max_bytes` from `offset` (fewer at the end of the file).
std::string read_at(std::ifstream& in, const fs::path& file, uint64_t offset, uint64_t max_bytes) {
  in.clear();
  in.seekg(std::streamoff(offset));
  std::string bytes(size_t(max_bytes), '\0');
  in.read(bytes.data(), std::streamsize(max_bytes));
  if (in.bad()) throw std::runtime_error("cannot read '" + file.string() + "' to identify the model");
  bytes.resize(size_t(in.gcount()));
  return bytes;
}

}  // namespace

std::string model_fingerprint(const fs::path& model_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model_dir)) {
    const std::string name = entry.path().filename().string();
    const bool identifying = name == "config.json" || name.rfind("tokenizer", 0) == 0 || ends_with(name, ".safetensors");
    // Regular files only: a FIFO or device named like a shard is not read (it could block forever).
    if (identifying && entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  Sha256 hasher;
  for (const auto& file : files) {
    const std::string name = file.filename().string() + '\0';
    hasher.update(name.data(), name.size());
    const uint64_t size = fs::file_size(file);
    hasher.update(&size, sizeof(size));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read '" + file.string() + "' to identify the model");
    if (!ends_with(file.filename().string(), ".safetensors")) {
      const std::string bytes = read_at(in, file, 0, size);
      hasher.update(bytes.data(), bytes.size());
      continue;
    }
    const std::string length = read_at(in, file, 0, 8);
    uint64_t header_bytes = 0;
    if (length.size() == 8) std::copy(length.begin(), length.end(), reinterpret_cast<char*>(&header_bytes));
    const uint64_t data_offset = 8 + std::min(header_bytes, kMaxHeaderBytes);
    const std::string header = read_at(in, file, 0, data_offset);
    hasher.update(header.data(), header.size());
    const uint64_t data_bytes = size > data_offset ? size - data_offset : 0;
    const uint64_t span = data_bytes > kSampleBytes ? data_bytes - kSampleBytes : 0;
    for (int i = 0; i <= kSampleIntervals; ++i) {
      const std::string sample = read_at(in, file, data_offset + span * uint64_t(i) / kSampleIntervals, kSampleBytes);
      hasher.update(sample.data(), sample.size());
    }
  }
  return hasher.hex_digest();
}

}  // namespace compactmind
