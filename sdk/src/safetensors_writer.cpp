// Safetensors writing: streamed tensor by tensor, each file renamed into place when complete.
#include "compactmind/safetensors.h"

#include "atomic_files.h"
#include "safetensors_dtype.h"

#include <cstdio>
#include <stdexcept>

namespace compactmind {
namespace fs = std::filesystem;

namespace {

int64_t entry_bytes(const SafetensorsEntry& entry) {
  int64_t bytes = int64_t(at::elementSize(entry.dtype));
  for (int64_t size : entry.shape) bytes *= size;
  return bytes;
}

int64_t entry_numel(const SafetensorsEntry& entry) {
  int64_t numel = 1;
  for (int64_t size : entry.shape) numel *= size;
  return numel;
}

// Closes the FILE and removes the unfinished file unless released.
class PartialFile {
 public:
  PartialFile(const fs::path& path) : path_(path), handle_(std::fopen(path.c_str(), "wb")) {
    if (handle_ == nullptr) throw std::runtime_error("cannot create '" + path.string() + "'");
  }
  ~PartialFile() {
    if (handle_ != nullptr) std::fclose(handle_);
    if (!released_) {
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }
  void write(const void* data, size_t bytes) {
    if (bytes > 0 && std::fwrite(data, 1, bytes, handle_) != bytes)
      throw std::runtime_error("writing '" + path_.string() + "' failed (disk full?)");
  }
  void finish_as(const fs::path& final_path) {
    const int status = std::fclose(handle_);
    handle_ = nullptr;
    if (status != 0) throw std::runtime_error("writing '" + path_.string() + "' failed (disk full?)");
    fs::rename(path_, final_path);
    released_ = true;
  }

 private:
  fs::path path_;
  std::FILE* handle_;
  bool released_ = false;
};

}  // namespace

std::string safetensors_dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kChar: return "I8";
    case at::kInt: return "I32";
    case at::kLong: return "I64";
    default:
      throw std::runtime_error(std::string("cannot store dtype ") + c10::toString(dtype) +
                               " in safetensors (CompactMind writes " + detail::kSupportedSafetensorsDtypes + ")");
  }
}

SafetensorsEntry safetensors_entry(const std::string& name, const at::Tensor& tensor, at::ScalarType dtype) {
  return {name, dtype, tensor.sizes().vec(), [tensor] { return tensor; }};
}

void write_safetensors_file(const fs::path& path, const std::vector<SafetensorsEntry>& entries,
                            const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& entry : entries) {
    if (header.contains(entry.name))
      throw std::runtime_error("writing '" + path.string() + "': tensor '" + entry.name + "' appears twice");
    const uint64_t bytes = uint64_t(entry_bytes(entry));
    header[entry.name] = {{"dtype", safetensors_dtype_name(entry.dtype)},
                          {"shape", entry.shape},
                          {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned, as the
  // reference writer does: readers can then map F32/I32 tensors without copying.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  const uint64_t header_bytes = header_text.size();

  PartialFile file(fs::path(path.string() + ".tmp"));
  file.write(&header_bytes, 8);
  file.write(header_text.data(), header_text.size());
  for (const auto& entry : entries) {
    at::Tensor tensor = entry.produce();
    if (tensor.sizes().vec() != entry.shape)
      throw std::runtime_error("writing tensor '" + entry.name + "' to '" + path.string() + "': it has shape " +
                               c10::str(tensor.sizes()) + ", declared " + c10::str(at::IntArrayRef(entry.shape)));
    tensor = tensor.detach().to(at::kCPU, entry.dtype).contiguous();
    file.write(tensor.data_ptr(), tensor.nbytes());
  }
  file.finish_as(path);
}

std::vector<std::string> write_safetensors_checkpoint(const fs::path& dir, const std::vector<SafetensorsEntry>& entries,
                                                      int64_t max_shard_bytes) {
  // Greedy in the given order, as transformers' shard splitting does: a tensor larger than the limit
  // gets a shard of its own.
  std::vector<std::vector<SafetensorsEntry>> shards(1);
  int64_t shard_bytes = 0;
  int64_t total_bytes = 0;
  int64_t total_parameters = 0;
  for (const auto& entry : entries) {
    const int64_t bytes = entry_bytes(entry);
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(entry);
    shard_bytes += bytes;
    total_bytes += bytes;
    total_parameters += entry_numel(entry);
  }

  if (shards.size() == 1) {
    write_safetensors_file(dir / "model.safetensors", shards[0]);
    return {"model.safetensors"};
  }
  std::vector<std::string> names;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors_file(dir / name, shards[i]);
    for (const auto& entry : shards[i]) weight_map[entry.name] = name;
    names.push_back(name);
  }
  detail::write_json_atomically(dir / "model.safetensors.index.json",
                        {{"metadata", {{"total_size", total_bytes}, {"total_parameters", total_parameters}}},
                         {"weight_map", weight_map}});
  names.push_back("model.safetensors.index.json");
  return names;
}

}  // namespace compactmind
