#include "fixtures.h"

#include <cstdlib>

namespace compactmind::test {
namespace fs = std::filesystem;

fs::path fixtures_dir() {
  if (const char* dir = std::getenv("COMPACTMIND_FIXTURES"); dir != nullptr && *dir != '\0') return dir;
  return COMPACTMIND_FIXTURES_DIR;
}

fs::path model_dir(const std::string& name) { return fixtures_dir() / "models" / name; }

fs::path wikitext(const std::string& file) { return fixtures_dir() / "data" / "wikitext-2" / file; }

}  // namespace compactmind::test
