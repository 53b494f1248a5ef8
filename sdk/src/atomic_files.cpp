#include "atomic_files.h"

#include "compactmind/log.h"
#include "compactmind/save_target.h"
#include "test_crash_point.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace compactmind::detail {
namespace fs = std::filesystem;

namespace {

// pid + a counter: unique among concurrent writers on this machine (threads and processes). The pid
// comes first so that a later save can tell a dead writer's leftovers from a live one's.
std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Whether the save that made a hidden sibling named "<...>-<pid>-<n>" may still be running.
bool writer_may_be_alive(const std::string& suffix) {
  char* end = nullptr;
  const long pid = std::strtol(suffix.c_str(), &end, 10);
  if (end == suffix.c_str() || *end != '-' || pid <= 0) return true;  // not ours: leave it alone
  if (pid == ::getpid()) return true;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// A save killed part-way leaves hidden siblings: `.<name>.partial-*` (a new model, maybe incomplete)
// and, with the two-rename fallback only, `.<name>.previous-*` (the old model, moved aside). Before
// the next save to the same folder, the old model goes back where it was if nothing replaced it, and
// every other leftover of a dead process is removed.
void recover_interrupted_saves(const fs::path& parent, const std::string& name, const fs::path& dir) {
  const std::string partial_prefix = "." + name + ".partial-";
  const std::string previous_prefix = "." + name + ".previous-";
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(parent)) {
    const std::string file = entry.path().filename().string();
    for (const std::string& prefix : {partial_prefix, previous_prefix}) {
      if (file.rfind(prefix, 0) != 0 || writer_may_be_alive(file.substr(prefix.size()))) continue;
      if (prefix == previous_prefix && !fs::exists(dir)) {
        fs::rename(entry.path(), dir);
        log_warn("restored '" + dir.string() + "' from '" + entry.path().string() +
                 "', left by a save that was interrupted between its two renames");
      } else {
        stale.push_back(entry.path());
      }
    }
  }
  for (const auto& path : stale) {
    std::error_code error;
    fs::remove_all(path, error);
    if (error) log_warn("cannot remove '" + path.string() + "', left by an interrupted save: " + error.message());
    else log_info("removed '" + path.string() + "', left by an interrupted save");
  }
}

// Swaps the complete `partial` folder with the existing `dir` in one step (Linux renameat2 with
// RENAME_EXCHANGE: ext4, xfs, btrfs, tmpfs, overlayfs), so that `dir` always holds a whole model, the
// old or the new. File systems without it (EINVAL: some network and FUSE ones) get two renames, with
// an instant in between where `dir` is absent and the old model sits in `.<name>.previous-*`; a crash
// there is repaired by the next save (recover_interrupted_saves).
void swap_into_place(const fs::path& partial, const fs::path& dir, const fs::path& previous) {
  const bool exchange_allowed = std::getenv("COMPACTMIND_TEST_NO_RENAME_EXCHANGE") == nullptr;  // test-only
  if (exchange_allowed &&
      ::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    test_crash_point("save-after-swap");
    std::error_code error;  // the new model is in place: failing to delete the old one is not a failed save
    fs::remove_all(partial, error);
    if (error) log_warn("cannot remove the replaced model '" + partial.string() + "': " + error.message());
    return;
  }
  if (exchange_allowed && errno != EINVAL && errno != ENOSYS)
    throw std::system_error(errno, std::generic_category(), "cannot move '" + partial.string() + "' to '" + dir.string() + "'");
  fs::rename(dir, previous);
  test_crash_point("save-after-swap");
  try {
    fs::rename(partial, dir);
  } catch (...) {
    fs::rename(previous, dir);
    throw;
  }
  std::error_code error;
  fs::remove_all(previous, error);
  if (error) log_warn("cannot remove the replaced model '" + previous.string() + "': " + error.message());
}

}  // namespace

void write_json_atomically(const fs::path& path, const nlohmann::json& json) {
  const fs::path partial = fs::path(path.string() + ".tmp");
  std::ofstream stream(partial, std::ios::binary);
  stream << json.dump(2) << "\n";
  // The data reaches the file system at close: a full disk shows up there, not at `<<`.
  stream.close();
  if (!stream) {
    const int reason = errno;
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw std::runtime_error("writing '" + path.string() + "' failed: " + std::strerror(reason) + " (disk full?)");
  }
  fs::rename(partial, path);
}

void write_directory_atomically(const fs::path& requested_dir, bool overwrite, const fs::path& source_model_dir,
                                const std::function<void(const fs::path&)>& fill) {
  fs::path dir = fs::absolute(requested_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "out/" → "out"
  const fs::path parent = dir.parent_path();
  const std::string name = dir.filename().string();
  fs::create_directories(parent);
  recover_interrupted_saves(parent, name, dir);
  check_save_target(dir, overwrite, source_model_dir);
  const bool exists = fs::exists(dir);

  // Hidden siblings on the same file system, so that the final rename or exchange is atomic.
  const std::string suffix = unique_suffix();
  const fs::path partial = parent / ("." + name + ".partial-" + suffix);
  fs::create_directory(partial);
  try {
    fill(partial);
    test_crash_point("save-before-swap");
    if (exists) swap_into_place(partial, dir, parent / ("." + name + ".previous-" + suffix));
    else fs::rename(partial, dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
}

}  // namespace compactmind::detail
