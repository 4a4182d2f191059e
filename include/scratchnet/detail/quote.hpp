#pragma once
// Text from a file, made safe to put in an exception's message: quoted, control
// bytes and bytes outside printable ASCII escaped (\n, \t, \xNN), and cut to a
// readable length. A hostile file decides what its fields say, never what
// reaches a user's terminal or log.

#include <cstddef>
#include <string>
#include <string_view>

namespace scratchnet::detail {

/// '"' + text, escaped, at most `limit` characters of it + '"' (then "... (N bytes)").
inline std::string quoted(std::string_view text, std::size_t limit = 40) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    std::size_t shown = 0;
    for (; shown < text.size() && shown < limit; ++shown) {
        const auto c = static_cast<unsigned char>(text[shown]);
        switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            default:
                if (c >= 0x20 && c < 0x7F) {
                    out += static_cast<char>(c);
                } else {
                    out += "\\x";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                }
        }
    }
    out += '"';
    if (shown < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

}  // namespace scratchnet::detail
