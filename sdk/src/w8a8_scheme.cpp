#include "compactmind/w8a8_scheme.h"

#include <regex>
#include <stdexcept>

namespace compactmind {
namespace {

using nlohmann::json;

constexpr const char* kOwnKey = "compactmind";

json int8_args(const std::string& strategy, bool dynamic) {
  // The fields llm-compressor writes for its W8A8 int8 preset; unset ones as null as it does.
  return {{"num_bits", 8},           {"type", "int"},           {"symmetric", true},
          {"dynamic", dynamic},      {"strategy", strategy},    {"group_size", nullptr},
          {"block_structure", nullptr}, {"actorder", nullptr},  {"observer", dynamic ? json(nullptr) : json("minmax")},
          {"observer_kwargs", json::object()}};
}

[[noreturn]] void reject(const std::string& path, const std::string& what) {
  throw std::runtime_error("'" + path + "': quantization_config " + what +
                           "; this build executes only compressed-tensors W8A8 (8-bit symmetric int "
                           "weights, dynamic 8-bit symmetric int activations)");
}

// Checks one QuantizationArgs object of a config group and returns its strategy.
std::string read_int8_args(const json& args, const std::string& where, bool dynamic,
                           const std::string& path) {
  if (!args.is_object()) reject(path, where + " is missing");
  if (args.value("num_bits", 0) != 8) reject(path, where + " has num_bits " + args.value("num_bits", json()).dump());
  if (args.value("type", std::string()) != "int") reject(path, where + " has type " + args.value("type", json()).dump());
  if (!args.value("symmetric", false)) reject(path, where + " is not symmetric");
  if (args.value("dynamic", false) != dynamic)
    reject(path, where + (dynamic ? " is static (calibrated scales)" : " is dynamic"));
  if (!args.contains("strategy") || !args["strategy"].is_string()) reject(path, where + " has no strategy");
  return args["strategy"].get<std::string>();
}

}  // namespace

json w8a8_quantization_config(const W8A8Scheme& scheme) {
  const std::string weight_strategy = scheme.weight_quant == WeightQuant::kPerChannel ? "channel" : "tensor";
  const std::string act_strategy = scheme.act_quant == ActQuant::kPerToken ? "token" : "tensor";
  json own = {{"quantize_bmm_input", scheme.quantize_bmm_input}};
  if (!scheme.provenance.empty()) own["provenance"] = scheme.provenance;
  return {{"quant_method", "compressed-tensors"},
          {"format", "int-quantized"},
          {"quantization_status", "compressed"},
          {"kv_cache_scheme", nullptr},
          {"ignore", scheme.ignore},
          {"config_groups",
           {{"group_0",
             {{"targets", {"Linear"}},
              {"weights", int8_args(weight_strategy, false)},
              {"input_activations", int8_args(act_strategy, true)},
              {"output_activations", nullptr}}}}},
          {kOwnKey, own}};
}

std::optional<W8A8Scheme> read_w8a8_scheme(const json& config_json, const std::string& path) {
  const auto found = config_json.find("quantization_config");
  if (found == config_json.end() || found->is_null()) return std::nullopt;
  const json& config = *found;
  if (!config.is_object()) reject(path, "is not an object");
  const std::string method = config.value("quant_method", std::string());
  if (method != "compressed-tensors") reject(path, "has quant_method '" + method + "'");
  const std::string format = config.value("format", std::string());
  if (format != "int-quantized") reject(path, "has format '" + format + "'");
  if (!config.contains("config_groups") || !config["config_groups"].is_object() || config["config_groups"].size() != 1)
    reject(path, "must have exactly one entry in config_groups");
  const auto group = config["config_groups"].begin();
  const std::string where = "group '" + group.key() + "'";

  W8A8Scheme scheme;
  const std::string weight_strategy = read_int8_args(group.value().value("weights", json()), where + " weights", false, path);
  if (weight_strategy == "channel") scheme.weight_quant = WeightQuant::kPerChannel;
  else if (weight_strategy == "tensor") scheme.weight_quant = WeightQuant::kPerTensor;
  else reject(path, where + " weights have strategy '" + weight_strategy + "' (channel or tensor expected)");
  const std::string act_strategy =
      read_int8_args(group.value().value("input_activations", json()), where + " input_activations", true, path);
  if (act_strategy == "token") scheme.act_quant = ActQuant::kPerToken;
  else if (act_strategy == "tensor") scheme.act_quant = ActQuant::kPerTensor;
  else reject(path, where + " input_activations have strategy '" + act_strategy + "' (token or tensor expected)");
  const json targets = group.value().value("targets", json::array());
  if (targets != json::array({"Linear"})) reject(path, where + " targets " + targets.dump() + " (only [\"Linear\"])");

  scheme.ignore = config.value("ignore", std::vector<std::string>{});
  // Without our key (a model quantized elsewhere) nothing beyond compressed-tensors applies.
  const json own = config.value(kOwnKey, json::object());
  scheme.quantize_bmm_input = own.value("quantize_bmm_input", false);
  scheme.provenance = own.value("provenance", json::object());
  return scheme;
}

bool w8a8_quantizes(const W8A8Scheme& scheme, const std::string& module_name) {
  for (const std::string& entry : scheme.ignore) {
    if (entry.rfind("re:", 0) == 0) {
      if (std::regex_match(module_name, std::regex(entry.substr(3)))) return false;
    } else if (entry == module_name) {
      return false;
    }
  }
  return true;
}

Int8LinearOptions w8a8_linear_options(const W8A8Scheme& scheme, const std::string& module_name) {
  auto ends_with = [&](const std::string& suffix) {
    return module_name.size() >= suffix.size() &&
           module_name.compare(module_name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const bool feeds_attention_bmm = ends_with(".q_proj") || ends_with(".k_proj") || ends_with(".v_proj");
  return {scheme.act_quant, scheme.quantize_bmm_input && feeds_attention_bmm};
}

}  // namespace compactmind
