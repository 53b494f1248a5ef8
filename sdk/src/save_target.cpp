#include "compactmind/save_target.h"

#include <stdexcept>
#include <string>

namespace compactmind {
namespace fs = std::filesystem;

namespace {

// What LlamaModel::save and the random-model writer put into a folder; a folder holding anything
// else (notes, a subfolder) is the user's, not a model, and is never replaced.
bool is_model_file(const std::string& name) {
  static const char* const kModelFiles[] = {"config.json",           "generation_config.json",
                                            "model.safetensors.index.json", "tokenizer.model",
                                            "tokenizer.json",        "tokenizer_config.json",
                                            "special_tokens_map.json", "added_tokens.json"};
  for (const char* known : kModelFiles)
    if (name == known) return true;
  const std::string extension = ".safetensors";
  return name.size() > extension.size() && name.compare(name.size() - extension.size(), extension.size(), extension) == 0;
}

}  // namespace

void check_save_target(const fs::path& dir, bool overwrite, const fs::path& source_model_dir) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) return;
  const std::string where = "cannot save a model to '" + dir.string() + "': ";
  if (error) throw std::runtime_error(where + error.message());
  if (!fs::is_directory(status)) throw std::runtime_error(where + "it exists and is not a folder; choose another folder");
  // fs::equivalent compares device and inode: the source however it is spelled.
  if (!source_model_dir.empty() && fs::equivalent(dir, source_model_dir, error))
    throw std::runtime_error(where + "it is the model being compressed ('" + source_model_dir.string() +
                             "'), which is never replaced; choose another folder");
  if (fs::is_empty(dir, error) && !error) return;
  if (!overwrite)
    throw std::runtime_error(where + "the folder exists and is not empty; choose another folder, or pass --overwrite "
                             "to replace the model saved there");
  if (!fs::is_regular_file(dir / "config.json"))
    throw std::runtime_error(where + "--overwrite replaces only a model folder, and this one has no config.json");
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !is_model_file(name))
      throw std::runtime_error(where + "--overwrite replaces only a model folder, and this one also holds '" + name +
                               "', which is not part of a saved model; move it away or choose another folder");
  }
}

}  // namespace compactmind
