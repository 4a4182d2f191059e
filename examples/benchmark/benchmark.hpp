#pragma once
// What the benchmark's suites share: a measurement is a Row (name, value, unit);
// each suite appends its rows in the order it measures them, and report() prints
// the rows as one table and writes them to benchmark.csv and benchmark.json.
// Times are medians of wall-clock repetitions.
#include <scratchnet/scratchnet.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sn = scratchnet;
namespace fs = std::filesystem;

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Median wall time of f over `reps` runs (after one warm-up run).
inline double time_median(int reps, const std::function<void()>& f) {
    f();
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto start = Clock::now();
        f();
        t.push_back(seconds_since(start));
    }
    return median(t);
}

struct Row {
    std::string name;
    double value;
    std::string unit;
};

/// The training data every suite runs on, and where it came from ("MNIST <dir>",
/// or "synthetic data (<why>)").
struct Data {
    sn::MnistSet<sn::ByteMatrix> mnist;
    std::string source;
};

/// The machine's float GEMM rate, the faster of Eigen's kernel and scratchnet's.
struct GemmRates {
    double one_thread;
    double two_threads;
};

// The suites, in the order main runs them; each file says how it measures.

/// data.cpp: MNIST from `dir` (load times, raw and gzip), or synthetic data of the
/// same shape when it cannot be read.
Data load_data(const fs::path& dir, int reps, std::vector<Row>& rows);
/// dense_epochs.cpp: the MLPs' training epochs against a hand-written Eigen loop,
/// their GFLOP/s, and predict's throughput.
void dense_epochs(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// dropout.cpp: what Dropout costs, from paired epochs with and without it.
void dropout_cost(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// cnn_epochs.cpp: LeNet's and mnist_cnn's training epochs and GFLOP/s.
void cnn_epochs(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// convolutions.cpp: mnist_cnn's convolutions alone against the GEMM rate.
void convolutions(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// machine.cpp: the machine's GEMM rates and what reading the other core's writes costs.
GemmRates machine(int reps, std::vector<Row>& rows);
/// machine.cpp: each network's GFLOP/s (rows already measured) as a share of `rates`.
void gemm_shares(const GemmRates& rates, std::vector<Row>& rows);
/// compile_times.cpp: the compiler's CPU time on scratchnet.hpp, Eigen and the mnist example.
void compile_times(std::vector<Row>& rows);

/// report.cpp: prints the rows and writes them to out/benchmark.csv and out/benchmark.json.
void report(const std::vector<Row>& rows, const std::string& source, int reps, const fs::path& out);

}  // namespace bench
