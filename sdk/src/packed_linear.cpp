#include "compactmind/packed_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace compactmind {
namespace {

// The forward buffer holds about this many floats (1 MiB): large enough for efficient GEMMs, small
// enough to stay in cache while it is filled and used.
constexpr int64_t kBufferFloats = int64_t(1) << 18;

std::vector<float>& thread_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

int levels_per_word(int bits) { return 32 / bits; }

void check_bits(int bits, const std::string& where) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    throw std::invalid_argument(where + ": bits must be 2, 3, 4 or 8, got " + std::to_string(bits));
}

std::string shape_of(const at::Tensor& tensor) { return c10::str(tensor.sizes()); }

}  // namespace

int64_t PackedScheme::groups(int64_t in_features, const std::string& where) const {
  check_bits(bits, where);
  if (group_size == -1) return 1;
  if (group_size < 1 || in_features % group_size != 0)
    throw std::invalid_argument(where + ": group_size " + std::to_string(group_size) +
                                " does not divide its " + std::to_string(in_features) + " input features");
  return in_features / group_size;
}

at::Tensor pack_int32(const at::Tensor& signed_levels, int bits) {
  check_bits(bits, "pack_int32");
  const at::Tensor values = signed_levels.to(at::kInt).contiguous();
  const int64_t rows = values.size(0), cols = values.size(1);
  const int per = levels_per_word(bits);
  const int64_t words = (cols + per - 1) / per;
  at::Tensor packed = at::zeros({rows, words}, at::kInt);
  const int32_t* in = values.data_ptr<int32_t>();
  auto* out = reinterpret_cast<uint32_t*>(packed.data_ptr<int32_t>());
  const int32_t offset = 1 << (bits - 1);
  const uint32_t mask = (1u << bits) - 1;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int32_t level = in[r * cols + c] + offset;
      if (level < 0 || uint32_t(level) > mask)
        throw std::invalid_argument("pack_int32: value " + std::to_string(in[r * cols + c]) + " at [" +
                                    std::to_string(r) + "," + std::to_string(c) + "] is outside the signed " +
                                    std::to_string(bits) + "-bit range");
      out[r * words + c / per] |= uint32_t(level) << ((c % per) * bits);
    }
  return packed;
}

at::Tensor unpack_int32(const at::Tensor& packed, int bits, int64_t cols) {
  check_bits(bits, "unpack_int32");
  const at::Tensor words_tensor = packed.contiguous();
  const int64_t rows = words_tensor.size(0), words = words_tensor.size(1);
  const int per = levels_per_word(bits);
  if (words * per < cols)
    throw std::invalid_argument("unpack_int32: " + std::to_string(words) + " words of " + std::to_string(per) +
                                " levels cannot hold " + std::to_string(cols) + " columns");
  at::Tensor values = at::empty({rows, cols}, at::kInt);
  const auto* in = reinterpret_cast<const uint32_t*>(words_tensor.data_ptr<int32_t>());
  int32_t* out = values.data_ptr<int32_t>();
  const int32_t offset = 1 << (bits - 1);
  const uint32_t mask = (1u << bits) - 1;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = int32_t((in[r * words + c / per] >> ((c % per) * bits)) & mask) - offset;
  return values;
}

PackedLinear::PackedLinear(const at::Tensor& levels, const at::Tensor& scale, const at::Tensor& zero,
                           const PackedScheme& scheme)
    : scheme_(scheme), in_features_(levels.size(1)) {
  const std::string where = "PackedLinear";
  const int64_t groups = scheme.groups(in_features_, where);
  group_columns_ = scheme.group_size == -1 ? in_features_ : scheme.group_size;
  const int64_t out = levels.size(0);
  if (scale.sizes() != at::IntArrayRef({out, groups}) || zero.sizes() != at::IntArrayRef({out, groups}))
    throw std::invalid_argument(where + ": scale " + shape_of(scale) + " and zero " + shape_of(zero) + " must be [" +
                                std::to_string(out) + ", " + std::to_string(groups) + "]");
  const int64_t offset = int64_t(1) << (scheme.bits - 1);
  packed_ = pack_int32(levels.to(at::kCPU, at::kFloat).round().to(at::kInt) - offset, scheme.bits);
  scale_ = scale.to(at::kCPU, at::kFloat).contiguous();
  zero_ = zero.to(at::kCPU, at::kFloat).round().clamp(0, 255).to(at::kByte).contiguous();
}

