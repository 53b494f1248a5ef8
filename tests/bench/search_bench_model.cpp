#include "search_bench_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace compactmind::bench {
namespace {

constexpr double kBasePpl = 18.0;

// Pruning damage per removed fraction squared: heads hurt more per byte than MLP channels.
constexpr double kHeadDamage = 6.0, kChannelDamage = 4.0;

double importance_factor(const std::string& importance) {
  if (importance == "random") return 2.0;
  if (importance == "l1") return 1.15;
  if (importance == "l2") return 1.0;
  return 0.85;  // taylor
}

// Aggregation of the per-weight scores into a unit score; mean suits Taylor scores, sum the norms.
double aggregation_factor(const std::string& aggregation, const std::string& importance) {
  if (aggregation == "max") return 1.06;
  if (aggregation == "mean") return importance == "taylor" ? 0.98 : 1.02;
  return 1.0;
}

// Each factor of the retraining recovery is 1 at its optimum (listed in kOptimum), lower elsewhere.
struct RetrainOptimum {
  double log_lr_full = -4.0, log_lr_lora = -3.0, lora_alpha = 24.0, warmup = 0.08, weight_decay = 0.02,
         temperature = 3.0, kd_weight = 0.7;
};
constexpr RetrainOptimum kOptimum;

double max_recovery(const std::string& method, const std::string& mode) {
  if (method == "distill") return mode == "full" ? 0.48 : 0.44;
  return mode == "full" ? 0.42 : 0.40;
}

double recovery(const nlohmann::json& step) {
  const std::string method = step.at("method"), mode = step.at("mode");
  const double log_lr = std::log10(step.at("lr").get<double>());
  const double lr_opt = mode == "full" ? kOptimum.log_lr_full : kOptimum.log_lr_lora;
  double r = max_recovery(method, mode) * std::exp(-std::pow(log_lr - lr_opt, 2) / 4.0);
  r *= 1.0 - std::exp(-step.at("steps").get<double>() / 20.0);
  r *= 1.0 - 0.2 * std::pow(step.at("warmup_ratio").get<double>() - kOptimum.warmup, 2);
  r *= 1.0 - 0.5 * std::pow(step.at("weight_decay").get<double>() - kOptimum.weight_decay, 2);
  if (mode == "lora") {
    r *= 1.0 - 0.1 * std::exp(-step.at("lora_rank").get<double>() / 4.0);
    r *= 1.0 - 0.02 * std::pow((step.at("lora_alpha").get<double>() - kOptimum.lora_alpha) / 40.0, 2);
    const std::string targets = step.at("lora_targets");
    r *= targets == "attention" ? 0.55 : targets == "mlp" ? 0.85 : 1.0;
  }
  if (method == "distill") {
    const double t = (step.at("temperature").get<double>() - kOptimum.temperature) / 2.5;
    r *= 1.0 - 0.1 * (1.0 - std::exp(-t * t));
    r *= 1.0 - 0.2 * std::pow(step.at("kd_weight").get<double>() - kOptimum.kd_weight, 2);
  }
  return r;
}

double best_recovery() {
  double best = 0.0;
  for (const char* method : {"finetune", "distill"})
    for (const char* mode : {"full", "lora"}) {
      nlohmann::json step = {{"method", method}, {"mode", mode}, {"steps", 2000}, {"warmup_ratio", kOptimum.warmup},
                             {"weight_decay", kOptimum.weight_decay}, {"lora_rank", 64},
                             {"lora_alpha", kOptimum.lora_alpha}, {"lora_targets", "all"},
                             {"temperature", kOptimum.temperature}, {"kd_weight", kOptimum.kd_weight}};
      step["lr"] = std::pow(10.0, std::string(mode) == "full" ? kOptimum.log_lr_full : kOptimum.log_lr_lora);
      best = std::max(best, recovery(step));
    }
  return best;
}

constexpr double kBestAlpha = 0.55;
double quantization_damage(double alpha) { return 0.015 + 0.1 * std::pow(alpha - kBestAlpha, 2); }

// llm-pruner's removal_count (unit_selection.cpp): round(ratio·count), never every unit.
int64_t removal_count(double ratio, int64_t count) {
  if (count <= 1) return 0;
  return std::clamp<int64_t>(std::llround(ratio * static_cast<double>(count)), 0, count - 1);
}

int64_t json_int(const nlohmann::json& config, const char* key, const std::string& path) {
  const auto found = config.find(key);
  if (found == config.end() || !found->is_number_integer() || found->get<int64_t>() <= 0)
    throw std::runtime_error(path + ": '" + key + "' must be a positive integer");
  return found->get<int64_t>();
}

}  // namespace

CheckpointShape CheckpointShape::from_config(const std::string& config_path) {
  std::ifstream file(config_path);
  if (!file) throw std::runtime_error(config_path + ": cannot open the checkpoint's config.json");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(config_path + ": not valid JSON (" + error.what() + ")");
  }
  CheckpointShape shape;
  shape.vocab = json_int(config, "vocab_size", config_path);
  shape.hidden = json_int(config, "hidden_size", config_path);
  shape.intermediate = json_int(config, "intermediate_size", config_path);
  shape.layers = json_int(config, "num_hidden_layers", config_path);
  shape.heads = json_int(config, "num_attention_heads", config_path);
  shape.kv_heads = config.contains("num_key_value_heads") ? json_int(config, "num_key_value_heads", config_path)
                                                           : shape.heads;
  shape.head_dim = config.contains("head_dim") ? json_int(config, "head_dim", config_path) : shape.hidden / shape.heads;
  shape.tied_embeddings = config.value("tie_word_embeddings", false);
  const std::string dtype = config.value("dtype", config.value("torch_dtype", "float32"));
  if (dtype == "float16" || dtype == "bfloat16") shape.float_bytes = 2;
  else if (dtype == "float32") shape.float_bytes = 4;
  else throw std::runtime_error(config_path + ": unsupported dtype '" + dtype + "'");
  return shape;
}

