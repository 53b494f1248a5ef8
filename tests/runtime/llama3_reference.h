// The reduced references of models/tiny-llama3 (reference/tiny-llama3.logits.safetensors): ids stored
// as I64, which the SDK's safetensors reader (weights only: F32/F16/BF16/I8/I32) does not read, so this
// test-only reader takes the F32 and I64 tensors of the file itself.
#pragma once

#include "fixtures.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>

namespace compactmind::test {

class Llama3Reference {
 public:
  Llama3Reference() {
    const auto path = fixtures_dir() / "reference" / "tiny-llama3.logits.safetensors";
    std::ifstream in(path, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (bytes_.size() < 8) throw std::runtime_error("cannot read '" + path.string() + "'");
    uint64_t header_size = 0;
    std::memcpy(&header_size, bytes_.data(), 8);  // little-endian, as this machine
    header_ = nlohmann::json::parse(bytes_.substr(8, header_size));
    data_offset_ = 8 + header_size;
  }

  // The tensor `name` as float32 or int64 (as stored), copied out of the file.
  at::Tensor operator[](const std::string& name) const {
    const nlohmann::json& entry = header_.at(name);
    const std::string dtype = entry.at("dtype").get<std::string>();
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto offsets = entry.at("data_offsets").get<std::vector<size_t>>();
    if (dtype != "F32" && dtype != "I64") throw std::runtime_error("reference tensor '" + name + "' is " + dtype);
    at::Tensor tensor = at::empty(shape, dtype == "F32" ? at::kFloat : at::kLong);
    if (size_t(tensor.nbytes()) != offsets[1] - offsets[0])
      throw std::runtime_error("reference tensor '" + name + "': shape and byte range disagree");
    std::memcpy(tensor.data_ptr(), bytes_.data() + data_offset_ + offsets[0], tensor.nbytes());
    return tensor;
  }

 private:
  std::string bytes_;
  nlohmann::json header_;
  size_t data_offset_ = 0;
};

}  // namespace compactmind::test
