// The fixtures' reference/reference.json (transformers' figures for each fixture model), read once.
#pragma once

#include "support/fixtures.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace compactmind::test {

inline nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

inline const nlohmann::json& reference_json() {
  static const nlohmann::json reference = [] {
    std::ifstream in(fixtures_dir() / "reference" / "reference.json");
    return nlohmann::json::parse(in);
  }();
  return reference;
}

}  // namespace compactmind::test
