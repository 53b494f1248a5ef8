// Memory-mapped safetensors reading with full header validation (format: safetensors.h).
#include "compactmind/safetensors.h"

#include "safetensors_dtype.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader maps it without byte swapping"
#endif

namespace compactmind {
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

[[noreturn]] void fail_file(const fs::path& file, const std::string& problem) {
  throw std::runtime_error("safetensors file " + quoted(file) + ": " + problem);
}

// A tensor name comes from the untrusted header: control characters (a NUL would cut what() short,
// before the file name) are shown as \xNN.
std::string printable(const std::string& name) {
  std::string text;
  for (const unsigned char c : name) {
    if (c >= 0x20 && c != 0x7f) {
      text += static_cast<char>(c);
      continue;
    }
    constexpr char kHex[] = "0123456789abcdef";
    text += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
  }
  return text;
}

[[noreturn]] void fail_tensor(const fs::path& file, const std::string& tensor, const std::string& problem) {
  throw std::runtime_error("tensor '" + printable(tensor) + "' in " + quoted(file) + ": " + problem);
}

bool is_pickle_name(const fs::path& path) {
  static const std::set<std::string> kPickleExtensions = {".bin", ".pt", ".pth", ".ckpt", ".pkl"};
  return kPickleExtensions.count(path.extension().string()) > 0;
}

[[noreturn]] void fail_pickle(const fs::path& path) {
  throw std::runtime_error(
      quoted(path) +
      " is a PyTorch pickle checkpoint; CompactMind does not read pickles because unpickling can "
      "execute arbitrary code. Convert it to safetensors first, e.g. in Python with transformers: "
      "AutoModelForCausalLM.from_pretrained(DIR).save_pretrained(OUT, safe_serialization=True)");
}

// Parses one header entry and checks everything that does not depend on the other entries.
SafetensorsTensorInfo parse_entry(const fs::path& file, const std::string& name, const nlohmann::json& entry,
                                  uint64_t data_bytes) {
  if (!entry.is_object()) fail_tensor(file, name, "the header entry is not a JSON object");
  SafetensorsTensorInfo info;
  info.name = name;
  info.file = file;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail_tensor(file, name, "the header gives no \"dtype\" string");
  info.dtype_name = dtype_it->get<std::string>();
  const auto dtype = detail::supported_safetensors_dtype(info.dtype_name);
  if (!dtype) {
    if (detail::is_other_safetensors_dtype(info.dtype_name))
      fail_tensor(file, name, "dtype " + printable(info.dtype_name) + " is not supported (CompactMind reads " +
                                  detail::kSupportedSafetensorsDtypes + ")");
    fail_tensor(file, name, "dtype '" + printable(info.dtype_name) + "' is not a safetensors dtype");
  }
  info.dtype = dtype->scalar_type;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array())
    fail_tensor(file, name, "the header gives no \"shape\" array");
  // Multiplied in 128 bits so a hostile shape cannot wrap around to a small byte count.
  unsigned __int128 needed = dtype->element_bytes;
  for (const auto& dim : *shape_it) {
    if (!dim.is_number_unsigned())
      fail_tensor(file, name, "shape " + shape_it->dump() + " holds something other than non-negative integers");
    const uint64_t size = dim.get<uint64_t>();
    if (size > uint64_t(std::numeric_limits<int64_t>::max())) fail_tensor(file, name, "shape " + shape_it->dump() + " is too large");
    info.shape.push_back(int64_t(size));
    needed *= size;
    if (needed > (unsigned __int128)std::numeric_limits<uint64_t>::max())
      fail_tensor(file, name, "shape " + shape_it->dump() + " is too large");
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
    fail_tensor(file, name, "the header gives no \"data_offsets\" [begin, end] of non-negative integers");
  info.begin = (*offsets_it)[0].get<uint64_t>();
  info.end = (*offsets_it)[1].get<uint64_t>();
  if (info.end < info.begin)
    fail_tensor(file, name, "data_offsets [" + std::to_string(info.begin) + "," + std::to_string(info.end) +
                                "] end before they begin");
  if (uint64_t(needed) != info.end - info.begin)
    fail_tensor(file, name, "shape " + shape_text(info.shape) + " × " + info.dtype_name + " needs " +
                                std::to_string(uint64_t(needed)) + " bytes, the header gives " +
                                std::to_string(info.end - info.begin));
  if (info.end > data_bytes)
    fail_tensor(file, name, "data_offsets [" + std::to_string(info.begin) + "," + std::to_string(info.end) +
                                "] reach past the end of the data section (" + std::to_string(data_bytes) +
                                " bytes): the file is truncated or the header is wrong");
  return info;
}

// Ranges may leave gaps but never share bytes: a tensor aliasing another is a corrupt (or crafted) file.
void check_no_overlap(const fs::path& file, const std::map<std::string, SafetensorsTensorInfo>& tensors) {
  std::vector<const SafetensorsTensorInfo*> sorted;
  for (const auto& [name, info] : tensors)
    if (info.end > info.begin) sorted.push_back(&info);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const auto& previous = *sorted[i - 1];
    const auto& current = *sorted[i];
    if (current.begin < previous.end)
      fail_tensor(file, current.name,
                  "bytes [" + std::to_string(current.begin) + "," + std::to_string(current.end) +
                      ") overlap tensor '" + previous.name + "' [" + std::to_string(previous.begin) + "," +
                      std::to_string(previous.end) + ")");
  }
}