CompressionModel::CompressionModel(CheckpointShape shape) : shape_(shape) {
  // pruning_settings.cpp's auto_layer_range: [max(1, round(4·L/32)), min(L − 1, L − round(2·L/32))).
  const int64_t depth = shape_.layers;
  if (depth < 3) {
    prune_layers_ = depth;
  } else {
    const auto scaled = [depth](int64_t of_32) { return std::llround(static_cast<double>(of_32 * depth) / 32.0); };
    prune_layers_ = std::min<int64_t>(depth - 1, depth - scaled(2)) - std::max<int64_t>(1, scaled(4));
  }
}

int64_t CompressionModel::stored_bytes(int64_t heads_removed, int64_t channels_removed, const std::string& target,
                                       bool quantized) const {
  const CheckpointShape& s = shape_;
  const int64_t fb = s.float_bytes;
  int64_t bytes = (s.vocab * s.hidden + (2 * s.layers + 1) * s.hidden) * fb;  // embeddings, norms
  if (!s.tied_embeddings) bytes += s.vocab * s.hidden * fb;                    // lm_head stays float
  // A linear of `rows` outputs and `cols` inputs: float, or int8 plus one fp32 scale per row.
  const auto linear = [&](int64_t rows, int64_t cols) { return quantized ? rows * cols + rows * 4 : rows * cols * fb; };
  for (int64_t layer = 0; layer < s.layers; ++layer) {
    const bool pruned = layer < prune_layers_;  // only the count of pruned layers matters
    const int64_t heads = s.heads - (pruned && target != "mlp" ? heads_removed : 0);
    // Key/value heads shrink with the query heads they serve (equal counts on the fixture).
    const int64_t kv = s.kv_heads * heads / s.heads;
    const int64_t inter = s.intermediate - (pruned && target != "attention" ? channels_removed : 0);
    bytes += linear(heads * s.head_dim, s.hidden) + 2 * linear(kv * s.head_dim, s.hidden) +
             linear(s.hidden, heads * s.head_dim);
    bytes += 2 * linear(inter, s.hidden) + linear(s.hidden, inter);
  }
  return bytes;
}

int64_t CompressionModel::base_bytes() const { return stored_bytes(0, 0, "both", false); }

ModelScore CompressionModel::evaluate(const nlohmann::json& pipeline) const {
  double damage = 0.0, quant = 0.0;
  int64_t heads_removed = 0, channels_removed = 0;
  std::string target = "both";
  bool quantized = false;
  for (const auto& step : pipeline) {
    const std::string method = step.at("method");
    if (method == "llm-pruner") {
      const double ratio = step.at("ratio");
      target = step.at("target");
      heads_removed = target == "mlp" ? 0 : removal_count(ratio, shape_.heads);
      channels_removed = target == "attention" ? 0 : removal_count(ratio, shape_.intermediate);
      const double hf = static_cast<double>(heads_removed) / static_cast<double>(shape_.heads);
      const double cf = static_cast<double>(channels_removed) / static_cast<double>(shape_.intermediate);
      const std::string importance = step.at("importance");
      damage += importance_factor(importance) * aggregation_factor(step.at("aggregation"), importance) *
                (kHeadDamage * hf * hf + kChannelDamage * cf * cf);
    } else if (method == "finetune" || method == "distill") {
      damage *= 1.0 - recovery(step);
    } else if (method == "smoothquant") {
      quant += quantization_damage(step.at("alpha"));
      quantized = true;
    } else {
      throw std::invalid_argument("search benchmark model: no model of method '" + method + "'");
    }
  }
  return {kBasePpl * std::exp(damage + quant),
          static_cast<double>(stored_bytes(heads_removed, channels_removed, target, quantized)) /
              static_cast<double>(base_bytes())};
}

double CompressionModel::best_feasible_ppl(double target) const {
  const double base = static_cast<double>(base_bytes());
  double best = std::numeric_limits<double>::infinity();
  if (stored_bytes(0, 0, "both", true) <= target * base) best = kBasePpl * std::exp(quantization_damage(kBestAlpha));
  const double best_recovered = 1.0 - best_recovery();
  for (const char* importance : {"l2", "l1", "taylor", "random"})
    for (const char* aggregation : {"sum", "mean", "max"})
      for (const char* prune_target : {"attention", "mlp", "both"})
        for (const bool hybrid : {false, true}) {
          // Damage and size are monotone in the ratio: the least ratio that fits is the best one.
          for (int64_t i = 0; i <= 6000; ++i) {  // ratio steps of 1e-4, finer than a channel (1/768)
            const nlohmann::json step = {{"method", "llm-pruner"}, {"ratio", 0.6 * static_cast<double>(i) / 6000.0},
                                         {"importance", importance}, {"aggregation", aggregation},
                                         {"target", prune_target}};
            nlohmann::json pipeline = nlohmann::json::array({step});
            if (hybrid) pipeline.push_back({{"method", "smoothquant"}, {"alpha", kBestAlpha}});
            const ModelScore score = evaluate(pipeline);
            if (score.size_ratio > target) continue;
            const double damage = std::log(score.ppl / kBasePpl) - (hybrid ? quantization_damage(kBestAlpha) : 0.0);
            const double ppl = hybrid ? kBasePpl * std::exp(damage * best_recovered + quantization_damage(kBestAlpha))
                                      : score.ppl;
            best = std::min(best, ppl);
            break;
          }
        }
  return best;
}

}  // namespace compactmind::bench
