// A flat conditional search space: an ordered list of dimensions, each active only when earlier
// dimensions took given values (define-by-run, as Optuna's `trial.suggest_*` inside `if`s). A point
// is a JSON object holding exactly the active dimensions. Samplers walk the dimensions in order, so
// a dimension's condition only ever names dimensions before it.
#pragma once

#include "compactmind/contract/parameter_space.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace compactmind::search {

// A conjunction: every named earlier dimension is present in the point with the given value.
using ActivationClause = std::vector<std::pair<std::string, nlohmann::json>>;

struct Dimension {
  std::string name;
  ParameterSpec spec;  // type, bounds, log, step, choices, default (spec.name is the plugin's own name)
  // Active when any clause holds (a disjunction); empty means always active.
  std::vector<ActivationClause> active_when;
};

class SearchSpace {
 public:
  // Throws std::invalid_argument on a duplicate name or a clause naming a later/unknown dimension.
  void add(Dimension dimension);
  const std::vector<Dimension>& dimensions() const { return dimensions_; }
  const Dimension* find(const std::string& name) const;
  bool empty() const { return dimensions_.empty(); }

  // Whether `dimension` applies given the values sampled so far.
  static bool is_active(const Dimension& dimension, const nlohmann::json& point);
  // Checks a complete point: every active dimension present with a legal value, nothing else.
  // Throws std::invalid_argument naming the dimension.
  void validate(const nlohmann::json& point) const;

  nlohmann::json to_json() const;
  // 16 hex digits (FNV-1a 64 of the canonical JSON): two studies over different spaces never mix.
  std::string fingerprint() const;

  // The tunable parameters of one method's declared space, conditions kept (tests, single methods).
  static SearchSpace from_parameter_space(const ParameterSpace& space, const std::string& prefix = "");

 private:
  std::vector<Dimension> dimensions_;
};

// Whether `value` is a legal value of `spec` (type, bounds, step grid, choices).
bool value_fits(const ParameterSpec& spec, const nlohmann::json& value);
nlohmann::json spec_to_json(const ParameterSpec& spec);

}  // namespace compactmind::search
