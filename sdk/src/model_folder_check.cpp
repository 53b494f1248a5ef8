#include "model_folder_check.h"

#include "compactmind/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

namespace compactmind::detail {
namespace fs = std::filesystem;

namespace {

// A config.json is a few kilobytes; anything this large is not one, and is not read into memory.
constexpr std::uintmax_t kMaxConfigBytes = std::uintmax_t(16) << 20;

// The decoder layer indices named in the checkpoint: "model.layers.<i>.<...>".
std::set<int64_t> stored_layer_indices(const SafetensorsReader& checkpoint) {
  const std::string prefix = "model.layers.";
  std::set<int64_t> indices;
  for (const auto& name : checkpoint.names()) {
    if (name.rfind(prefix, 0) != 0) continue;
    const size_t end = name.find('.', prefix.size());
    const std::string digits = name.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    indices.insert(std::stoll(digits));
  }
  return indices;
}

}  // namespace

void check_model_folder_before_loading(const fs::path& dir) {
  std::error_code error;
  const fs::file_status folder = fs::status(dir, error);
  if (error && folder.type() != fs::file_type::not_found)
    throw std::runtime_error("model folder '" + dir.string() + "': " + error.message());
  if (!fs::is_directory(folder)) return;
  const fs::path config_path = dir / "config.json";
  const fs::file_status config_status = fs::status(config_path, error);
  if (config_status.type() == fs::file_type::not_found) return;
  if (error) throw std::runtime_error("config '" + config_path.string() + "': " + error.message());
  if (!fs::is_regular_file(config_status))
    throw std::runtime_error("config '" + config_path.string() +
                             "' is not a regular file (a FIFO or device could block or never end)");
  if (fs::file_size(config_path) > kMaxConfigBytes)
    throw std::runtime_error("config '" + config_path.string() + "' is " + std::to_string(fs::file_size(config_path)) +
                             " bytes long: not a config.json");

  nlohmann::json config;
  try {
    config = nlohmann::json::parse(std::ifstream(config_path, std::ios::binary));
  } catch (const nlohmann::json::exception&) {
    return;  // LlamaConfig::load reports it with its own message
  }
  if (!config.is_object()) return;
  const auto declared = config.find("num_hidden_layers");
  if (declared == config.end() || !declared->is_number_integer()) return;
  const int64_t layers = declared->get<int64_t>();
  if (layers < 1) return;  // LlamaConfig::load refuses it

  const std::set<int64_t> stored = stored_layer_indices(SafetensorsReader::open(dir));
  const int64_t stored_count = static_cast<int64_t>(stored.size());
  const bool contiguous = stored.empty() || (*stored.begin() == 0 && *stored.rbegin() == stored_count - 1);
  if (layers == stored_count && contiguous) return;
  const std::string held =
      stored.empty() ? std::string("no decoder layer")
                     : std::to_string(stored_count) + " decoder layer(s), model.layers." + std::to_string(*stored.begin()) +
                           " to model.layers." + std::to_string(*stored.rbegin()) +
                           (contiguous ? "" : " with gaps");
  throw std::runtime_error("config '" + config_path.string() + "' gives num_hidden_layers " + std::to_string(layers) +
                           ", but the checkpoint in '" + dir.string() + "' holds " + held +
                           ": refusing a model that does not match its weights (fix num_hidden_layers, or the checkpoint)");
}

}  // namespace compactmind::detail
