// Safetensors dtype names ↔ LibTorch scalar types (internal to the SDK: reader and writer share it).
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>

namespace compactmind::detail {

struct SafetensorsDtype {
  const char* name;
  at::ScalarType scalar_type;
  uint64_t element_bytes;
};

// The dtypes CompactMind reads: float weights (F32/F16/BF16) and quantized ones (I8 weights,
// I32 zero points or packed data, I64 shapes).
inline std::optional<SafetensorsDtype> supported_safetensors_dtype(const std::string& name) {
  static const SafetensorsDtype kSupported[] = {
      {"F32", at::kFloat, 4}, {"F16", at::kHalf, 2}, {"BF16", at::kBFloat16, 2},
      {"I8", at::kChar, 1},   {"I32", at::kInt, 4},   {"I64", at::kLong, 8},
  };
  for (const auto& dtype : kSupported)
    if (name == dtype.name) return dtype;
  return std::nullopt;
}

// Names the safetensors format defines that we deliberately do not read (so the message can say
// "not supported" rather than "not a safetensors dtype").
inline bool is_other_safetensors_dtype(const std::string& name) {
  static const char* kOthers[] = {"F64",     "I16",     "U8",      "U16",    "U32",
                                  "U64",     "BOOL",    "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",
                                  "F6_E2M3", "F6_E3M2", "E8M0",    "C64"};
  for (const char* other : kOthers)
    if (name == other) return true;
  return false;
}

inline constexpr const char* kSupportedSafetensorsDtypes = "F32, F16, BF16, I8, I32, I64";

}  // namespace compactmind::detail
