#include "llm_pruner.h"

#include "dependency_groups.h"
#include "importance.h"
#include "structural_slicing.h"
#include "taylor_gradients.h"
#include "unit_selection.h"

#include "compactmind/log.h"

#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace compactmind::llm_pruner {

namespace {

const std::vector<std::string> kAttentionModules = {"q_proj", "k_proj", "v_proj", "o_proj"};
const std::vector<std::string> kMlpModules = {"gate_proj", "up_proj", "down_proj"};

bool prunes_attention(Target target) { return target != Target::kMlp; }
bool prunes_mlp(Target target) { return target != Target::kAttention; }

Linear& module_linear(DecoderLayer& layer, const std::string& module) {
  if (module == "q_proj") return *layer.q_proj;
  if (module == "k_proj") return *layer.k_proj;
  if (module == "v_proj") return *layer.v_proj;
  if (module == "o_proj") return *layer.o_proj;
  if (module == "gate_proj") return *layer.gate_proj;
  if (module == "up_proj") return *layer.up_proj;
  return *layer.down_proj;
}

// The modules the settings prune in one layer, attention first.
std::vector<std::string> pruned_modules(Target target) {
  std::vector<std::string> modules;
  if (prunes_attention(target)) modules.insert(modules.end(), kAttentionModules.begin(), kAttentionModules.end());
  if (prunes_mlp(target)) modules.insert(modules.end(), kMlpModules.begin(), kMlpModules.end());
  return modules;
}

// Structured pruning slices float weights; a quantized layer has none to slice.
void require_dense(DecoderLayer& layer, int64_t layer_index, const std::vector<std::string>& modules) {
  for (const std::string& module : modules) {
    const Linear& linear = module_linear(layer, module);
    if (linear.kind() != "dense") {
      throw std::invalid_argument("llm-pruner: " + linear_name(layer_index, module) + " is a '" +
                                  linear.kind() +
                                  "' linear; structured pruning needs dense float weights — prune "
                                  "before quantizing (pipeline order prune → retrain → quantize)");
    }
  }
}

at::Tensor dense_weight(DecoderLayer& layer, int64_t layer_index, const std::string& module) {
  return as_dense(module_linear(layer, module), linear_name(layer_index, module)).weight;
}

void require_finite(const at::Tensor& importance, int64_t layer_index, const char* what) {
  if (!at::isfinite(importance).all().item<bool>()) {
    throw std::runtime_error("llm-pruner: " + std::string(what) + " importance of model.layers." +
                             std::to_string(layer_index) + " is not finite (NaN/Inf weights or gradients)");
  }
}

}  // namespace

int64_t PruneReport::removed_parameters() const {
  int64_t total = 0;
  for (const LayerPruning& layer : layers) total += layer.removed_parameters;
  return total;
}

