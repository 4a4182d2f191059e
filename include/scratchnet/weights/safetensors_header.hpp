#pragma once
// The JSON header of a safetensors file, read strictly: exactly the subset the
// format uses and nothing more.
//
//   { "NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...,
//     "__metadata__": {"KEY": "VALUE", ...} }
//
// Strings take JSON's escapes (\uXXXX, surrogate pairs included) and come out as
// UTF-8; numbers are non-negative integers below 2^64 written in digits; each
// tensor entry has exactly the three keys; __metadata__ maps strings to strings;
// a name appears once; only whitespace may follow the object (writers pad the
// header with spaces). Anything else is a SafetensorsError naming the byte where
// reading stopped. The parser keeps no recursion and allocates only what it reads.

#include "scratchnet/serialize.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scratchnet {

/// Thrown when a safetensors file cannot be read, written, or does not fit the
/// network. A ModelError, so one handler catches every kind of weight file.
class SafetensorsError : public ModelError {
public:
    using ModelError::ModelError;
};

namespace detail {

/// One tensor entry of the header.
struct SafetensorsEntry {
    std::string name;
    std::string dtype;
    std::vector<std::uint64_t> shape;
    std::uint64_t begin = 0, end = 0;  // byte offsets into the data after the header
};

struct SafetensorsHeader {
    std::vector<SafetensorsEntry> tensors;  // in the file's order
    std::vector<std::pair<std::string, std::string>> metadata;
};

class SafetensorsHeaderReader {
public:
    SafetensorsHeaderReader(std::string_view text, std::string who) : s_(text), who_(std::move(who)) {}

    SafetensorsHeader read() {
        SafetensorsHeader h;
        bool metadata_seen = false;
        expect('{', "the header to be a JSON object");
        if (!take('}')) {
            do {
                std::string key = string();
                expect(':', "':' after a name");
                if (key == "__metadata__") {
                    if (metadata_seen) fail("__metadata__ appears twice");
                    metadata_seen = true;
                    h.metadata = metadata();
                } else {
                    for (const auto& t : h.tensors)
                        if (t.name == key) fail("tensor '" + key + "' appears twice");
                    h.tensors.push_back(entry(std::move(key)));
                }
            } while (take(','));
            expect('}', "',' or '}' after a tensor");
        }
        space();
        if (pos_ != s_.size()) fail("bytes after the header's closing brace");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw SafetensorsError(who_ + "header: " + what + " (at byte " + std::to_string(pos_) + " of the header)");
    }

    void space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }
    bool take(char c) {
        space();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c, const char* what) {
        if (!take(c)) fail(std::string("expected ") + what);
    }

    std::uint64_t number() {
        space();
        if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("expected a non-negative integer");
        if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
            fail("a number with a leading zero");
        std::uint64_t v = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            const auto digit = static_cast<std::uint64_t>(s_[pos_] - '0');
            if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("a number too large");
            v = v * 10 + digit;
            ++pos_;
        }
        if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))
            fail("a number that is not an integer");
        return v;
    }

    unsigned hex4() {
        if (s_.size() - pos_ < 4) fail("a \\u escape cut short");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
            else fail("a \\u escape with a character that is not hexadecimal");
        }
        return v;
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string string() {
        space();
        if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string");
        ++pos_;
        std::string out;
        for (;;) {
            if (pos_ >= s_.size()) fail("a string that never ends");
            const char c = s_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) fail("a string that never ends");
            switch (const char e = s_[pos_++]) {
                case '"': case '\\': case '/': out += e; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a lone low surrogate in a \\u escape");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (s_.size() - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u')
                            fail("a high surrogate without its low half");
                        pos_ += 2;
                        const unsigned low = hex4();
                        if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate without its low half");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: fail("an unknown escape in a string");
            }
        }
    }

    std::vector<std::pair<std::string, std::string>> metadata() {
        std::vector<std::pair<std::string, std::string>> m;
        expect('{', "__metadata__ to be an object of strings");
        if (take('}')) return m;
        do {
            std::string key = string();
            expect(':', "':' after a __metadata__ key");
            space();
            if (pos_ >= s_.size() || s_[pos_] != '"') fail("__metadata__ values must be strings");
            m.emplace_back(std::move(key), string());
        } while (take(','));
        expect('}', "',' or '}' in __metadata__");
        return m;
    }

    SafetensorsEntry entry(std::string name) {
        SafetensorsEntry e;
        e.name = std::move(name);
        bool dtype = false, shape = false, offsets = false;
        expect('{', "a tensor entry to be an object");
        if (take('}')) fail("tensor '" + e.name + "' has no dtype, shape or data_offsets");
        do {
            const std::string key = string();
            expect(':', "':' after a key");
            if (key == "dtype") {
                if (std::exchange(dtype, true)) fail("tensor '" + e.name + "' has two dtypes");
                e.dtype = string();
            } else if (key == "shape") {
                if (std::exchange(shape, true)) fail("tensor '" + e.name + "' has two shapes");
                expect('[', "a shape to be an array");
                if (!take(']')) {
                    do e.shape.push_back(number());
                    while (take(','));
                    expect(']', "',' or ']' in a shape");
                }
            } else if (key == "data_offsets") {
                if (std::exchange(offsets, true)) fail("tensor '" + e.name + "' has two data_offsets");
                expect('[', "data_offsets to be an array of two integers");
                e.begin = number();
                expect(',', "data_offsets to hold two integers");
                e.end = number();
                expect(']', "data_offsets to hold two integers");
            } else {
                fail("tensor '" + e.name + "' has an unknown key '" + key + "'");
            }
        } while (take(','));
        expect('}', "',' or '}' in a tensor entry");
        if (!dtype || !shape || !offsets)
            fail("tensor '" + e.name + "' lacks " + (!dtype ? "its dtype" : !shape ? "its shape" : "its data_offsets"));
        return e;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::string who_;
};

}  // namespace detail

}  // namespace scratchnet
