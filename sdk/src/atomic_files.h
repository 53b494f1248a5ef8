// Writing files and folders so that a reader (or a crash) never sees them half written.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

namespace compactmind::detail {

// Writes `<path>.tmp`, then renames it to `path`; throws std::runtime_error naming `path` when the
// data does not reach the file (checked after close: a full disk), leaving no `.tmp` behind.
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& json);

// Calls `fill` on a fresh temporary sibling of `dir`, then moves it to `dir`, atomically replacing an
// existing model folder (renameat2 RENAME_EXCHANGE; two renames where unsupported, atomic_files.cpp).
// `dir` must pass check_save_target(dir, overwrite, source_model_dir) (save_target.h). Leftovers of an
// earlier, interrupted save to `dir` are cleaned first. On any failure the temporary folder is removed
// and `dir` is left as it was.
void write_directory_atomically(const std::filesystem::path& dir, bool overwrite,
                                const std::filesystem::path& source_model_dir,
                                const std::function<void(const std::filesystem::path& partial_dir)>& fill);

}  // namespace compactmind::detail
