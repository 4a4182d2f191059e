#pragma once
// Model files: save() and load() of a network's parameters.
//
// Format, version 1 (version 2 where the network has state); every integer
// little-endian, offsets in bytes:
//    0   8  magic         89 53 4E 4D 0D 0A 1A 0A   ("\x89SNM\r\n\x1a\n": a text-mode
//                         transfer or a truncated download shows up in the first bytes)
//    8   4  version       1
//   12   4  scalar bytes  4 (float) or 8 (double), IEEE 754
//   16   4  arch length   A, at most 65536
//   20   A  architecture  ASCII, e.g. "Dense<784,128>,ReLU,Dense<128,10>,Softmax,CrossEntropy"
// 20+A   8  count         number of parameters P
// 28+A  P*s parameters    the flat buffer: layer by layer, W column-major, then b
//  version 2 only, for networks whose layers keep state (BatchNorm):
//         8  state count   S
//        S*s state         the state buffer, layer by layer
//  end   4  CRC-32        zlib's crc32 of every byte before it
// Nothing may follow. load() checks all of it before touching the network, and on
// any mismatch throws ModelError saying what differs; the network is then unchanged.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/quote.hpp"
#include "scratchnet/path.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace scratchnet {

/// Thrown when a model file cannot be written, read, or does not fit the network.
class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

inline constexpr std::array<unsigned char, 8> model_magic{0x89, 'S', 'N', 'M', 0x0D, 0x0A, 0x1A, 0x0A};
inline constexpr std::uint32_t model_version = 1;
inline constexpr std::uint32_t model_version_with_state = 2;
/// The version a network of type Net writes: 1 unless its layers keep state.
template <class Net>
inline constexpr std::uint32_t model_version_of = Net::state_count > 0 ? model_version_with_state : model_version;
inline constexpr std::uint32_t max_architecture_length = 65536;

/// Appends little-endian bytes of a trivially copyable value.
template <class U>
void put_le(std::vector<unsigned char>& out, U value) {
    std::array<unsigned char, sizeof(U)> b{};
    std::memcpy(b.data(), &value, sizeof(U));
    if constexpr (std::endian::native == std::endian::big) std::reverse(b.begin(), b.end());
    out.insert(out.end(), b.begin(), b.end());
}

template <class U>
U get_le(const unsigned char* p) {
    std::array<unsigned char, sizeof(U)> b{};
    std::memcpy(b.data(), p, sizeof(U));
    if constexpr (std::endian::native == std::endian::big) std::reverse(b.begin(), b.end());
    U value;
    std::memcpy(&value, b.data(), sizeof(U));
    return value;
}

inline std::uint32_t crc32_of(const unsigned char* data, std::size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        crc = crc32(crc, data, chunk);
        data += chunk;
        n -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

// load() reads from either of these. Files go through C stdio rather than
// <fstream>, which would add to the compile time of every file that includes scratchnet.
class StreamSource {
public:
    explicit StreamSource(std::istream& in) : in_(in) {}
    std::size_t read(unsigned char* p, std::size_t n) {
        in_.read(reinterpret_cast<char*>(p), static_cast<std::streamsize>(n));
        return static_cast<std::size_t>(in_.gcount());
    }
    bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }
    bool failed() const { return in_.bad(); }

private:
    std::istream& in_;
};

/// An open C file, closed when it goes out of scope.
class CFile {
public:
    CFile(const Path& path, const char* mode) : file_(std::fopen(path.c_str(), mode)) {}
    CFile(const CFile&) = delete;
    CFile& operator=(const CFile&) = delete;
    ~CFile() {
        if (file_ != nullptr) std::fclose(file_);
    }
    std::FILE* get() const { return file_; }
    /// Closes now, so that a failed final write is seen: true on success.
    bool close() { return std::fclose(std::exchange(file_, nullptr)) == 0; }

private:
    std::FILE* file_;
};

class FileSource {
public:
    explicit FileSource(std::FILE* file) : file_(file) {}
    std::size_t read(unsigned char* p, std::size_t n) { return std::fread(p, 1, n, file_); }
    bool at_end() { return std::fgetc(file_) == EOF; }
    bool failed() const { return std::ferror(file_) != 0; }

private:
    std::FILE* file_;
};

