#pragma once
// A scratch directory per test case, removed afterwards.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace fixtures {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& kind = "test") {
        path = std::filesystem::temp_directory_path() /
               ("scratchnet-" + kind + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace fixtures
