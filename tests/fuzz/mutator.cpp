#include "mutator.h"

#include <array>
#include <cctype>

namespace compactmind::fuzz {
namespace {

// Values that sit on the edges parsers get wrong: zero, negatives, int64/uint64 overflow, a double
// that overflows to infinity, huge dimensions, fractions where integers are expected.
constexpr std::array<const char*, 14> kHostileNumbers = {
    "0", "-1", "1", "1e400", "-1e400", "18446744073709551616", "9223372036854775807",
    "-9223372036854775808", "1000000000", "4294967296", "0.5", "1e-320", "2147483648", "65536"};
constexpr std::array<const char*, 10> kHostileStrings = {
    "\"\"", "\"F16\"", "\"BF16\"", "\"U8\"", "\"llama3\"", "null", "[]", "{}", "true", "\"\\u0000\""};
constexpr std::array<unsigned char, 12> kBoundaryBytes = {0x00, 0xff, 0x7f, 0x80, '"', '{', '}', '[',
                                                          ']', ',', ':', '9'};

}  // namespace

std::string Mutator::mutate(const std::string& input, const std::vector<std::string>& corpus) {
  std::string data = input;
  const size_t count = 1 + below(4);
  for (size_t i = 0; i < count; ++i) mutate_once(data, corpus);
  return data;
}

void Mutator::mutate_once(std::string& data, const std::vector<std::string>& corpus) {
  switch (below(9)) {
    case 0:  // flip one bit
      if (!data.empty()) data[below(data.size())] ^= static_cast<char>(1u << below(8));
      break;
    case 1:  // a boundary byte
      if (!data.empty()) data[below(data.size())] = static_cast<char>(kBoundaryBytes[below(kBoundaryBytes.size())]);
      break;
    case 2: {  // cut a short range
      if (data.empty()) break;
      const size_t at = below(data.size());
      data.erase(at, 1 + below(8));
      break;
    }
    case 3: {  // duplicate a short range
      if (data.empty()) break;
      const size_t at = below(data.size());
      data.insert(below(data.size() + 1), data.substr(at, 1 + below(16)));
      break;
    }
    case 4:
      replace_json_number(data);
      break;
    case 5:
      replace_json_string(data);
      break;
    case 6: {  // crossover: our head, another entry's tail
      if (corpus.empty()) break;
      const std::string& other = corpus[below(corpus.size())];
      data = data.substr(0, below(data.size() + 1)) + other.substr(below(other.size() + 1));
      break;
    }
    case 7:  // truncate
      data.resize(below(data.size() + 1));
      break;
    default:  // a random byte
      if (!data.empty()) data[below(data.size())] = static_cast<char>(below(256));
      break;
  }
}

// Picks a random digit run (with its sign) and replaces it by a hostile number.
void Mutator::replace_json_number(std::string& data) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < data.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(data[i]));
    const bool starts_run = i == 0 || !(std::isdigit(static_cast<unsigned char>(data[i - 1])) || data[i - 1] == '-' ||
                                        data[i - 1] == '.');
    if ((digit || data[i] == '-') && starts_run) starts.push_back(i);
  }
  if (starts.empty()) return;
  const size_t begin = starts[below(starts.size())];
  size_t end = begin + 1;
  while (end < data.size() && (std::isdigit(static_cast<unsigned char>(data[end])) || data[end] == '.' ||
                               data[end] == 'e' || data[end] == 'E' || data[end] == '-' || data[end] == '+'))
    ++end;
  data.replace(begin, end - begin, kHostileNumbers[below(kHostileNumbers.size())]);
}

// Picks a random "..." string (no escapes inside) and replaces it by a hostile value.
void Mutator::replace_json_string(std::string& data) {
  std::vector<std::pair<size_t, size_t>> strings;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '"') continue;
    const size_t close = data.find('"', i + 1);
    if (close == std::string::npos) break;
    strings.emplace_back(i, close + 1);
    i = close;
  }
  if (strings.empty()) return;
  const auto [begin, end] = strings[below(strings.size())];
  data.replace(begin, end - begin, kHostileStrings[below(kHostileStrings.size())]);
}

}  // namespace compactmind::fuzz
