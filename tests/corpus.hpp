#pragma once
// When SCRATCHNET_FUZZ_CORPUS names a directory, the tests that write good and bad
// files also drop a copy into <dir>/<kind>/, which seeds the fuzzers in CI.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace test_corpus {

inline void add(const std::string& kind, const std::string& bytes) {
    const char* dir = std::getenv("SCRATCHNET_FUZZ_CORPUS");
    if (dir == nullptr || *dir == '\0') return;
    const std::filesystem::path d = std::filesystem::path(dir) / kind;
    std::filesystem::create_directories(d);
    std::ofstream(d / std::to_string(std::hash<std::string>{}(bytes)), std::ios::binary) << bytes;
}

}  // namespace test_corpus
