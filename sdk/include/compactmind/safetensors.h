// Safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// raw little-endian tensor bytes. Reading memory-maps the file and validates the whole header before
// anything is trusted; every error names the file and the tensor. Writing streams one tensor at a time
// and renames finished files into place, so a reader never sees a half-written file.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace compactmind {

// The safetensors dtype names CompactMind reads and writes: F32, F16, BF16, I8, I32.
// Other names of the format (F64, I64, U8, BOOL, F8_E4M3, ...) are recognised and rejected by name.
std::string safetensors_dtype_name(at::ScalarType dtype);  // throws for an unsupported ScalarType

struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype_name;        // "F16", ...
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;            // byte range relative to the start of the data section
  uint64_t end = 0;
  std::filesystem::path file;
};

// One memory-mapped, validated safetensors file.
class SafetensorsFile {
 public:
  // The header is bounded (100 MB, as in the reference implementation) so that a corrupt length
  // cannot make us allocate gigabytes.
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, SafetensorsTensorInfo>& tensors() const { return tensors_; }
  // "__metadata__" (an object of strings), empty when absent.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  friend class SafetensorsReader;
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* mapping_ = nullptr;
  uint64_t file_bytes_ = 0;
  uint64_t data_offset_ = 0;  // 8 + header length
  std::map<std::string, SafetensorsTensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint: one `.safetensors` file, or the shards listed by `model.safetensors.index.json`.
class SafetensorsReader {
 public:
  // `path` is a model folder (index.json preferred, then model.safetensors), a `.safetensors` file or
  // an index file. Pickle checkpoints (`pytorch_model.bin`, `*.pt`, ...) are refused: unpickling can
  // run arbitrary code.
  static SafetensorsReader open(const std::filesystem::path& path);

  bool contains(const std::string& name) const;
  // Throws "checkpoint '<path>' has no tensor '<name>'" when absent.
  const SafetensorsTensorInfo& info(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  // The index file, or the single `.safetensors` file: what error messages name.
  const std::filesystem::path& path() const { return path_; }
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }

  // Zero-copy, read-only view of the stored tensor (its own dtype) over the mapping; it keeps the
  // mapping alive. Writing to it crashes: use load() for a tensor you will modify.
  at::Tensor view(const std::string& name) const;
  // A fresh copy converted to `dtype` on `device`. Converts straight from the mapping, then lets
  // the kernel drop the mapped pages, so loading a model costs the converted tensors and no more.
  at::Tensor load(const std::string& name, at::ScalarType dtype, at::Device device = at::kCPU) const;

 private:
  std::filesystem::path path_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<const SafetensorsTensorInfo*, std::shared_ptr<SafetensorsFile>>> index_;
};

// Throws the refusal message when `path` is (or a folder holds only) a pickle checkpoint.
void refuse_pickle_checkpoint(const std::filesystem::path& path);

// One tensor to write: produced when its turn comes (so a whole model is never held twice) and
// converted to `dtype`.
struct SafetensorsEntry {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  std::function<at::Tensor()> produce;
};
SafetensorsEntry safetensors_entry(const std::string& name, const at::Tensor& tensor, at::ScalarType dtype);

// Writes one file (to `<path>.tmp`, then renamed). Produced tensors must have the declared shape.
void write_safetensors_file(const std::filesystem::path& path, const std::vector<SafetensorsEntry>& entries,
                            const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes a checkpoint into the existing folder `dir` as Hugging Face does: `model.safetensors` when
// everything fits in one shard of `max_shard_bytes`, else `model-0000i-of-0000n.safetensors` plus
// `model.safetensors.index.json` (written last). Returns the file names written.
std::vector<std::string> write_safetensors_checkpoint(const std::filesystem::path& dir,
                                                      const std::vector<SafetensorsEntry>& entries,
                                                      int64_t max_shard_bytes);

}  // namespace compactmind