std::unique_ptr<PackedLinear> PackedLinear::quantize_rtn(const at::Tensor& weight, const PackedScheme& scheme) {
  const at::Tensor w = weight.detach().to(at::kCPU, at::kFloat);
  const int64_t groups = scheme.groups(w.size(1), "round-to-nearest");
  const int64_t columns = w.size(1) / groups;
  const IntQuantizer quantizer = scheme.quantizer();
  at::Tensor levels = at::empty_like(w), scale = at::empty({w.size(0), groups}), zero = at::empty({w.size(0), groups});
  for (int64_t g = 0; g < groups; ++g) {
    const at::Tensor block = w.narrow(1, g * columns, columns);
    const QuantParams params = find_quant_params(quantizer, block);
    levels.narrow(1, g * columns, columns).copy_(quantize_levels(quantizer, block, params));
    scale.select(1, g).copy_(params.scale);
    zero.select(1, g).copy_(params.zero);
  }
  return std::make_unique<PackedLinear>(levels, scale, zero, scheme);
}

std::unique_ptr<PackedLinear> PackedLinear::from_stored(const at::Tensor& weight_packed, const at::Tensor& weight_scale,
                                                        const at::Tensor& weight_zero_point, int64_t out_features,
                                                        int64_t in_features, const PackedScheme& scheme,
                                                        const std::string& name) {
  const int64_t groups = scheme.groups(in_features, "'" + name + "'");
  const int per = levels_per_word(scheme.bits);
  const int64_t words = (in_features + per - 1) / per;
  if (weight_packed.scalar_type() != at::kInt || weight_packed.sizes() != at::IntArrayRef({out_features, words}))
    throw std::invalid_argument("'" + name + "': weight_packed must be int32 [" + std::to_string(out_features) + ", " +
                                std::to_string(words) + "], got " + shape_of(weight_packed));
  if (weight_scale.sizes() != at::IntArrayRef({out_features, groups}))
    throw std::invalid_argument("'" + name + "': weight_scale must be [" + std::to_string(out_features) + ", " +
                                std::to_string(groups) + "], got " + shape_of(weight_scale));
  std::unique_ptr<PackedLinear> layer(new PackedLinear());
  layer->scheme_ = scheme;
  layer->in_features_ = in_features;
  layer->group_columns_ = scheme.group_size == -1 ? in_features : scheme.group_size;
  layer->packed_ = weight_packed.to(at::kCPU).contiguous().clone();
  layer->scale_ = weight_scale.to(at::kCPU, at::kFloat).contiguous();
  const int64_t offset = int64_t(1) << (scheme.bits - 1);
  if (scheme.symmetric) {
    layer->zero_ = at::full({out_features, groups}, offset, at::kByte);
  } else {
    const int64_t zero_words = (out_features + per - 1) / per;
    if (!weight_zero_point.defined() || weight_zero_point.scalar_type() != at::kInt ||
        weight_zero_point.sizes() != at::IntArrayRef({zero_words, groups}))
      throw std::invalid_argument("'" + name + "': an asymmetric scheme needs weight_zero_point int32 [" +
                                  std::to_string(zero_words) + ", " + std::to_string(groups) + "], got " +
                                  (weight_zero_point.defined() ? shape_of(weight_zero_point) : std::string("none")));
    // Packed along the output dimension: unpack the transpose.
    const at::Tensor zero_signed = unpack_int32(weight_zero_point.t(), scheme.bits, out_features).t();
    layer->zero_ = (zero_signed + offset).to(at::kByte).contiguous();
  }
  return layer;
}

void PackedLinear::dequantize_rows(int64_t begin, int64_t end, float* rows_out) const {
  const int bits = scheme_.bits;
  const int per = levels_per_word(bits);
  const uint32_t mask = (1u << bits) - 1;
  const int64_t words = packed_.size(1), groups = scale_.size(1), in = in_features_, columns = group_columns_;
  const auto* packed = reinterpret_cast<const uint32_t*>(packed_.data_ptr<int32_t>());
  const float* scale = scale_.data_ptr<float>();
  const uint8_t* zero = zero_.data_ptr<uint8_t>();
  at::parallel_for(begin, end, 16, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      float* row = rows_out + (r - begin) * in;
      const uint32_t* row_words = packed + r * words;
      for (int64_t g = 0; g < groups; ++g) {
        // The same float32 expression as quantize_dequantize: scale · (q - zero).
        const float group_scale = scale[r * groups + g];
        const float group_zero = float(zero[r * groups + g]);
        const int64_t stop = std::min(in, (g + 1) * columns);
        for (int64_t c = g * columns; c < stop; ++c)
          row[c] = group_scale * (float((row_words[c / per] >> ((c % per) * bits)) & mask) - group_zero);
      }
    }
  });
}

