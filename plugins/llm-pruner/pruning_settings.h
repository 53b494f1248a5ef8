// LLM-Pruner's settings as the plugin's declared space gives them, and their validation against the
// model in hand (ratio bounds, the block range [layer_start, layer_end) resolved against its depth).
#pragma once

#include <cstdint>
#include <string>

namespace compactmind::llm_pruner {

// How a group's importance is estimated (Ma et al. 2023, §3.2; hf_prune.py's --pruner_type).
enum class Criterion { kL2, kL1, kTaylor, kRandom };
// Which structures of a block are pruned.
enum class Target { kAttention, kMlp, kBoth };
// How the per-linear importances of one group are combined (hf_prune.py's --grouping_strategy).
enum class Aggregation { kSum, kMean, kMax };

// Bounds of the declared `ratio`; above 0.6 LLM-Pruner's own tables show the model collapsing.
inline constexpr double kMinRatio = 0.0;
inline constexpr double kMaxRatio = 0.6;
// `layer_start` / `layer_end` sentinel: derive the block range from the model's depth.
inline constexpr int64_t kAutoLayer = -1;

struct PruneSettings {
  double ratio = 0.25;  // LLM-Pruner's recipe: 0.25 in layers [4, 30) of LLaMA-7B ≈ 20% of parameters
  Criterion criterion = Criterion::kTaylor;
  Target target = Target::kBoth;
  int64_t layer_start = kAutoLayer;
  int64_t layer_end = kAutoLayer;
  Aggregation aggregation = Aggregation::kSum;
  uint64_t seed = 0;  // only for Criterion::kRandom
};

// Decoder layers [start, end) whose blocks are pruned.
struct LayerRange {
  int64_t start = 0;
  int64_t end = 0;
  int64_t size() const { return end - start; }
};

Criterion parse_criterion(const std::string& name);
Target parse_target(const std::string& name);
Aggregation parse_aggregation(const std::string& name);
std::string to_string(Criterion criterion);
std::string to_string(Target target);
std::string to_string(Aggregation aggregation);

// LLM-Pruner prunes layers [4, 30) of LLaMA-7B's 32: the first blocks and the last ones are the most
// sensitive (paper Fig. 3). Scaled to `depth`: start = round(4/32·depth), end = depth − round(2/32·depth),
// always leaving at least the first and the last layer intact when depth ≥ 3 (depth < 3: every layer).
LayerRange auto_layer_range(int64_t depth);

// Resolves the -1 sentinels and checks 0 ≤ start < end ≤ depth and kMinRatio ≤ ratio ≤ kMaxRatio;
// throws std::invalid_argument naming the parameter, its value and the model's depth.
LayerRange resolve_layer_range(const PruneSettings& settings, int64_t depth);
void validate_ratio(double ratio);

}  // namespace compactmind::llm_pruner