/// Reads exactly n bytes or throws naming what was being read.
template <class Source>
void read_exactly(Source& in, unsigned char* p, std::size_t n, const std::string& who, const char* what) {
    const std::size_t got = in.read(p, n);
    if (got == n) return;
    if (in.failed()) throw ModelError(who + "reading the " + what + " failed");
    throw ModelError(who + "the file ends inside the " + what + " (" + std::to_string(got) + " of " +
                     std::to_string(n) + " bytes)");
}

/// The whole model file of net, checksum included.
template <class Net>
std::vector<unsigned char> model_bytes(const Net& net) {
    using T = typename Net::Scalar;
    const std::string arch = Net::architecture();
    std::vector<unsigned char> bytes(model_magic.begin(), model_magic.end());
    put_le<std::uint32_t>(bytes, model_version_of<Net>);
    put_le<std::uint32_t>(bytes, sizeof(T));
    put_le<std::uint32_t>(bytes, static_cast<std::uint32_t>(arch.size()));
    bytes.insert(bytes.end(), arch.begin(), arch.end());
    put_le<std::uint64_t>(bytes, static_cast<std::uint64_t>(Net::parameter_count));
    const auto theta = net.parameters();
    bytes.reserve(bytes.size() + static_cast<std::size_t>(theta.size()) * sizeof(T) + 4);
    for (Index k = 0; k < theta.size(); ++k) put_le<T>(bytes, theta[k]);
    if constexpr (Net::state_count > 0) {
        put_le<std::uint64_t>(bytes, static_cast<std::uint64_t>(Net::state_count));
        const auto state = net.state();
        for (Index k = 0; k < state.size(); ++k) put_le<T>(bytes, state[k]);
    }
    put_le<std::uint32_t>(bytes, crc32_of(bytes.data(), bytes.size()));
    return bytes;
}

template <class Net, class Source>
void load_from(Net& net, Source& in, const std::string& name);

inline std::string system_reason() { return std::strerror(errno); }

}  // namespace detail

/// Writes net's parameters and architecture to a stream.
template <class Net>
void save(const Net& net, std::ostream& out) {
    const std::vector<unsigned char> bytes = detail::model_bytes(net);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw ModelError("scratchnet::save: writing the model failed");
}

/// Writes net's parameters and architecture to a file (replaced if it exists).
template <class Net>
void save(const Net& net, const Path& path) {
    const std::vector<unsigned char> bytes = detail::model_bytes(net);
    detail::CFile file(path, "wb");
    if (file.get() == nullptr)
        throw ModelError("scratchnet::save: " + path.string() + ": cannot open for writing: " + detail::system_reason());
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
    if (!file.close() || !written)
        throw ModelError("scratchnet::save: " + path.string() + ": writing failed: " + detail::system_reason());
}

/// Reads parameters saved by save() into net, after checking magic, version,
/// scalar type, architecture, count, CRC and that nothing follows. `name` is used
/// in error messages. On any error net is left unchanged.
template <class Net>
void load(Net& net, std::istream& in, const std::string& name = "<stream>") {
    detail::StreamSource source(in);
    detail::load_from(net, source, name);
}

/// Reads a model file written by save() into net (see the stream overload).
template <class Net>
void load(Net& net, const Path& path) {
    if (detail::file_status(path).kind == detail::FileKind::directory)
        throw ModelError("scratchnet::load: " + path.string() + ": is a directory, not a file");
    detail::CFile file(path, "rb");
    if (file.get() == nullptr)
        throw ModelError("scratchnet::load: " + path.string() + ": cannot open the file: " + detail::system_reason());
    detail::FileSource source(file.get());
    detail::load_from(net, source, path.string());
}

