// compactmind_fuzz: a seeded mutation loop over the project's parsers (no coverage instrumentation:
// g++ has no libFuzzer). A corpus entry is kept when its rejection message, digits removed, is new:
// a cheap stand-in for coverage that steers mutations toward checks not yet reached.
//
//   compactmind_fuzz --target NAME [--iterations N] [--seconds S] [--seed K] [--regressions DIR]
//                    [--findings DIR] [--fixtures DIR] [--plugin-dir DIR] [--configs DIR]
//
// First replays every file in --regressions/<target>/ (inputs that once failed), then mutates.
// A finding is a crash (the input is saved by the signal handler), an exception that is not a
// std::exception, or a rejection whose message does not name the file or owner. Exit 1 on findings.
#include "fuzz_targets.h"
#include "mutator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <set>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace compactmind::fuzz;

namespace {

// What the signal handler writes: kept outside the handler so that it only calls write() and _exit().
std::string g_current_input;
std::string g_crash_file;

extern "C" void on_fatal_signal(int signal_number) {
  const int fd = ::open(g_crash_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, g_current_input.data(), g_current_input.size());
    ::close(fd);
  }
  const char note[] = "compactmind_fuzz: fatal signal; input saved\n";
  (void)!::write(2, note, sizeof note - 1);
  _exit(128 + signal_number);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool names_context(const std::string& message, const std::string& context) {
  size_t begin = 0;
  while (begin <= context.size()) {
    const size_t end = std::min(context.find('|', begin), context.size());
    if (message.find(context.substr(begin, end - begin)) != std::string::npos) return true;
    begin = end + 1;
  }
  return false;
}

std::string without_digits(std::string text) {
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }), text.end());
  return text.substr(0, 160);
}

struct Options {
  std::string target;
  uint64_t iterations = 20000;
  double seconds = 0;  // 0 = no time limit
  uint64_t seed = 1;
  fs::path regressions, findings = "fuzz-findings";
  TargetEnvironment environment;
};

Options parse_options(int argc, char** argv) {
  Options options;
  options.environment.fixtures = COMPACTMIND_FIXTURES_DIR;
  options.environment.plugin_dir = COMPACTMIND_BUILD_PLUGIN_DIR;
  options.environment.configs_dir = fs::path(COMPACTMIND_SOURCE_DIR) / "configs";
  options.regressions = fs::path(COMPACTMIND_SOURCE_DIR) / "tests/fuzz/regressions";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("option " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--target") options.target = value;
    else if (flag == "--iterations") options.iterations = std::stoull(value);
    else if (flag == "--seconds") options.seconds = std::stod(value);
    else if (flag == "--seed") options.seed = std::stoull(value);
    else if (flag == "--regressions") options.regressions = value;
    else if (flag == "--findings") options.findings = value;
    else if (flag == "--fixtures") options.environment.fixtures = value;
    else if (flag == "--plugin-dir") options.environment.plugin_dir = value;
    else if (flag == "--configs") options.environment.configs_dir = value;
    else throw std::invalid_argument("unknown option " + flag);
  }
  if (options.target.empty()) throw std::invalid_argument("--target is required");
  return options;
}

class Campaign {
 public:
  Campaign(FuzzTarget target, const Options& options) : target_(std::move(target)), options_(options) {}

  // Returns the number of findings.
  int run() {
    fs::create_directories(options_.findings);
    g_crash_file = (options_.findings / (target_.name + "-crash.bin")).string();
    for (int signal_number : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(signal_number, on_fatal_signal);

    const fs::path regression_dir = options_.regressions / target_.name;
    size_t replayed = 0;
    if (fs::is_directory(regression_dir))
      for (const auto& entry : fs::directory_iterator(regression_dir)) {
        execute(read_file(entry.path()), entry.path().filename().string());
        ++replayed;
      }
    corpus_ = target_.seeds;
    for (const auto& seed : target_.seeds) execute(seed, "seed");

    compactmind::fuzz::Mutator mutator(options_.seed);
    const auto start = std::chrono::steady_clock::now();
    uint64_t executions = 0;
    for (; executions < options_.iterations; ++executions) {
      if (options_.seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > options_.seconds)
        break;
      const std::string input = mutator.mutate(corpus_[mutator.below(corpus_.size())], corpus_);
      if (execute(input, "mutation " + std::to_string(executions)) && corpus_.size() < 4096) corpus_.push_back(input);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "fuzz " << target_.name << ": " << replayed << " regression inputs, " << executions
              << " executions in " << elapsed << " s (" << static_cast<uint64_t>(executions / std::max(elapsed, 1e-9))
              << "/s), corpus " << corpus_.size() << ", " << accepted_ << " accepted, " << messages_.size()
              << " distinct rejections, " << findings_ << " findings of " << finding_kinds_.size()
              << " kinds\n";
    return findings_;
  }

 private:
  // Returns true when the outcome was new (worth keeping in the corpus).
  bool execute(const std::string& input, const std::string& label) {
    g_current_input = input;
    Outcome outcome;
    try {
      outcome = target_.run(input);
    } catch (...) {
      report(input, label, "an exception that is not a std::exception escaped");
      return false;
    }
    if (outcome.accepted) {
      ++accepted_;
      return messages_.insert("<accepted>").second;
    }
    if (!names_context(outcome.message, target_.context))
      report(input, label, "the rejection does not name '" + target_.context + "': " + outcome.message);
    return messages_.insert(without_digits(outcome.message)).second;
  }

  // One saved input and one line per kind of problem (digits removed): a mutation campaign hits the
  // same bug thousands of times.
  void report(const std::string& input, const std::string& label, const std::string& problem) {
    ++findings_;
    if (!finding_kinds_.insert(without_digits(problem)).second) return;
    const fs::path file = options_.findings / (target_.name + "-finding-" + std::to_string(finding_kinds_.size()) + ".bin");
    std::ofstream(file, std::ios::binary) << input;
    std::cout << "FINDING (" << label << ", saved as " << file.string() << "): " << problem << "\n";
  }

  FuzzTarget target_;
  const Options& options_;
  std::vector<std::string> corpus_;
  std::set<std::string> messages_;
  std::set<std::string> finding_kinds_;
  uint64_t accepted_ = 0;
  int findings_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    Options with_scratch = options;
    with_scratch.environment.scratch = fs::temp_directory_path() / ("compactmind-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(with_scratch.environment.scratch);
    int findings = Campaign(make_target(options.target, with_scratch.environment), with_scratch).run();
    fs::remove_all(with_scratch.environment.scratch);
    return findings == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "compactmind_fuzz: " << error.what() << "\n";
    return 2;
  }
}
