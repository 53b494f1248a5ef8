// What identifies a model folder by content, not by the spelling of its path: `search --resume` uses
// it to refuse a study whose model was replaced behind the same path.
#pragma once

#include <filesystem>
#include <string>

namespace compactmind {

// SHA-256 (hex) over config.json and the tokenizer files (their bytes), and over every *.safetensors
// file's name, size, JSON header (every tensor's name, dtype, shape and offsets) and 65 samples of
// 4 KiB spread evenly over its data: a replaced, retrained or re-shaped checkpoint changes it, while
// reading well under a megabyte per shard however large the model. (An edit of a few weights between
// two samples goes unseen: hashing every byte would cost seconds per gigabyte at each search start.)
// Throws std::runtime_error naming the file that cannot be read.
std::string model_fingerprint(const std::filesystem::path& model_dir);

}  // namespace compactmind
