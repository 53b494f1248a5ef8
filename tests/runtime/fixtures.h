// Where the runtime tests find ../shared/fixtures ($COMPACTMIND_FIXTURES first) and its reference.json.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace compactmind::test {

inline std::filesystem::path fixtures_dir() {
  const char* from_environment = std::getenv("COMPACTMIND_FIXTURES");
  return from_environment != nullptr ? std::filesystem::path(from_environment)
                                     : std::filesystem::path(COMPACTMIND_FIXTURES_DIR);
}

inline std::filesystem::path model_dir(const std::string& name) { return fixtures_dir() / "models" / name; }
inline std::filesystem::path test_text() { return fixtures_dir() / "data" / "wikitext-2" / "test.txt"; }

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
