// Scratch folders for tests: unique (mkdtemp), under the system temp folder, removed afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace compactmind::test {

// Removed with its contents when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// For folders that must outlive the scope that made them (a plugin folder a registry keeps loaded):
// removed with their contents when the test program exits.
std::filesystem::path fresh_temp_dir(const std::string& tag);

}  // namespace compactmind::test
