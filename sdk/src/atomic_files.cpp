#include "atomic_files.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <string>

namespace compactmind::detail {
namespace fs = std::filesystem;

namespace {

// pid + a counter: unique among concurrent writers on this machine (threads and processes).
std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

void write_json_atomically(const fs::path& path, const nlohmann::json& json) {
  const fs::path partial = fs::path(path.string() + ".tmp");
  {
    std::ofstream stream(partial);
    stream << json.dump(2) << "\n";
    if (!stream) throw std::runtime_error("writing '" + partial.string() + "' failed");
  }
  fs::rename(partial, path);
}

void write_directory_atomically(const fs::path& requested_dir, const std::function<void(const fs::path&)>& fill) {
  fs::path dir = fs::absolute(requested_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "out/" → "out"
  const fs::path parent = dir.parent_path();
  const std::string name = dir.filename().string();

  const bool exists = fs::exists(dir);
  if (exists) {
    if (!fs::is_directory(dir)) throw std::runtime_error("cannot write a model to '" + dir.string() + "': it is a file");
    if (!fs::is_empty(dir) && !fs::exists(dir / "config.json"))
      throw std::runtime_error("refusing to replace '" + dir.string() +
                               "': it exists and is not a model folder (no config.json); choose another output folder");
  }
  fs::create_directories(parent);

  // A hidden sibling on the same file system, so the final rename is atomic.
  const fs::path partial = parent / ("." + name + ".partial-" + unique_suffix());
  fs::create_directory(partial);
  try {
    fill(partial);
    if (exists) {
      const fs::path previous = parent / ("." + name + ".previous-" + unique_suffix());
      fs::rename(dir, previous);
      try {
        fs::rename(partial, dir);
      } catch (...) {
        fs::rename(previous, dir);
        throw;
      }
      fs::remove_all(previous);
    } else {
      fs::rename(partial, dir);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
}

}  // namespace compactmind::detail
