// Loading one plugin file and deciding whether to trust it. The checks run in the order the
// descriptor may be trusted (docs/abi.md): ELF file → dlopen → entry point → ABI version and struct
// size → build fingerprint (SDK series, LibTorch version, C++ ABI) → fields → space JSON (the first
// call into the plugin) → factory probe. Every rejection names the file, the plugin when known, the reason and both versions.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/version.h"

#include <boost/dll/shared_library.hpp>
#include <cxxabi.h>
#include <dlfcn.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>

namespace compactmind::host {
namespace fs = std::filesystem;
namespace {

// The size of ABI 2's descriptor: a plugin declaring less cannot hold the fields this host reads.
constexpr uint32_t kAbi2DescriptorSize = offsetof(cm_plugin_descriptor, get_space_json) + sizeof(void*);
static_assert(kAbi2DescriptorSize <= sizeof(cm_plugin_descriptor), "ABI 2 is a prefix of the current one");

const std::string kRebuildHint = " — rebuild it against compactmind-sdk " COMPACTMIND_SDK_VERSION;

// Every library ever loaded, kept for the life of the process. Deliberately leaked, so no destructor
// runs at exit: unloading a LibTorch-linked library (its static registrations) crashes, and objects
// or function pointers from it may still be referenced (ggml, GStreamer make_resident, LLVM's
// permanent libraries do the same).
void keep_loaded(boost::dll::shared_library library) {
  static std::mutex mutex;
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  std::lock_guard<std::mutex> lock(mutex);
  libraries->push_back(std::move(library));
}

bool has_elf_header(const fs::path& file) {
  std::array<char, 4> magic{};
  std::ifstream stream(file, std::ios::binary);
  stream.read(magic.data(), magic.size());
  return stream.gcount() == 4 && std::memcmp(magic.data(), "\x7f" "ELF", 4) == 0;
}

// The loader's "undefined symbol: _ZN11compactmind8as_dense..." with the C++ name demangled: the
// usual cause is a plugin built against another SDK, and the readable name says which function.
std::string readable_loader_error(std::string message) {
  const std::string marker = "undefined symbol: ";
  const size_t at = message.find(marker);
  if (at == std::string::npos) return message;
  const size_t start = at + marker.size();
  const size_t end = message.find_first_of(" ,\n", start);
  const std::string symbol = message.substr(start, end == std::string::npos ? std::string::npos : end - start);
  int status = 0;
  char* demangled = abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status);
  if (status == 0 && demangled != nullptr)
    message.replace(start, symbol.size(), std::string(demangled) + " (" + symbol + ")");
  std::free(demangled);
  return message;
}

// The part of a version that must match for binary compatibility: MAJOR, or MAJOR.MINOR while the
// major is 0 (semver: anything may change in 0.x, so each 0.y series is its own ABI).
std::string compatibility_series(const std::string& version) {
  const size_t major_end = version.find('.');
  const std::string major = version.substr(0, major_end);
  if (major != "0" || major_end == std::string::npos) return major;
  return version.substr(0, version.find('.', major_end + 1));
}

// Reads what may be trusted of a descriptor and builds the rejection label as it goes.
class Checker {
 public:
  explicit Checker(fs::path file) : file_(std::move(file)) {}

  PluginRejection reject(const std::string& reason) const {
    std::string label = "plugin '" + file_.string() + "'";
    if (!name_.empty()) label += " (" + name_ + (version_.empty() ? "" : " " + version_) + ")";
    return PluginRejection{file_, label + " rejected: " + reason, name_};
  }

  // name and version are frozen at the same offsets in every ABI version (plugin_abi.h), so they
  // can be read to label a rejection even when the rest of the layout is unknown.
  void read_label(const cm_plugin_descriptor& descriptor) {
    if (!CM_DESCRIPTOR_HAS(&descriptor, version)) return;
    if (descriptor.name) name_ = descriptor.name;
    if (descriptor.version) version_ = descriptor.version;
  }

  const fs::path& file() const { return file_; }