int64_t page_bytes() {
  static const int64_t bytes = sysconf(_SC_PAGESIZE);
  return bytes;
}

// Model weights are large and long-lived: backing them with 2 MB pages (this machine's THP mode is
// "madvise", so nothing happens without asking) took loading a 1.1B model from 1.10 M page faults to
// 0.10 M, and eases TLB pressure in the GEMMs later. Only whole huge pages inside the tensor are advised.
void advise_huge_pages(const at::Tensor& tensor) {
  constexpr uintptr_t kHugePage = uintptr_t(2) << 20;
  const auto begin = reinterpret_cast<uintptr_t>(tensor.data_ptr());
  const uintptr_t end = begin + tensor.nbytes();
  const uintptr_t first = (begin + kHugePage - 1) / kHugePage * kHugePage;
  const uintptr_t last = end / kHugePage * kHugePage;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace

void refuse_pickle_checkpoint(const fs::path& path) {
  if (fs::is_regular_file(path) && is_pickle_name(path)) fail_pickle(path);
  if (!fs::is_directory(path)) return;
  for (const char* name : {"pytorch_model.bin.index.json", "pytorch_model.bin", "model.pt", "model.pth",
                           "consolidated.00.pth"})
    if (fs::exists(path / name)) fail_pickle(path / name);
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_regular_file() && is_pickle_name(entry.path())) fail_pickle(entry.path());
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  // O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for a writer; the file is
  // then refused below as not regular. (No effect on regular files.)
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (descriptor < 0) fail_file(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat status {};
  if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(descriptor);
    fail_file(path, "not a regular file");
  }
  file->file_bytes_ = uint64_t(status.st_size);
  if (file->file_bytes_ < 8) {
    ::close(descriptor);
    fail_file(path, "only " + std::to_string(file->file_bytes_) +
                        " bytes long, too short for the 8-byte header length");
  }
  // PROT_READ + MAP_PRIVATE: the file can never be changed through us; load() copies.
  void* mapping = mmap(nullptr, file->file_bytes_, PROT_READ, MAP_PRIVATE, descriptor, 0);
  ::close(descriptor);  // the mapping keeps the file open
  if (mapping == MAP_FAILED) fail_file(path, std::string("cannot memory-map: ") + std::strerror(errno));
  file->mapping_ = mapping;  // from here on the destructor unmaps, even if validation throws
  const auto* bytes = static_cast<const unsigned char*>(mapping);

  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes, 8);
  if (header_bytes > kMaxHeaderBytes)
    fail_file(path, "the header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                        std::to_string(kMaxHeaderBytes) + " bytes: not a safetensors file, or corrupt");
  if (8 + header_bytes > file->file_bytes_)
    fail_file(path, "the header length " + std::to_string(header_bytes) + " reaches past the end of the file (" +
                        std::to_string(file->file_bytes_) + " bytes): the file is truncated or not safetensors");
  file->data_offset_ = 8 + header_bytes;
  const uint64_t data_bytes = file->file_bytes_ - file->data_offset_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(bytes + 8),
                                   reinterpret_cast<const char*>(bytes + 8 + header_bytes));
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for 1e400
    fail_file(path, std::string("the header is not valid JSON (") + error.what() + ")");
  }
  if (!header.is_object()) fail_file(path, "the header is not a JSON object");

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail_file(path, "\"__metadata__\" is not an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail_file(path, "\"__metadata__\" entry '" + key + "' is not a string");
        file->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    file->tensors_.emplace(name, parse_entry(path, name, entry, data_bytes));
  }
  check_no_overlap(path, file->tensors_);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) munmap(mapping_, file_bytes_);
}

