#pragma once
// A safetensors file's layout, checked against the file itself: 8 bytes, the
// little-endian length N of a JSON header (weights/safetensors_header.hpp); N
// bytes of header; then the tensors' bytes, little-endian and row-major, each at
// data_offsets [begin, end) counted from the end of the header. check_safetensors
// holds every entry to its dtype and shape and the entries to covering the data
// exactly; safetensors_value reads one element of a float dtype.

#include "scratchnet/serialize.hpp"
#include "scratchnet/weights/safetensors_header.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace scratchnet::detail {

/// Headers beyond this are refused before anything is allocated for them (the
/// format's reference implementation has the same limit).
inline constexpr std::uint64_t max_safetensors_header = 100'000'000;

/// Bytes per element of a safetensors dtype; 0 for a name the format does not have.
inline std::uint64_t safetensors_dtype_size(std::string_view d) {
    if (d == "F64" || d == "I64" || d == "U64") return 8;
    if (d == "F32" || d == "I32" || d == "U32") return 4;
    if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
    if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
    return 0;
}

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24
        const float v = std::ldexp(static_cast<float>(mantissa), -24);
        return sign != 0 ? -v : v;
    }
    const std::uint32_t bits =
        exponent == 0x1F ? sign | 0x7F800000u | (mantissa << 13) : sign | ((exponent + 112) << 23) | (mantissa << 13);
    return std::bit_cast<float>(bits);
}

inline float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

/// Element i of a tensor's bytes, as a double.
inline double safetensors_value(std::string_view dtype, const unsigned char* p, std::uint64_t i) {
    if (dtype == "F32") return get_le<float>(p + 4 * i);
    if (dtype == "F64") return get_le<double>(p + 8 * i);
    if (dtype == "F16") return half_to_float(get_le<std::uint16_t>(p + 2 * i));
    return bfloat16_to_float(get_le<std::uint16_t>(p + 2 * i));  // BF16
}

inline std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

inline std::vector<std::uint64_t> unsigned_shape(const std::vector<Index>& shape) {
    return {shape.begin(), shape.end()};
}

/// Checks a file's bytes as safetensors: the header, every entry's dtype, size and
/// offsets, and that the entries cover the data exactly.
inline SafetensorsHeader check_safetensors(const unsigned char* bytes, std::uint64_t size, const std::string& who,
                                           std::uint64_t& data_start) {
    if (size == 0) throw SafetensorsError(who + "the file is empty");
    if (size < 8) throw SafetensorsError(who + "the file ends inside the 8-byte header length");
    const auto n = get_le<std::uint64_t>(bytes);
    if (n > size - 8)
        throw SafetensorsError(who + "the header length " + std::to_string(n) + " runs past the end of the file (" +
                               std::to_string(size) + " bytes)");
    if (n > max_safetensors_header)
        throw SafetensorsError(who + "the header length " + std::to_string(n) + " is beyond the format's limit");
    if (n < 2) throw SafetensorsError(who + "the header is " + std::to_string(n) + " bytes, too short for JSON");
    SafetensorsHeader h =
        SafetensorsHeaderReader(std::string_view(reinterpret_cast<const char*>(bytes + 8), n), who).read();
    data_start = 8 + n;
    const std::uint64_t data = size - data_start;
    std::vector<const SafetensorsEntry*> order;
    for (const SafetensorsEntry& e : h.tensors) {
        const std::string t = who + "tensor '" + e.name + "': ";
        const std::uint64_t element = safetensors_dtype_size(e.dtype);
        if (element == 0) throw SafetensorsError(t + "unknown dtype '" + e.dtype + "'");
        std::uint64_t count = 1;
        for (const std::uint64_t d : e.shape) {
            if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / d)
                throw SafetensorsError(t + "the shape " + shape_text(e.shape) + " has more elements than 2^64");
            count *= d;
        }
        if (count > std::numeric_limits<std::uint64_t>::max() / element)
            throw SafetensorsError(t + "the shape " + shape_text(e.shape) + " holds more than 2^64 bytes");
        if (e.end < e.begin)
            throw SafetensorsError(t + "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                   "] end before they begin");
        if (e.end > data)
            throw SafetensorsError(t + "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                   "] run past the end of the data (" + std::to_string(data) + " bytes)");
        if (e.end - e.begin != count * element)
            throw SafetensorsError(t + "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                   "] hold " + std::to_string(e.end - e.begin) + " bytes, but " + e.dtype + " " +
                                   shape_text(e.shape) + " needs " + std::to_string(count * element));
        order.push_back(&e);
    }
    std::sort(order.begin(), order.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t at = 0;
    const SafetensorsEntry* previous = nullptr;
    for (const SafetensorsEntry* e : order) {
        if (e->begin > at)
            throw SafetensorsError(who + "the data has a gap of " + std::to_string(e->begin - at) + " bytes before tensor '" +
                                   e->name + "'");
        if (e->begin < at)
            throw SafetensorsError(who + "tensors '" + previous->name + "' and '" + e->name + "' overlap");
        at = e->end;
        previous = e;
    }
    if (at != data)
        throw SafetensorsError(who + std::to_string(data - at) + " bytes after the last tensor belong to none");
    return h;
}

}  // namespace scratchnet::detail
