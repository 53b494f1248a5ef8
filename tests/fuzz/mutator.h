// Structure-aware byte mutations for the parser fuzzer: generic byte edits (bit flips, boundary
// bytes, cuts, duplications, crossover with another corpus entry) plus JSON-token edits (a number or
// a string replaced by a hostile value), because every parser fuzzed here reads JSON and random
// bytes alone rarely get past the first syntax check.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace compactmind::fuzz {

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // 1 to 4 stacked mutations of `input`; `corpus` supplies crossover partners.
  std::string mutate(const std::string& input, const std::vector<std::string>& corpus);

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  void mutate_once(std::string& data, const std::vector<std::string>& corpus);
  void replace_json_number(std::string& data);
  void replace_json_string(std::string& data);

  std::mt19937_64 rng_;
};

}  // namespace compactmind::fuzz
