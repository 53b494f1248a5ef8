// Where plugins are looked for, in order (docs/architecture.md, docs/cli.md):
//   1. every --plugin-dir, in the order given;
//   2. COMPACTMIND_PLUGIN_PATH, colon-separated, in order;
//   3. folders relative to the running executable: the build tree's plugin folder (bin/../plugins-out)
//      and the installed layout's (bin/../lib/compactmind/plugins), so a build or an install that was
//      moved still finds its own plugins;
//   4. the install's plugin folder as configured (COMPACTMIND_DEFAULT_PLUGIN_DIR).
#include "compactmind/host/plugin_registry.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace compactmind::host {
namespace fs = std::filesystem;
namespace {

constexpr char kPluginPrefix[] = "libcm-";
constexpr char kPluginSuffix[] = ".so";

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

fs::path executable_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : exe.parent_path();
}

bool is_dir(const fs::path& dir) {
  std::error_code error;
  return fs::is_directory(dir, error);
}

}  // namespace

std::vector<fs::path> plugin_search_path(const DiscoveryOptions& options) {
  std::vector<fs::path> candidates;
  for (const auto& dir : options.plugin_dirs) {
    std::error_code error;
    const fs::file_status status = fs::status(dir, error);
    if (error && status.type() != fs::file_type::not_found)  // a symlink loop, a permission
      throw std::runtime_error("plugin folder '" + dir.string() + "' (from --plugin-dir) cannot be read: " + error.message());
    if (!fs::is_directory(status))
      throw std::runtime_error("plugin folder '" + dir.string() + "' (from --plugin-dir) " +
                               (fs::exists(status) ? "is not a folder" : "does not exist"));
    candidates.push_back(dir);
  }
  if (options.use_environment) {
    if (const char* path = std::getenv("COMPACTMIND_PLUGIN_PATH"))
      for (const auto& entry : split(path, ':'))
        if (!entry.empty() && is_dir(entry)) candidates.emplace_back(entry);
  }
  if (options.use_default_dirs) {
    const fs::path exe_dir = executable_dir();
    if (!exe_dir.empty())
      for (const auto& relative : split(COMPACTMIND_EXE_RELATIVE_PLUGIN_DIRS, ':'))
        if (is_dir(exe_dir / relative)) candidates.push_back(exe_dir / relative);
    if (is_dir(COMPACTMIND_DEFAULT_PLUGIN_DIR)) candidates.emplace_back(COMPACTMIND_DEFAULT_PLUGIN_DIR);
  }
  // The same folder reached twice (e.g. the install folder both relative and absolute) is searched
  // once, at its first position.
  std::vector<fs::path> search_path;
  std::vector<fs::path> seen;
  for (const auto& dir : candidates) {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(dir, error);
    if (error) canonical = dir;
    bool duplicate = false;
    for (const auto& other : seen) duplicate = duplicate || other == canonical;
    if (duplicate) continue;
    seen.push_back(canonical);
    search_path.push_back(canonical);
  }
  return search_path;
}

std::vector<fs::path> plugin_files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  fs::directory_iterator entries(dir, error);
  // A folder on the plugin path that cannot be listed would otherwise look like one without plugins.
  if (error)
    throw std::runtime_error("plugin folder '" + dir.string() + "' cannot be read: " + error.message() +
                             "; fix its permissions or take it off the plugin path");
  for (const auto& entry : entries) {
    const std::string name = entry.path().filename().string();
    const size_t prefix = sizeof(kPluginPrefix) - 1;
    const size_t suffix = sizeof(kPluginSuffix) - 1;
    if (name.size() > prefix + suffix && name.compare(0, prefix, kPluginPrefix) == 0 &&
        name.compare(name.size() - suffix, suffix, kPluginSuffix) == 0)
      files.push_back(entry.path());
  }
  // directory_iterator's order is the file system's; sort so that "first one wins" is reproducible.
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace compactmind::host
