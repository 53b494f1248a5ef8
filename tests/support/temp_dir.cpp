#include "temp_dir.h"

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace compactmind::test {
namespace fs = std::filesystem;

namespace {

fs::path make_unique_dir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("cm-test-" + tag + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

// The folders fresh_temp_dir made, removed at exit. Deleting a loaded plugin's file is safe on Linux
// (the mapping stays), and plugins are never unloaded anyway.
struct ProgramLifetimeDirs {
  std::vector<fs::path> dirs;
  ~ProgramLifetimeDirs() {
    for (const auto& dir : dirs) {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  }
};

}  // namespace

TempDir::TempDir(const std::string& tag) : path_(make_unique_dir(tag)) {}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path fresh_temp_dir(const std::string& tag) {
  static ProgramLifetimeDirs made;
  made.dirs.push_back(make_unique_dir(tag));
  return made.dirs.back();
}

}  // namespace compactmind::test
