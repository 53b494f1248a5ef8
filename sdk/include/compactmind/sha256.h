// SHA-256 (FIPS 180-4), small and dependency-free: evaluation records identify data files and token
// streams by it, so that two scores are only compared when they were computed on the same input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace compactmind {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  // Lowercase hex digest; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const void* data, std::size_t size);

}  // namespace compactmind
