// Plugin discovery, loading and the registry the rest of the host uses (the `plugins` command, the
// pipeline executor, the search). Discovery order and rejection rules: docs/architecture.md,
// docs/abi.md. Torch-free on purpose: the model and context are only passed through as opaque handles.
#pragma once

#include "compactmind/contract/parameter_space.h"
#include "compactmind/contract/plugin_abi.h"
#include "compactmind/contract/plugin_kind.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace compactmind {
class LlamaModel;
class MethodContext;
}  // namespace compactmind

namespace compactmind::host {

// A plugin that passed every check: its descriptor (valid for the life of the process, since its
// library is never unloaded) and what was read from it.
struct PluginInfo {
  std::string name;
  std::string version;
  PluginKind kind = PluginKind::kOther;
  std::string description;
  std::filesystem::path file;
  std::string sdk_version;
  std::string torch_version;
  int cxx11_abi = 0;
  std::string space_json;          // as declared
  ParameterSpace space;            // parsed and validated
  const cm_plugin_descriptor* descriptor = nullptr;
};

// A file that matched the naming pattern but is not used; `message` names the file and the reason.
struct PluginRejection {
  std::filesystem::path file;
  std::string message;
  std::string plugin_name;  // when its descriptor could be read, else empty
};

// ---- discovery (plugin_discovery.cpp) ----

struct DiscoveryOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // --plugin-dir, in the order given; must exist
  bool use_environment = true;                     // COMPACTMIND_PLUGIN_PATH (colon-separated)
  bool use_default_dirs = true;                    // next to the executable, then the install's folder

  // Exactly these folders, without the environment or the default folders (tests, benchmarks).
  static DiscoveryOptions only(std::vector<std::filesystem::path> dirs) {
    DiscoveryOptions options;
    options.plugin_dirs = std::move(dirs);
    options.use_environment = false;
    options.use_default_dirs = false;
    return options;
  }
};

// The folders to search, in order, duplicates (same canonical folder) removed; folders from the
// environment or the defaults that do not exist are skipped. Throws std::runtime_error for a
// --plugin-dir that does not exist or is not a folder.
std::vector<std::filesystem::path> plugin_search_path(const DiscoveryOptions& options);

// Files named like a plugin (libcm-*.so) in `dir`, sorted by name (not recursive).
std::vector<std::filesystem::path> plugin_files_in(const std::filesystem::path& dir);

// ---- loading (plugin_loader.cpp) ----

// Loads `file`, reads and checks its descriptor (ABI version and size, build fingerprint, fields,
// space JSON) and probes its factory. The library stays loaded for the life of the process whatever
// the outcome (unloading LibTorch-linked libraries crashes at exit).
std::variant<PluginInfo, PluginRejection> load_plugin(const std::filesystem::path& file);

// ---- the registry (plugin_registry.cpp) ----

class PluginRegistry {
 public:
  // Searches plugin_search_path(options) in order; the first plugin of a name wins, later ones are
  // rejected as duplicates.
  static PluginRegistry discover(const DiscoveryOptions& options);

  // Loads one file and registers it (or records its rejection). Returns the plugin, or nullptr.
  // Pointers and references into plugins() stay valid until the next add_file.
  const PluginInfo* add_file(const std::filesystem::path& file);

  const PluginInfo* find(const std::string& name) const;
  // Like find, but throws std::runtime_error naming the plugin and listing the known ones.
  const PluginInfo& get(const std::string& name) const;
  const std::vector<PluginInfo>& plugins() const { return plugins_; }
  const std::vector<PluginRejection>& rejections() const { return rejections_; }
  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }

  // Runs plugin `name` on `model` in place: resolves `params` (an object, or null for "all
  // defaults") against its space (fills defaults,
  // checks bounds — throws std::invalid_argument naming the plugin and the parameter), creates the
  // method, applies it, destroys it. Throws std::runtime_error("plugin 'name' failed: <message>")
  // when the plugin reports a failure.
  void apply(const std::string& name, LlamaModel& model, const nlohmann::json& params,
             MethodContext& context) const;

 private:
  std::vector<PluginInfo> plugins_;
  std::vector<PluginRejection> rejections_;
  std::vector<std::filesystem::path> search_path_;
};

}  // namespace compactmind::host
