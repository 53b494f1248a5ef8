// Shared by the tests of crafted, careless or hostile input (issue 13): environment variables set for
// one host run, tiny random checkpoints written through the CLI, and file contents and folder listings
// to compare before and after.
#pragma once

#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace compactmind::test {

// Sets an environment variable for the lifetime of the object (the host runs inherit it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Every entry name in `dir` (hidden ones included), sorted.
inline std::set<std::string> listing(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

// `arguments` with `option`'s value replaced (CLI11 refuses an option given twice), or appended.
inline std::vector<std::string> with_option(std::vector<std::string> arguments, const std::string& option,
                                            const std::string& value) {
  for (size_t i = 0; i + 1 < arguments.size(); ++i)
    if (arguments[i] == option) {
      arguments[i + 1] = value;
      return arguments;
    }
  arguments.insert(arguments.end(), {option, value});
  return arguments;
}

// A few-kilobyte LLaMA shape: random checkpoints of it are written in milliseconds.
inline std::filesystem::path tiny_shape(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "tiny-shape.json";
  write_text(path, R"({"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8})");
  return path;
}

// `compactmind tools random-model` of tiny_shape(); `extra` appends options (--overwrite, --tokenizer-from).
inline CommandResult write_random_model(const std::filesystem::path& out, int seed, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> arguments = {"tools", "random-model", "--shape", tiny_shape(out.parent_path()).string(),
                                        "--out", out.string(), "--seed", std::to_string(seed), "--threads", "1"};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return run_host(arguments);
}

// A random model the fixtures' tokenizer (4096 pieces) can drive: `compactmind run` and `search` work on it.
inline CommandResult write_evaluable_model(const std::filesystem::path& out, int seed, const std::vector<std::string>& extra = {}) {
  const std::filesystem::path shape = out.parent_path() / "evaluable-shape.json";
  write_text(shape, R"({"vocab_size": 4096, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                        "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8})");
  std::vector<std::string> arguments = {"tools", "random-model", "--shape", shape.string(), "--out", out.string(),
                                        "--seed", std::to_string(seed), "--threads", "1", "--tokenizer-from",
                                        tiny_llama2().string()};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return run_host(arguments);
}

// Starts COMPACTMIND_HOST_BIN in the background, stdout and stderr to `log`; returns its pid.
inline pid_t spawn_host(const std::vector<std::string>& arguments, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    std::string binary = COMPACTMIND_HOST_BIN;
    std::vector<std::string> copies = arguments;
    std::vector<char*> argv = {binary.data()};
    for (auto& argument : copies) argv.push_back(argument.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits (up to `limit`) until `log` contains `text`; false if it never does.
inline bool wait_for_log(const std::filesystem::path& log, const std::string& text,
                         std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (file_bytes(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace compactmind::test