SafetensorsReader SafetensorsReader::open(const fs::path& path) {
  SafetensorsReader reader;
  if (!fs::exists(path)) throw std::runtime_error("checkpoint " + quoted(path) + " does not exist");

  fs::path index_path;
  fs::path single_path;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "model.safetensors.index.json"))
      index_path = path / "model.safetensors.index.json";
    else if (fs::exists(path / "model.safetensors"))
      single_path = path / "model.safetensors";
    else {
      refuse_pickle_checkpoint(path);
      throw std::runtime_error("model folder " + quoted(path) +
                               " holds neither model.safetensors nor model.safetensors.index.json");
    }
  } else if (path.extension() == ".json") {
    index_path = path;
  } else {
    refuse_pickle_checkpoint(path);
    single_path = path;
  }

  reader.path_ = single_path.empty() ? index_path : single_path;
  if (!single_path.empty()) {
    reader.files_.push_back(SafetensorsFile::open(single_path));
    for (const auto& [name, info] : reader.files_[0]->tensors()) reader.index_[name] = {&info, reader.files_[0]};
    return reader;
  }

  if (!fs::is_regular_file(index_path))
    throw std::runtime_error("shard index " + quoted(index_path) + " is not a regular file");
  std::ifstream stream(index_path);
  if (!stream) throw std::runtime_error("cannot read the shard index " + quoted(index_path));
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("shard index " + quoted(index_path) + " is not valid JSON (" + error.what() + ")");
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw std::runtime_error("shard index " + quoted(index_path) + " has no \"weight_map\" object");

  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
  for (const auto& [name, shard_value] : index["weight_map"].items()) {
    if (!shard_value.is_string())
      throw std::runtime_error("shard index " + quoted(index_path) + ": the shard of tensor '" + name +
                               "' is not a file name");
    const std::string shard_name = shard_value.get<std::string>();
    // Shards are plain names next to the index: never follow a path out of the model folder.
    const fs::path shard_path(shard_name);
    if (shard_path.has_parent_path() || shard_name == ".." || shard_name == "." || shard_name.empty())
      throw std::runtime_error("shard index " + quoted(index_path) + ": shard '" + shard_name + "' of tensor '" +
                               name + "' is not a file name in the model folder");
    auto& shard = shards[shard_name];
    if (!shard) {
      const fs::path full = index_path.parent_path() / shard_path;
      if (!fs::exists(full))
        throw std::runtime_error("shard index " + quoted(index_path) + " lists shard '" + shard_name +
                                 "' (for tensor '" + name + "'), which does not exist");
      shard = SafetensorsFile::open(full);
      reader.files_.push_back(shard);
    }
    const auto found = shard->tensors().find(name);
    if (found == shard->tensors().end())
      throw std::runtime_error("shard index " + quoted(index_path) + " puts tensor '" + name + "' in " +
                               quoted(shard->path()) + ", which has no such tensor");
    reader.index_[name] = {&found->second, shard};
  }
  return reader;
}

bool SafetensorsReader::contains(const std::string& name) const { return index_.count(name) > 0; }

const SafetensorsTensorInfo& SafetensorsReader::info(const std::string& name) const {
  const auto found = index_.find(name);
  if (found == index_.end()) throw std::runtime_error("checkpoint " + quoted(path_) + " has no tensor '" + name + "'");
  return *found->second.first;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> names;
  for (const auto& entry : index_) names.push_back(entry.first);
  return names;
}

at::Tensor SafetensorsReader::view(const std::string& name) const {
  const auto& tensor_info = info(name);
  const std::shared_ptr<SafetensorsFile>& file = index_.at(name).second;
  const auto options = at::TensorOptions().dtype(tensor_info.dtype).device(at::kCPU);
  if (tensor_info.end == tensor_info.begin) return at::empty(tensor_info.shape, options);
  auto* data = static_cast<char*>(file->mapping_) + file->data_offset_ + tensor_info.begin;
  const uint64_t element_bytes = at::elementSize(tensor_info.dtype);
  if (reinterpret_cast<uintptr_t>(data) % element_bytes != 0) {
    // The format does not promise alignment; kernels may, so misaligned data gets one aligned copy.
    at::Tensor copy = at::empty(tensor_info.shape, options);
    std::memcpy(copy.data_ptr(), data, tensor_info.end - tensor_info.begin);
    return copy;
  }
  // The deleter holds the file, so the mapping outlives every view.
  return at::from_blob(data, tensor_info.shape, [file](void*) {}, options);
}

at::Tensor SafetensorsReader::load(const std::string& name, at::ScalarType dtype, at::Device device) const {
  const auto& tensor_info = info(name);
  at::Tensor result;
  if (device.is_cpu()) {
    result = at::empty(tensor_info.shape, at::TensorOptions().dtype(dtype));
    advise_huge_pages(result);
    result.copy_(view(name));
  } else {
    result = view(name).to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
  }
  const auto& file = index_.at(name).second;
  // The mapping is private and never written, so dropping its pages loses nothing (a later access
  // re-reads the file) and keeps the resident set at the converted tensors only.
  const int64_t page = page_bytes();
  const uint64_t first = (file->data_offset_ + tensor_info.begin) / page * page;
  const uint64_t last = std::min<uint64_t>(file->file_bytes_, file->data_offset_ + tensor_info.end);
  if (last > first) madvise(static_cast<char*>(file->mapping_) + first, last - first, MADV_DONTNEED);
  return result;
}

}  // namespace compactmind
