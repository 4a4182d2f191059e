#pragma once
// read_idx(): the IDX format of MNIST (big-endian header: two zero bytes, a type
// byte, a dimension count, one 32-bit size per dimension, then the data), raw or
// gzip'd. Gzip is recognised by its content (the magic 1f 8b), never by the name.
//
// Hostile files are expected. The policy:
//   - every size product is computed in 64 bits with overflow checks;
//   - nothing is allocated for the payload until the file is known to hold
//     exactly the declared data: a raw file's size is compared with the header;
//     a gzip file is decoded once into a small fixed buffer to count its bytes
//     and let zlib check its CRC, and only then decoded into memory;
//   - decoding stops within one 64 KiB buffer past the declared size, and declared sizes above
//     a cap (default 256 MiB) are refused, so a small file can never make the
//     loader allocate gigabytes;
//   - trailing bytes after the payload are an error, and so is anything after
//     the gzip stream (concatenated gzip members included).
// Every failure throws IdxError naming the file and the reason.

#include "scratchnet/path.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// Thrown for any unreadable or malformed IDX file; the message names the file.
class IdxError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An IDX array of unsigned bytes: dims (outermost first) and the data in file order.
struct IdxArray {
    std::vector<std::size_t> dims;
    std::vector<std::uint8_t> data;
};

struct IdxOptions {
    /// Largest payload accepted, in bytes (after decompression). MNIST's largest
    /// file is 47 MB; raise this for bigger data sets.
    std::uint64_t max_bytes = std::uint64_t{256} << 20;
};

namespace detail {

/// Reads an IDX file's bytes, decompressing when the content starts with the gzip
/// magic 1f 8b. Gzip is decoded with zlib's inflate directly (not gzread, which
/// silently skips bytes after a gzip member): the stream must end cleanly, its
/// CRC-32 and length must match, and nothing may follow it.
class IdxSource {
public:
    IdxSource(const Path& path, const std::string& who) : who_(who), in_(1u << 16) {
        file_ = std::fopen(path.c_str(), "rb");
        if (file_ == nullptr) fail("cannot open the file");
        try {
            refill();
            gzip_ = available_ >= 2 && in_[0] == 0x1F && in_[1] == 0x8B;
            if (gzip_ && inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail("zlib could not be initialised");
        } catch (...) {
            std::fclose(file_);  // the destructor does not run for a throwing constructor
            throw;
        }
        inflating_ = gzip_;
    }
    IdxSource(const IdxSource&) = delete;
    IdxSource& operator=(const IdxSource&) = delete;
    ~IdxSource() {
        if (inflating_) inflateEnd(&z_);
        if (file_ != nullptr) std::fclose(file_);
    }

    bool compressed() const { return gzip_; }

    /// Reads up to n bytes of (decoded) content; fewer only at its end.
    std::size_t read(void* buffer, std::size_t n) {
        auto* out = static_cast<unsigned char*>(buffer);
        return gzip_ ? inflate_into(out, n) : copy_into(out, n);
    }

    [[noreturn]] void fail(const std::string& reason) const { throw IdxError(who_ + reason); }

private:
    void refill() {
        offset_ = 0;
        available_ = std::fread(in_.data(), 1, in_.size(), file_);
        if (available_ < in_.size() && std::ferror(file_) != 0) fail("read error");
    }

    std::size_t copy_into(unsigned char* out, std::size_t n) {
        std::size_t total = 0;
        while (total < n) {
            if (offset_ == available_) {
                refill();
                if (available_ == 0) break;
            }
            const std::size_t k = std::min(n - total, available_ - offset_);
            std::memcpy(out + total, in_.data() + offset_, k);
            offset_ += k;
            total += k;
        }
        return total;
    }

    std::size_t inflate_into(unsigned char* out, std::size_t n) {
        std::size_t total = 0;
        while (total < n && !ended_) {
            if (offset_ == available_) {
                refill();
                if (available_ == 0) fail("truncated gzip data (the stream ends before its trailer)");
            }
            z_.next_in = in_.data() + offset_;
            z_.avail_in = static_cast<uInt>(available_ - offset_);
            z_.next_out = out + total;
            z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - total, 1u << 30));
            const uInt before_out = z_.avail_out, before_in = z_.avail_in;
            const int rc = inflate(&z_, Z_NO_FLUSH);
            offset_ = available_ - z_.avail_in;
            total += before_out - z_.avail_out;
            if (rc == Z_BUF_ERROR && before_out == z_.avail_out && before_in == z_.avail_in)
                fail("corrupt gzip data (no progress)");  // guards against a loop that cannot advance
            if (rc == Z_STREAM_END) {
                ended_ = true;
                if (offset_ < available_ || (refill(), available_ > 0))
                    fail("unexpected bytes after the end of the gzip stream");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fail(std::string("corrupt gzip data (") + (z_.msg != nullptr ? z_.msg : "zlib error") + ")");
            }
        }
        return total;
    }

    std::string who_;
    std::FILE* file_ = nullptr;
    std::vector<unsigned char> in_;
    std::size_t offset_ = 0, available_ = 0;
    bool gzip_ = false, inflating_ = false, ended_ = false;
    z_stream z_{};
};

