// Writing files and folders so that a reader (or a crash) never sees them half written.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

namespace compactmind::detail {

// Writes `<path>.tmp`, then renames it to `path`.
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& json);

// Calls `fill` on a fresh temporary sibling of `dir`, then renames it to `dir`. An existing `dir` is
// replaced only if it looks like a model folder (holds config.json), never an unrelated folder. On any
// failure the temporary folder is removed and `dir` is left as it was.
void write_directory_atomically(const std::filesystem::path& dir,
                                const std::function<void(const std::filesystem::path& partial_dir)>& fill);

}  // namespace compactmind::detail