PruneReport prune_model(LlamaModel& model, const PruneSettings& settings,
                        const at::Tensor& calibration_windows) {
  validate_ratio(settings.ratio);
  const auto depth = static_cast<int64_t>(model.layers.size());
  PruneReport report;
  report.range = resolve_layer_range(settings, depth);
  const int64_t hidden = model.config.hidden_size;
  const int64_t head_dim = model.config.head_dim;
  const std::vector<std::string> modules = pruned_modules(settings.target);

  // Validate every layer of the range before touching any.
  if (static_cast<int64_t>(model.config.layers.size()) != depth) {
    throw std::invalid_argument("llm-pruner: the model has " + std::to_string(depth) +
                                " decoder layers but its config describes " +
                                std::to_string(model.config.layers.size()));
  }
  std::vector<AttentionGeometry> geometries;
  for (int64_t index = report.range.start; index < report.range.end; ++index) {
    DecoderLayer& layer = model.layers[index];
    require_dense(layer, index, modules);
    geometries.push_back(attention_geometry(layer, head_dim, hidden, index));
    mlp_width(layer, hidden, index);
  }

  // Taylor: one gradient pass over the unpruned model for every pruned weight (as LLM-Pruner does
  // before its single pruning step); each layer's gradients are dropped once the layer is pruned.
  std::vector<at::Tensor> gradients;
  if (settings.criterion == Criterion::kTaylor) {
    if (!calibration_windows.defined() || calibration_windows.numel() == 0) {
      throw std::invalid_argument(
          "llm-pruner: importance=taylor needs calibration data (the context has no calibration "
          "windows); use importance=l2, l1 or random, or give the host calibration text");
    }
    std::vector<at::Tensor> weights;
    for (int64_t index = report.range.start; index < report.range.end; ++index) {
      for (const std::string& module : modules) weights.push_back(dense_weight(model.layers[index], index, module));
    }
    gradients = causal_lm_gradients(model, weights, calibration_windows);
  }
  std::mt19937_64 generator(settings.seed);

  for (int64_t index = report.range.start; index < report.range.end; ++index) {
    DecoderLayer& layer = model.layers[index];
    const AttentionGeometry& geometry = geometries[index - report.range.start];
    const size_t gradient_offset = (index - report.range.start) * modules.size();
    // Salience of `module`, whose position in `modules` gives its gradient.
    const auto salience = [&](const std::string& module) {
      size_t position = 0;
      while (modules[position] != module) ++position;
      const at::Tensor weight = dense_weight(layer, index, module).detach();
      const at::Tensor grad = gradients.empty() ? at::Tensor() : gradients[gradient_offset + position];
      return element_salience(weight, grad, settings.criterion);
    };

    LayerPruning pruning;
    pruning.layer = index;
    pruning.before = layer.shape;
    if (prunes_attention(settings.target)) {
      const at::Tensor importance =
          settings.criterion == Criterion::kRandom
              ? random_importance(geometry.kv_heads, generator)
              : attention_group_importance({salience("q_proj"), salience("k_proj"), salience("v_proj"),
                                            salience("o_proj")},
                                           geometry, settings.aggregation);
      require_finite(importance, index, "attention");
      pruning.removed_groups =
          lowest_importance(importance, removal_count(settings.ratio, geometry.kv_heads));
      keep_attention_groups(layer, geometry, complement(geometry.kv_heads, pruning.removed_groups), index);
      pruning.removed_parameters +=
          static_cast<int64_t>(pruning.removed_groups.size()) * geometry.parameters_per_group();
    }
    if (prunes_mlp(settings.target)) {
      const int64_t width = layer.shape.intermediate_size;
      const at::Tensor importance =
          settings.criterion == Criterion::kRandom
              ? random_importance(width, generator)
              : mlp_channel_importance({salience("gate_proj"), salience("up_proj"), salience("down_proj")},
                                       settings.aggregation);
      require_finite(importance, index, "MLP");
      pruning.removed_channels = lowest_importance(importance, removal_count(settings.ratio, width));
      keep_mlp_channels(layer, complement(width, pruning.removed_channels), index);
      pruning.removed_parameters +=
          static_cast<int64_t>(pruning.removed_channels.size()) * parameters_per_mlp_channel(hidden);
    }
    for (size_t position = 0; position < modules.size() && !gradients.empty(); ++position) {
      gradients[gradient_offset + position] = at::Tensor();
    }
    pruning.after = layer.shape;
    model.config.layers[index] = layer.shape;
    report.layers.push_back(std::move(pruning));
  }

  std::ostringstream summary;
  int64_t groups = 0;
  int64_t channels = 0;
  for (const LayerPruning& layer : report.layers) {
    groups += static_cast<int64_t>(layer.removed_groups.size());
    channels += static_cast<int64_t>(layer.removed_channels.size());
  }
  summary << "llm-pruner: importance=" << to_string(settings.criterion) << " target="
          << to_string(settings.target) << " ratio=" << settings.ratio << " aggregation="
          << to_string(settings.aggregation) << " layers [" << report.range.start << ", "
          << report.range.end << ") of " << depth << ": removed " << groups << " key/value groups, "
          << channels << " MLP channels, " << report.removed_parameters() << " parameters";
  log_info(summary.str());
  return report;
}

}  // namespace compactmind::llm_pruner