inline std::uint32_t big_endian32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline const char* idx_type_name(unsigned t) {
    switch (t) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "short";
        case 0x0C: return "int";
        case 0x0D: return "float";
        case 0x0E: return "double";
        default: return nullptr;
    }
}

struct IdxHeader {
    std::vector<std::size_t> dims;
    std::uint64_t payload = 0;  // bytes
    std::uint64_t header_bytes = 0;
};

inline IdxHeader read_idx_header(IdxSource& in, const IdxOptions& options) {
    std::array<unsigned char, 4> magic{};
    const std::size_t got = in.read(magic.data(), 4);
    if (got == 0) in.fail("the file is empty");
    if (got < 4) in.fail("the file ends inside the 4-byte magic number");
    if (magic[0] != 0 || magic[1] != 0)
        in.fail("not an IDX file (the magic number must start with two zero bytes)");
    const unsigned type = magic[2];
    const char* type_name = idx_type_name(type);
    if (type_name == nullptr) in.fail("unknown IDX data type byte " + std::to_string(type));
    if (type != 0x08)
        in.fail("data type " + std::string(type_name) + " is not supported (scratchnet reads unsigned-byte IDX)");
    const unsigned ndims = magic[3];
    if (ndims == 0 || ndims > 4) in.fail("dimension count " + std::to_string(ndims) + " is outside 1..4");

    std::array<unsigned char, 16> sizes{};
    if (in.read(sizes.data(), 4 * ndims) < 4 * ndims)
        in.fail("the header ends before its " + std::to_string(ndims) + " dimension sizes");
    IdxHeader h;
    h.header_bytes = 4 + 4 * std::uint64_t{ndims};
    std::uint64_t product = 1;
    std::string shape;
    for (unsigned d = 0; d < ndims; ++d) {
        const std::uint32_t n = big_endian32(sizes.data() + 4 * d);
        h.dims.push_back(n);
        shape += (d > 0 ? " x " : "") + std::to_string(n);
        if (__builtin_mul_overflow(product, std::uint64_t{n}, &product))
            in.fail("the declared sizes " + shape + "... overflow 64 bits");
    }
    if (product > options.max_bytes)
        in.fail("the declared sizes " + shape + " make " + std::to_string(product) +
                " bytes, more than the limit of " + std::to_string(options.max_bytes));
    h.payload = product;
    return h;
}

}  // namespace detail

/// The dimensions an IDX file's header declares, checking the header only (the
/// data is not read). Lets a caller compare files before loading any of them.
inline std::vector<std::size_t> read_idx_dims(const Path& path, const IdxOptions& options = {}) {
    const std::string who = "scratchnet::read_idx: " + path.string() + ": ";
    if (detail::file_status(path).kind == detail::FileKind::directory)
        throw IdxError(who + "is a directory, not a file");
    detail::IdxSource in(path, who);
    return detail::read_idx_header(in, options).dims;
}

/// Reads an unsigned-byte IDX file, raw or gzip'd. Throws IdxError on any defect.
inline IdxArray read_idx(const Path& path, const IdxOptions& options = {}) {
    const std::string who = "scratchnet::read_idx: " + path.string() + ": ";
    const detail::FileStatus status = detail::file_status(path);
    if (status.kind == detail::FileKind::missing) throw IdxError(who + "no such file");
    if (status.kind == detail::FileKind::directory) throw IdxError(who + "is a directory, not a file");
    if (status.kind != detail::FileKind::regular) throw IdxError(who + "is not a regular file");
    const std::uint64_t file_size = status.size;

    detail::IdxHeader h;
    bool compressed = false;
    {
        detail::IdxSource in(path, who);
        h = detail::read_idx_header(in, options);
        compressed = in.compressed();
        if (!compressed) {
            const std::uint64_t present = file_size - h.header_bytes;
            if (present < h.payload)
                in.fail("the header declares " + std::to_string(h.payload) + " bytes of data but the file holds " +
                        std::to_string(present));
            if (present > h.payload)
                in.fail(std::to_string(present - h.payload) + " trailing bytes after the declared " +
                        std::to_string(h.payload) + " bytes of data");
        } else {
            // First pass: count the decoded bytes (and let zlib verify the CRC)
            // without keeping them.
            std::array<unsigned char, 1 << 16> scratch{};
            std::uint64_t decoded = 0;
            for (;;) {
                const std::size_t got = in.read(scratch.data(), scratch.size());
                decoded += got;
                if (decoded > h.payload)
                    in.fail("the gzip stream decodes past the declared " + std::to_string(h.payload) +
                            " bytes of data (trailing bytes)");
                if (got < scratch.size()) break;
            }
            if (decoded < h.payload)
                in.fail("the header declares " + std::to_string(h.payload) + " bytes of data but the stream holds " +
                        std::to_string(decoded));
        }
    }

    IdxArray out;
    out.dims = std::move(h.dims);
    out.data.resize(static_cast<std::size_t>(h.payload));
    detail::IdxSource in(path, who);
    detail::read_idx_header(in, options);
    unsigned char extra = 0;
    // Reading one byte more drives a gzip stream to its end, so zlib checks the
    // CRC of exactly the bytes returned here, and a raw file must end too.
    if (in.read(out.data.data(), out.data.size()) != out.data.size() || in.read(&extra, 1) != 0)
        in.fail("the file changed while it was being read");
    return out;
}

}  // namespace scratchnet
