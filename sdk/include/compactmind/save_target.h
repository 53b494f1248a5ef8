// The folder a model is written to (`run --save`, `search --save-best`, `tools random-model --out`):
// the rules that make sure a save never loses anything the user did not ask to replace.
#pragma once

#include <filesystem>

namespace compactmind {

// Returns normally when a model may be written to `dir`:
//  - `dir` does not exist, or is an empty folder; or
//  - `overwrite` is set and `dir` is a model folder: config.json plus only the files a saved model
//    holds (safetensors shards and index, config, generation and tokenizer files), no subfolder;
// and, in every case, `dir` is not the folder `source_model_dir` (the same inode, however spelled:
// trailing slash, `..`, symlink). Otherwise throws std::runtime_error naming the folder, the problem
// and the way out. Call it before loading anything, so that a refused save costs nothing.
void check_save_target(const std::filesystem::path& dir, bool overwrite,
                       const std::filesystem::path& source_model_dir = {});

}  // namespace compactmind