at::Tensor PackedLinear::forward(const at::Tensor& input) const {
  if (input.size(-1) != in_features_)
    throw std::invalid_argument("PackedLinear: input has " + std::to_string(input.size(-1)) + " features, the layer " +
                                std::to_string(in_features_));
  if (!input.device().is_cpu()) throw std::runtime_error("PackedLinear runs on the CPU only");
  const at::Tensor rows = input.reshape({-1, in_features_}).to(at::kFloat).contiguous();
  const int64_t out = out_features();
  const int64_t block = std::min(out, std::max<int64_t>(8, kBufferFloats / in_features_));
  std::vector<float>& buffer = thread_buffer();
  if (int64_t(buffer.size()) < block * in_features_) buffer.resize(size_t(block * in_features_));
  std::vector<int64_t> sizes = input.sizes().vec();
  sizes.back() = out;
  // One block per call on small layers; otherwise each block's product goes into its columns.
  at::Tensor output = block == out ? at::Tensor() : at::empty({rows.size(0), out}, rows.options());
  for (int64_t begin = 0; begin < out; begin += block) {
    const int64_t end = std::min(out, begin + block);
    dequantize_rows(begin, end, buffer.data());
    at::Tensor weights = at::from_blob(buffer.data(), {end - begin, in_features_}, at::kFloat);
    // Autograd would keep the buffer for backward while the next call overwrites it: copy then.
    if (rows.requires_grad()) weights = weights.clone();
    if (block == out) return at::mm(rows, weights.t()).reshape(sizes);
    output.narrow(1, begin, end - begin).copy_(at::mm(rows, weights.t()));
  }
  return output.reshape(sizes);
}

std::vector<std::pair<std::string, at::Tensor>> PackedLinear::state() const {
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"weight_packed", packed_},
      {"weight_scale", scale_},
      {"weight_shape", at::tensor(std::vector<int64_t>{out_features(), in_features_}, at::kLong)}};
  if (!scheme_.symmetric) {
    const int64_t offset = int64_t(1) << (scheme_.bits - 1);
    const at::Tensor zero_signed = zero_.to(at::kInt) - offset;
    tensors.emplace_back("weight_zero_point", pack_int32(zero_signed.t(), scheme_.bits).t().contiguous());
  }
  return tensors;
}

int64_t PackedLinear::stored_bytes(at::ScalarType) const {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : state()) bytes += tensor.numel() * int64_t(tensor.element_size());
  return bytes;
}

int64_t PackedLinear::resident_bytes() const {
  return packed_.numel() * 4 + scale_.numel() * 4 + zero_.numel();
}

std::unique_ptr<Linear> PackedLinear::clone() const {
  std::unique_ptr<PackedLinear> copy(new PackedLinear());
  copy->scheme_ = scheme_;
  copy->in_features_ = in_features_;
  copy->group_columns_ = group_columns_;
  copy->packed_ = packed_.clone();
  copy->scale_ = scale_.clone();
  copy->zero_ = zero_.clone();
  return copy;
}

at::Tensor PackedLinear::dense_weight() const {
  at::Tensor weight = at::empty({out_features(), in_features_}, at::kFloat);
  dequantize_rows(0, out_features(), weight.data_ptr<float>());
  return weight;
}

at::Tensor PackedLinear::levels() const {
  return unpack_int32(packed_, scheme_.bits, in_features_) + (int32_t(1) << (scheme_.bits - 1));
}

int64_t forward_buffer_bytes() { return int64_t(thread_buffer().size() * sizeof(float)); }

void declare_packed_scheme(SpaceBuilder& space) {
  space.add_categorical("bits", {"2", "3", "4", "8"}, "4");
  space.add_categorical("group_size", {"-1", "32", "64", "128"}, "-1");
  space.add_bool("symmetric", false);
}

PackedScheme packed_scheme_from(const Params& params, const std::string& method) {
  auto integer_choice = [&](const std::string& name) {
    const std::string text = params.get_string(name);
    try {
      return std::stoll(text);
    } catch (const std::exception&) {
      throw std::invalid_argument(method + ": " + name + " '" + text + "' is not an integer");
    }
  };
  PackedScheme scheme;
  scheme.bits = int(integer_choice("bits"));
  scheme.group_size = integer_choice("group_size");
  scheme.symmetric = params.get_bool("symmetric");
  return scheme;
}

}  // namespace compactmind
