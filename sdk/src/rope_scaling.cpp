// config.json's RoPE scaling object → RopeScaling, with the fields transformers' rope_config_validation
// requires for each type.
#include "compactmind/rope_scaling.h"

#include <stdexcept>

namespace compactmind {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  throw std::runtime_error("config '" + path.string() + "': " + problem);
}

std::string type_of(const json& rope) {
  for (const char* key : {"rope_type", "type"})
    if (rope.contains(key) && rope[key].is_string()) return rope[key].get<std::string>();
  return "default";
}

// A required positive number `field` of the object under `key`, for RoPE type `type`.
double positive_number(const json& rope, const std::string& key, const char* field, const std::string& type,
                       const fs::path& path) {
  const std::string name = "\"" + key + "." + field + "\"";
  if (!rope.contains(field) || rope[field].is_null())
    fail(path, name + " is missing (RoPE scaling of type '" + type + "' needs it)");
  if (!rope[field].is_number() || !(rope[field].get<double>() > 0))
    fail(path, name + " must be a positive number, got " + rope[field].dump());
  return rope[field].get<double>();
}

}  // namespace

RopeScaling parse_rope_scaling(const json& rope, const std::string& key, const fs::path& path) {
  if (!rope.is_object()) fail(path, "\"" + key + "\" must be null or an object, got " + rope.dump());
  RopeScaling scaling;
  scaling.type = type_of(rope);
  if (scaling.type == "default") return scaling;
  if (scaling.type != "linear" && scaling.type != "dynamic" && scaling.type != "llama3")
    fail(path, "\"" + key + "\" asks for RoPE scaling of type '" + scaling.type +
                   "', which CompactMind does not implement (it implements 'default', 'linear', 'dynamic' and "
                   "'llama3')");
  scaling.factor = positive_number(rope, key, "factor", scaling.type, path);
  if (scaling.type != "llama3") return scaling;

  scaling.low_freq_factor = positive_number(rope, key, "low_freq_factor", scaling.type, path);
  scaling.high_freq_factor = positive_number(rope, key, "high_freq_factor", scaling.type, path);
  // The blend between the two wavelength bounds divides by their difference.
  if (!(scaling.high_freq_factor > scaling.low_freq_factor))
    fail(path, "\"" + key + "\": high_freq_factor " + rope["high_freq_factor"].dump() +
                   " must be larger than low_freq_factor " + rope["low_freq_factor"].dump());
  const char* context = "original_max_position_embeddings";
  if (!rope.contains(context) || rope[context].is_null())
    fail(path, "\"" + key + "." + context + "\" is missing (RoPE scaling of type 'llama3' needs it)");
  if (!rope[context].is_number_integer() || rope[context].get<int64_t>() <= 0)
    fail(path, "\"" + key + "." + context + "\" must be a positive integer, got " + rope[context].dump());
  scaling.original_max_position_embeddings = rope[context].get<int64_t>();
  return scaling;
}

}  // namespace compactmind
