// The built-in "pack-quantized" linear format (packed_linear.h) and its quantization_config, in the
// fields compressed-tensors writes for a W<bits>A16 preset (QuantizationArgs; docs/model-format.md
// documents each one).
#include "compactmind/linear_format.h"
#include "compactmind/packed_linear.h"

#include "builtin_linear_formats.h"

#include <stdexcept>

namespace compactmind {
namespace {

using nlohmann::json;

[[noreturn]] void reject(const std::string& path, const std::string& what) {
  throw std::runtime_error("'" + path + "': pack-quantized quantization_config " + what +
                           "; CompactMind executes weight-only int schemes (2, 3, 4 or 8 bits, per group or per "
                           "channel, static, no activation quantization)");
}

class PackQuantizedFormat final : public LinearFormat {
 public:
  std::string name() const override { return "pack-quantized"; }

  std::unique_ptr<Linear> load(const LinearLoadRequest& request) const override {
    const PackedScheme scheme = read_pack_quantized_scheme(request.quantization_config, request.config_path);
    if (!request.options.device.is_cpu())
      throw std::runtime_error("'" + request.module_name + "' is a pack-quantized linear, which runs on the CPU only; "
                               "load this model on the CPU");
    const std::string& module = request.module_name;
    const int64_t out = request.out_features, in = request.in_features;
    const int64_t groups = scheme.groups(in, "'" + request.config_path + "': '" + module + "'");
    const int64_t per_word = 32 / scheme.bits;
    const std::string packed_name = module + ".weight_packed";
    check_linear_tensor(request, packed_name, {out, (in + per_word - 1) / per_word},
                        request.why + "; " + std::to_string(per_word) + " levels per int32");
    check_linear_tensor(request, module + ".weight_scale", {out, groups},
                        std::to_string(groups) + " group(s) of the input features");
    const std::string shape_name = module + ".weight_shape";
    check_linear_tensor(request, shape_name, {2}, "the unpacked [out, in] shape");
    const at::Tensor stored_shape = request.checkpoint.load(shape_name, at::kLong);
    if (stored_shape[0].item<int64_t>() != out || stored_shape[1].item<int64_t>() != in)
      throw std::runtime_error("tensor '" + shape_name + "' in '" + request.checkpoint.info(shape_name).file.string() +
                               "' says [" + std::to_string(stored_shape[0].item<int64_t>()) + "," +
                               std::to_string(stored_shape[1].item<int64_t>()) + "], but config.json implies [" +
                               std::to_string(out) + "," + std::to_string(in) + "] (" + request.why + ")");
    at::Tensor zero_point;
    if (!scheme.symmetric) {
      const std::string zero_name = module + ".weight_zero_point";
      check_linear_tensor(request, zero_name, {(out + per_word - 1) / per_word, groups},
                          "asymmetric zero points packed along the output features");
      zero_point = request.checkpoint.load(zero_name, at::kInt);
    }
    for (const std::string& name : {packed_name, module + ".weight_zero_point"}) {
      if (name != packed_name && scheme.symmetric) continue;
      const auto& info = request.checkpoint.info(name);
      if (info.dtype != at::kInt)
        throw std::runtime_error("tensor '" + name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                                 ", but pack-quantized stores it as I32");
    }
    return PackedLinear::from_stored(request.checkpoint.load(packed_name, at::kInt),
                                     request.checkpoint.load(module + ".weight_scale", at::kFloat), zero_point, out, in,
                                     scheme, module);
  }
};

}  // namespace

json pack_quantized_config(const PackedScheme& scheme, const json& actorder, const std::string& provider,
                           const json& provenance) {
  const bool per_channel = scheme.group_size == -1;
  // The QuantizationArgs fields compressed-tensors serialises; unset ones null as it writes them.
  const json weights = {{"num_bits", scheme.bits},
                        {"type", "int"},
                        {"symmetric", scheme.symmetric},
                        {"dynamic", false},
                        {"strategy", per_channel ? "channel" : "group"},
                        {"group_size", per_channel ? json(nullptr) : json(scheme.group_size)},
                        {"block_structure", nullptr},
                        {"actorder", actorder},
                        {"observer", "minmax"},
                        {"observer_kwargs", json::object()}};
  json config = {{"quant_method", "compressed-tensors"},
                 {"format", "pack-quantized"},
                 {"quantization_status", "compressed"},
                 {"kv_cache_scheme", nullptr},
                 {"ignore", {"lm_head"}},
                 {"config_groups",
                  {{"group_0",
                    {{"targets", {"Linear"}},
                     {"weights", weights},
                     {"input_activations", nullptr},
                     {"output_activations", nullptr}}}}}};
  record_format_provider(config, provider);
  if (!provenance.empty()) config[kQuantizationConfigOwnKey]["provenance"] = provenance;
  return config;
}

PackedScheme read_pack_quantized_scheme(const json& config, const std::string& path) {
  if (config.value("format", std::string()) != "pack-quantized") reject(path, "is not pack-quantized");
  if (!config.contains("config_groups") || !config["config_groups"].is_object() || config["config_groups"].size() != 1)
    reject(path, "must have exactly one entry in config_groups");
  const auto group = config["config_groups"].begin();
  const std::string where = "group '" + group.key() + "'";
  const json& body = group.value();
  if (body.value("targets", json::array()) != json::array({"Linear"})) reject(path, where + " must target [\"Linear\"]");
  if (!body.value("input_activations", json()).is_null()) reject(path, where + " quantizes input activations");
  const json weights = body.value("weights", json());
  if (!weights.is_object()) reject(path, where + " has no weights");
  if (weights.value("type", std::string()) != "int") reject(path, where + " weights are not of type int");
  if (weights.value("dynamic", false)) reject(path, where + " weights are dynamic");
  PackedScheme scheme;
  scheme.bits = weights.value("num_bits", 0);
  if (scheme.bits != 2 && scheme.bits != 3 && scheme.bits != 4 && scheme.bits != 8)
    reject(path, where + " weights have num_bits " + weights.value("num_bits", json()).dump());
  scheme.symmetric = weights.value("symmetric", true);
  const std::string strategy = weights.value("strategy", std::string());
  if (strategy == "channel") {
    scheme.group_size = -1;
  } else if (strategy == "group") {
    const json size = weights.value("group_size", json());
    if (!size.is_number_integer() || size.get<int64_t>() < 1) reject(path, where + " has group_size " + size.dump());
    scheme.group_size = size.get<int64_t>();
  } else {
    reject(path, where + " weights have strategy '" + strategy + "' (group or channel expected)");
  }
  // "group" activation order would need g_idx (a per-column group index): not read here.
  const json actorder = weights.value("actorder", json());
  if (!actorder.is_null() && actorder != "weight") reject(path, where + " has actorder " + actorder.dump());
  return scheme;
}

namespace detail {
std::shared_ptr<const LinearFormat> make_pack_quantized_format() { return std::make_shared<PackQuantizedFormat>(); }
}  // namespace detail

}  // namespace compactmind
