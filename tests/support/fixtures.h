// Where every test finds ../shared/fixtures: $COMPACTMIND_FIXTURES when set and non-empty, else the
// folder the build was configured with (COMPACTMIND_FIXTURES, tests/CMakeLists.txt). Read in place,
// never copied.
#pragma once

#include <filesystem>
#include <string>

namespace compactmind::test {

std::filesystem::path fixtures_dir();
std::filesystem::path model_dir(const std::string& name);   // fixtures_dir()/models/<name>
std::filesystem::path wikitext(const std::string& file);    // fixtures_dir()/data/wikitext-2/<file>

}  // namespace compactmind::test
