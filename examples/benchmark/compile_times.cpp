// Compile times: the compiler's CPU time on a file that only includes
// scratchnet.hpp, on one that only includes <Eigen/Core> for scale, and on the
// mnist example's two translation units, compiled as this build compiles
// (SCRATCHNET_BENCH_CXX and SCRATCHNET_BENCH_INCLUDES, set by CMake).
#include "benchmark/benchmark.hpp"

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>

namespace bench {
namespace {

/// CPU time (user + system) of the compiler: on a shared machine it varies less
/// than the wall time, which also counts waiting for a core.
double compile_seconds(const std::string& command) {
    const auto children_cpu = [] {
        rusage u{};
        getrusage(RUSAGE_CHILDREN, &u);
        const auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
        return sec(u.ru_utime) + sec(u.ru_stime);
    };
    const double before = children_cpu();
    const int rc = std::system(command.c_str());
    return rc == 0 ? children_cpu() - before : -1.0;
}

}  // namespace

void compile_times(std::vector<Row>& rows) {
    const std::string cxx = std::string(SCRATCHNET_BENCH_CXX) + " -std=c++20 -O3 -march=native " + SCRATCHNET_BENCH_INCLUDES;
    const fs::path tu = fs::temp_directory_path() / "scratchnet-include-only.cpp";
    const fs::path eigen_tu = fs::temp_directory_path() / "scratchnet-eigen-only.cpp";
    std::ofstream(tu) << "#include <scratchnet/scratchnet.hpp>\nint main() {}\n";
    std::ofstream(eigen_tu) << "#include <Eigen/Core>\nint main() {}\n";
    // Medians of three: a single compile on a shared machine varies by 20 %.
    const auto compile3 = [&](const fs::path& file) {
        std::vector<double> t;
        for (int r = 0; r < 3; ++r) t.push_back(compile_seconds(cxx + " -c " + file.string() + " -o /dev/null"));
        return median(t);
    };
    rows.push_back({"compile: a file that includes scratchnet.hpp (-O3, CPU)", compile3(tu), "s"});
    rows.push_back({"compile: a file that includes <Eigen/Core> (-O3, CPU), for scale", compile3(eigen_tu), "s"});
    // The mnist example is two translation units, built in parallel: the
    // network code, and its command line (CLI11).
    const std::string examples = std::string(SCRATCHNET_BENCH_SOURCE) + "/examples/";
    const double network_code = compile_seconds(cxx + " -c " + examples + "mnist.cpp -o /dev/null");
    const double command_line = compile_seconds(cxx + " -c " + examples + "mnist_options.cpp -o /dev/null");
    rows.push_back({"compile: examples/mnist.cpp (-O3, CPU)", network_code, "s"});
    rows.push_back({"compile: examples/mnist_options.cpp (CLI11; -O3, CPU)", command_line, "s"});
    fs::remove(eigen_tu);
    fs::remove(tu);
}

}  // namespace bench
