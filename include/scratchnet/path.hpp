#pragma once
// Path: the file or directory name that the loaders and save()/load() take.
//
// Why not std::filesystem::path? <filesystem> is one of the heaviest standard
// headers, and every translation unit that includes scratchnet.hpp would parse
// it, for three queries (does it exist, is it a directory, how big is it) that
// POSIX's stat() answers. scratchnet targets POSIX systems (Linux, macOS, the
// BSDs): the thread pool and this file use POSIX calls. Path converts implicitly from
// std::string, const char* and std::filesystem::path (anything with .string()),
// so callers pass whichever they hold.

#include <sys/stat.h>

#include <concepts>
#include <cstdint>
#include <string>
#include <utility>

namespace scratchnet {

class Path {
public:
    Path(std::string name) : name_(std::move(name)) {}
    Path(const char* name) : name_(name) {}
    template <class P>
        requires requires(const P& p) {
            { p.string() } -> std::convertible_to<std::string>;
        }
    Path(const P& path) : name_(path.string()) {}

    const std::string& string() const { return name_; }
    const char* c_str() const { return name_.c_str(); }

    /// dir / "name": joined with one '/', which Windows accepts too.
    Path operator/(const std::string& child) const {
        if (name_.empty() || name_.back() == '/') return Path(name_ + child);
        return Path(name_ + "/" + child);
    }

private:
    std::string name_;
};

namespace detail {

enum class FileKind { missing, regular, directory, other };

struct FileStatus {
    FileKind kind = FileKind::missing;
    std::uint64_t size = 0;  // bytes, for regular files
};

inline FileStatus file_status(const Path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return {};
    const auto type = info.st_mode & S_IFMT;
    const FileKind kind = type == S_IFREG ? FileKind::regular : type == S_IFDIR ? FileKind::directory : FileKind::other;
    return {kind, static_cast<std::uint64_t>(info.st_size)};
}

}  // namespace detail
}  // namespace scratchnet
