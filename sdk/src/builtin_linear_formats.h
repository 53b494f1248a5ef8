// The linear formats the SDK itself provides (internal): compressed-tensors "int-quantized" (W8A8,
// w8a8_format.cpp) and "pack-quantized" (packed_linear_format.cpp).
#pragma once

#include "compactmind/linear_format.h"

#include <memory>
#include <vector>

namespace compactmind::detail {

std::shared_ptr<const LinearFormat> make_w8a8_format();
std::shared_ptr<const LinearFormat> make_pack_quantized_format();

inline std::vector<std::shared_ptr<const LinearFormat>> builtin_linear_formats() {
  return {make_w8a8_format(), make_pack_quantized_format()};
}

}  // namespace compactmind::detail