namespace detail {

template <class Net, class Source>
void load_from(Net& net, Source& in, const std::string& name) {
    using T = typename Net::Scalar;
    const std::string who = "scratchnet::load: " + name + ": ";
    std::vector<unsigned char> bytes(20);
    const std::size_t got = in.read(bytes.data(), 20);
    if (in.failed()) throw ModelError(who + "reading the header failed");
    if (got == 0) throw ModelError(who + "the file is empty");
    // A start of the magic number cut short is a truncated model file, not another kind of file.
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(got, 8)),
                    detail::model_magic.begin()))
        throw ModelError(who + "not a scratchnet model file (wrong magic number)");
    if (got < 8) throw ModelError(who + "the file ends inside the magic number (" + std::to_string(got) + " of 8 bytes)");
    if (got < 20) throw ModelError(who + "the file ends inside the header");
    const auto version = detail::get_le<std::uint32_t>(bytes.data() + 8);
    if (version != detail::model_version && version != detail::model_version_with_state)
        throw ModelError(who + "format version " + std::to_string(version) + " is not supported (this is version " +
                         std::to_string(detail::model_version_with_state) + ")");
    const auto scalar = detail::get_le<std::uint32_t>(bytes.data() + 12);
    if (scalar != 4 && scalar != 8) throw ModelError(who + "invalid scalar size " + std::to_string(scalar));
    const auto arch_length = detail::get_le<std::uint32_t>(bytes.data() + 16);
    if (arch_length > detail::max_architecture_length)
        throw ModelError(who + "architecture string of " + std::to_string(arch_length) + " bytes is implausibly long");
    bytes.resize(20 + std::size_t{arch_length} + 8);
    detail::read_exactly(in, bytes.data() + 20, std::size_t{arch_length} + 8, who, "architecture");
    const std::string arch(bytes.begin() + 20, bytes.begin() + 20 + arch_length);
    const auto count = detail::get_le<std::uint64_t>(bytes.data() + 20 + arch_length);

    const char* file_type = scalar == 4 ? "float" : "double";
    const char* net_type = sizeof(T) == 4 ? "float" : "double";
    if (arch != Net::architecture() || scalar != sizeof(T))
        throw ModelError(who + "file holds " + detail::quoted(arch, 200) + " (" + file_type + "), this network is " + Net::architecture() +
                         " (" + net_type + ")");
    if (count != static_cast<std::uint64_t>(Net::parameter_count))
        throw ModelError(who + "file declares " + std::to_string(count) + " parameters, the network has " +
                         std::to_string(Net::parameter_count));

    if (version != detail::model_version_of<Net>)
        throw ModelError(who + "format version " + std::to_string(version) +
                         (version == detail::model_version ? " holds no state, but this network's layers keep some"
                                                           : " holds state, but this network's layers keep none"));

    // The size now comes from the network, not from the file.
    const std::size_t header = bytes.size();
    const std::size_t parameter_bytes = static_cast<std::size_t>(Net::parameter_count) * sizeof(T);
    const std::size_t state_bytes =
        Net::state_count > 0 ? 8 + static_cast<std::size_t>(Net::state_count) * sizeof(T) : 0;
    const std::size_t payload = parameter_bytes + state_bytes;
    bytes.resize(header + payload + 4);
    detail::read_exactly(in, bytes.data() + header, payload + 4, who, "parameters and checksum");
    if (!in.at_end()) throw ModelError(who + "unexpected bytes after the checksum");
    const auto stored = detail::get_le<std::uint32_t>(bytes.data() + header + payload);
    const auto actual = detail::crc32_of(bytes.data(), header + payload);
    if (stored != actual) throw ModelError(who + "checksum mismatch: the file is corrupt");

    Vector<T> theta(Net::parameter_count);
    for (Index k = 0; k < theta.size(); ++k)
        theta[k] = detail::get_le<T>(bytes.data() + header + static_cast<std::size_t>(k) * sizeof(T));
    Vector<T> state(Net::state_count);
    if constexpr (Net::state_count > 0) {
        const unsigned char* p = bytes.data() + header + parameter_bytes;
        const auto stored_count = detail::get_le<std::uint64_t>(p);
        if (stored_count != static_cast<std::uint64_t>(Net::state_count))
            throw ModelError(who + "file declares " + std::to_string(stored_count) + " state values, the network has " +
                             std::to_string(Net::state_count));
        for (Index k = 0; k < state.size(); ++k)
            state[k] = detail::get_le<T>(p + 8 + static_cast<std::size_t>(k) * sizeof(T));
    }
    // A checksum proves the bytes are the ones written, not that they are numbers:
    // a NaN loaded would make every prediction NaN without a word.
    const auto refuse_nonfinite = [&](const Vector<T>& v, const char* what) {
        for (Index k = 0; k < v.size(); ++k)
            if (!std::isfinite(v[k])) {
                const std::string where = std::string(what) == "parameter"
                                              ? " (layer " + std::to_string(Net::layer_of_parameter(k)) + ", " +
                                                    Net::layer_name(Net::layer_of_parameter(k)) + ")"
                                              : "";
                throw ModelError(who + what + " " + std::to_string(k) + where + " is NaN or infinite");
            }
    };
    refuse_nonfinite(theta, "parameter");
    refuse_nonfinite(state, "state value");
    net.parameters() = theta;
    net.state() = state;
}

}  // namespace detail

}  // namespace scratchnet