 private:
  fs::path file_;
  std::string name_;
  std::string version_;
};

std::optional<std::string> null_field(const cm_plugin_descriptor& d) {
  const std::pair<const char*, const void*> fields[] = {
      {"name", d.name},           {"version", d.version},
      {"description", d.description}, {"sdk_version", d.sdk_version},
      {"torch_version", d.torch_version},
      {"create_method", reinterpret_cast<const void*>(d.create_method)},
      {"destroy_method", reinterpret_cast<const void*>(d.destroy_method)},
      {"apply", reinterpret_cast<const void*>(d.apply)},
      {"get_space_json", reinterpret_cast<const void*>(d.get_space_json)}};
  for (const auto& [field, value] : fields)
    if (value == nullptr) return std::string(field);
  return std::nullopt;
}

// The checks on a descriptor whose ABI version and size are known to be this host's.
std::optional<std::string> fingerprint_mismatch(const cm_plugin_descriptor& d) {
  if (d.sdk_version == nullptr || d.torch_version == nullptr)
    return std::string("descriptor field '") + (d.sdk_version ? "torch_version" : "sdk_version") + "' is null";
  const std::string host_series = compatibility_series(COMPACTMIND_SDK_VERSION);
  if (compatibility_series(d.sdk_version) != host_series)
    return "built against compactmind-sdk " + std::string(d.sdk_version) +
           ", this host is compactmind-sdk " COMPACTMIND_SDK_VERSION " (plugins must come from its " +
           host_series + ".x series)" + kRebuildHint;
  // Exact match: LibTorch gives no C++ ABI guarantee between releases (docs/abi.md).
  if (std::string(d.torch_version) != COMPACTMIND_TORCH_VERSION)
    return "built with LibTorch " + std::string(d.torch_version) +
           ", this host uses LibTorch " COMPACTMIND_TORCH_VERSION
           " (LibTorch has no C++ ABI guarantee across versions) — rebuild it against LibTorch "
           COMPACTMIND_TORCH_VERSION;
  if (d.cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    return "built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(d.cxx11_abi) +
           ", this host uses _GLIBCXX_USE_CXX11_ABI=" + std::to_string(_GLIBCXX_USE_CXX11_ABI) +
           " (std::string and std::list differ between the two) — rebuild it with the host's setting";
  return std::nullopt;
}

std::variant<PluginInfo, PluginRejection> check_descriptor(const cm_plugin_descriptor& d, Checker& checker) {
  if (d.abi_version != CM_ABI_VERSION)
    return checker.reject("built for plugin ABI " + std::to_string(d.abi_version) +
                          ", this host speaks ABI " + std::to_string(CM_ABI_VERSION) + kRebuildHint);
  if (d.struct_size < kAbi2DescriptorSize)
    return checker.reject("its descriptor is " + std::to_string(d.struct_size) + " bytes, ABI " +
                          std::to_string(CM_ABI_VERSION) + " needs at least " +
                          std::to_string(kAbi2DescriptorSize) + kRebuildHint);
  if (auto mismatch = fingerprint_mismatch(d)) return checker.reject(*mismatch);
  if (auto field = null_field(d)) return checker.reject("descriptor field '" + *field + "' is null");
  static const std::regex kNamePattern("[A-Za-z0-9_.-]+");
  if (!std::regex_match(d.name, kNamePattern))
    return checker.reject("name '" + std::string(d.name) + "' must match [A-Za-z0-9_.-]+");
  const std::optional<PluginKind> kind = plugin_kind_from_abi(d.kind);
  if (!kind)
    return checker.reject("unknown kind " + std::to_string(d.kind) +
                          " (expected 1 pruning, 2 quantization, 3 retraining or 4 other)");

  PluginInfo info;
  info.name = d.name;
  info.version = d.version;
  info.kind = *kind;
  info.description = d.description;
  info.file = checker.file();
  info.sdk_version = d.sdk_version;
  info.torch_version = d.torch_version;
  info.cxx11_abi = d.cxx11_abi;
  info.descriptor = &d;

  // The first call into the plugin, now that the fingerprint says its C++ tier is this host's.
  const char* space_json = nullptr;
  const cm_status declared = d.get_space_json(&space_json);
  if (declared.code != 0) return checker.reject("declaring its parameter space failed: " + std::string(declared.message));
  if (space_json == nullptr) return checker.reject("its get_space_json returned no space and no error");
  info.space_json = space_json;
  try {
    info.space = ParameterSpace::parse(info.space_json, "invalid parameter space");
  } catch (const std::exception& error) {
    return checker.reject(error.what());
  }

  // Probe the factory once so a plugin that cannot even construct its method is rejected up front,
  // not in the middle of a search. The plugin destroys what it created.
  cm_method* method = nullptr;
  const cm_status status = d.create_method(&method);
  if (status.code != 0) return checker.reject("its factory failed: " + std::string(status.message));
  if (method == nullptr) return checker.reject("its factory returned no method and no error");
  d.destroy_method(method);
  return info;
}

}  // namespace

std::variant<PluginInfo, PluginRejection> load_plugin(const fs::path& file) {
  Checker checker(file);
  std::error_code fs_error;
  if (!fs::is_regular_file(file, fs_error)) return checker.reject("not a regular file");
  // Checked before dlopen so the message is exact rather than the loader's "file too short" or
  // "invalid ELF header", which depend on the file's length.
  if (!has_elf_header(file)) return checker.reject("not a shared library (no ELF header)");

  boost::dll::shared_library library;
  boost::dll::fs::error_code load_error;
  // rtld_now: a plugin with unresolved symbols (e.g. built against another SDK) fails here, with the
  // loader naming the symbol, instead of crashing in the middle of a run.
  library.load(file, boost::dll::load_mode::rtld_now, load_error);
  if (load_error) {
    const char* reason = dlerror();  // Boost.DLL keeps only an errno-like code; dlerror has the why
    return checker.reject("cannot be loaded: " + readable_loader_error(reason ? reason : load_error.message()));
  }
  const bool has_entry_point = library.has(CM_PLUGIN_ENTRY_POINT);
  auto* get_descriptor = has_entry_point ? &library.get<const cm_plugin_descriptor*()>(CM_PLUGIN_ENTRY_POINT)
                                         : nullptr;
  keep_loaded(std::move(library));
  if (!has_entry_point)
    return checker.reject("missing entry point '" CM_PLUGIN_ENTRY_POINT
                          "' (a plugin exports it with one COMPACTMIND_PLUGIN(...) line, "
                          "docs/plugin-authoring.md)");

  const cm_plugin_descriptor* descriptor = get_descriptor();
  if (descriptor == nullptr) return checker.reject("its entry point '" CM_PLUGIN_ENTRY_POINT "' returned null");
  checker.read_label(*descriptor);
  return check_descriptor(*descriptor, checker);
}

}  // namespace compactmind::host
