#pragma once
// Pictures for the examples, drawn by gnuplot (Debian's gnuplot-nox, pngcairo
// terminal) through a pipe. The data always goes to CSV first, so a machine
// without gnuplot still gets the numbers; it is told so instead of getting a PNG.
// Example code, not library code: the library itself never prints.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace examples {

inline bool gnuplot_available() {
    static const bool available = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
    return available;
}

/// Runs a gnuplot script; returns false (after saying why) if gnuplot is missing or fails.
inline bool gnuplot(const std::string& script, const std::filesystem::path& png) {
    if (!gnuplot_available()) {
        std::cerr << "note: gnuplot not found (apt-get install gnuplot-nox); skipped " << png.string()
                  << ", the data is in the CSV beside it\n";
        return false;
    }
    FILE* pipe = popen("gnuplot", "w");
    if (pipe == nullptr) return false;
    std::fputs(script.c_str(), pipe);
    const int status = pclose(pipe);
    if (status != 0) std::cerr << "note: gnuplot failed drawing " << png.string() << "\n";
    return status == 0;
}

inline std::ofstream open_csv(const std::filesystem::path& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    return out;
}

}  // namespace examples
