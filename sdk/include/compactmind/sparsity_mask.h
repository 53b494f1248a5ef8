// Which weights a one-shot pruning method zeroes, given a per-weight importance metric (|W| for
// magnitude pruning, |W|·‖X_j‖ for Wanda), in the three patterns of Wanda's reference code
// (locuslab/wanda, lib/prune.py): unstructured, per layer or per output row, and N:M (n of every m
// consecutive input weights of a row).
#pragma once

#include "compactmind/param_space.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace compactmind {

struct SparsityPattern {
  int64_t n = 0;  // weights pruned in each block of m (N:M); 0 with m = 0: unstructured
  int64_t m = 0;
  bool structured() const { return m > 0; }
  double sparsity() const { return structured() ? double(n) / double(m) : 0.0; }
};

// "unstructured", "2:4" or "4:8"; throws std::invalid_argument naming the text.
SparsityPattern parse_sparsity_pattern(const std::string& text);

// The parameters every one-shot pruning method declares the same way (magnitude, wanda, ...):
// pattern {unstructured, 2:4, 4:8} and sparsity (0 to 0.9, default 0.5; only for unstructured:
// an N:M pattern implies its own).
void declare_sparsity_space(SpaceBuilder& space);
struct SparsityChoice {
  SparsityPattern pattern;
  double sparsity = 0.0;
};
SparsityChoice sparsity_choice_from(const Params& params);

enum class UnstructuredScope {
  kLayer,  // the smallest metrics of the whole matrix (Wanda's prune_magnitude: metric <= the
           // value at index ⌊numel·sparsity⌋ of the sorted metrics, so ties at it are pruned too)
  kRow,    // the ⌊in·sparsity⌋ smallest of each output row (Wanda's prune_wanda, stable sort)
};

// Throws naming `where` unless a layer of `in_features` inputs can take `pattern` (N:M: in % m == 0).
void check_pattern_fits(const SparsityPattern& pattern, int64_t in_features, const std::string& where);

// Mask [out, in] bool, true where the weight is pruned, of `metric` [out, in]. N:M needs in % m == 0
// (throws naming `where` otherwise); `sparsity` applies to unstructured patterns only.
at::Tensor pruning_mask(const at::Tensor& metric, const SparsityPattern& pattern, double sparsity,
                        UnstructuredScope scope, const std::string& where);

}  // namespace compactmind
