// Checks of a model folder that must happen before anything is parsed into memory or allocated
// (internal; called first thing by LlamaModel::load).
#pragma once

#include <filesystem>

namespace compactmind::detail {

// Throws std::runtime_error naming the file and the problem when:
//  - the folder's path cannot be resolved (a symlink loop, a permission), or config.json is not a
//    regular file (a FIFO or device would block or never end);
//  - config.json's num_hidden_layers disagrees with the decoder layers the checkpoint holds (read from
//    the safetensors headers only): 1e9 layers would otherwise allocate until the OOM killer comes,
//    and fewer layers than stored would load a silently truncated model.
// Everything else (a missing folder or config, invalid JSON, other dimensions) is left to the loader,
// which checks each tensor's shape against the config before reading it.
void check_model_folder_before_loading(const std::filesystem::path& dir);

}  // namespace compactmind::detail
