#pragma once
// What the benchmark's suites share: a measurement is a Row (name, value, unit);
// each suite appends its rows in the order it measures them, and report() prints
// the rows as one table and writes them to benchmark.csv and benchmark.json.
// Times are medians of wall-clock repetitions.
#include <scratchnet/scratchnet.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

/// What a layer costs, from epochs of a network without it (`plain`) and with it
/// (`with`), each a function of the epoch's seed returning seconds. A cost of a few
/// per cent is smaller than the drift of a shared machine's speed within a minute,
/// so after one warm-up epoch each the two run back to back in pairs (order
/// alternating), three pairs per repetition; the cost is the median of the pairs'
/// ratios, with / plain - 1.
struct PairedEpochs {
    double plain, with, cost;  // median seconds, median seconds, median ratio - 1
};
inline PairedEpochs paired_epochs(int reps, const std::function<double(std::uint64_t)>& plain,
                                  const std::function<double(std::uint64_t)>& with) {
    plain(0);
    with(0);
    std::vector<double> t_plain, t_with, ratios;
    for (int r = 0; r < 3 * reps; ++r) {
        const auto seed = static_cast<std::uint64_t>(r + 1);
        double a = 0, b = 0;
        if (r % 2 == 0) {
            a = plain(seed);
            b = with(seed);
        } else {
            b = with(seed);
            a = plain(seed);
        }
        t_plain.push_back(a);
        t_with.push_back(b);
        ratios.push_back(b / a);
    }
    return {median(t_plain), median(t_with), median(ratios) - 1.0};
}

/// `s` in single quotes, for a POSIX shell.
inline std::string shell_quote(const std::string& s) {
    std::string quoted = "'";
    for (const char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

struct Row {
    std::string name;
    double value;
    std::string unit;
};

/// The value of the row called `name`, or of one called `name (...)` (the CNNs'
/// epoch rows say what they were timed on); none when the run did not measure it.
inline std::optional<double> find_row(const std::vector<Row>& rows, const std::string& name) {
    for (const auto& r : rows)
        if (r.name == name || r.name.starts_with(name + " (")) return r.value;
    return std::nullopt;
}

/// scratchnet's epoch time of a network on 1 or 2 threads (the dense suite's rows
/// say "scratchnet", the CNN suite's say what they were timed on).
inline std::optional<double> scratchnet_epoch(const std::vector<Row>& rows, const std::string& label, int threads) {
    const std::string t = threads == 1 ? "1 thread" : "2 threads";
    if (const std::optional<double> v = find_row(rows, label + ": epoch, scratchnet, " + t)) return v;
    return find_row(rows, label + ": epoch, " + t);
}

/// The networks of the README's table, by the label that opens their rows (also
/// benchmark_pytorch.py's name for them); the training samples their epochs are
/// timed on before scaling to 60,000 (a whole epoch of mnist_cnn takes most of a
/// minute here), which the PyTorch run times too; and whether the dense suite
/// times a hand-written loop of them.
struct TableNetwork {
    const char* label;
    const char* title;
    sn::Index samples;
    bool hand_written;
};
inline constexpr sn::Index kTrainSamples = 60000;
inline constexpr TableNetwork kTableNetworks[] = {{"784-128-10", "784-128-10 (the course's)", kTrainSamples, true},
                                                  {"784-512-256-10", "784-512-256-10", kTrainSamples, true},
                                                  {"lenet", "LeNet-5", kTrainSamples, false},
                                                  {"mnist_cnn", "Keras' mnist_cnn", 7680, false},
                                                  {"resnet", "the README's ResNet (BatchNorm)", 7680, false}};
inline constexpr sn::Index table_samples(std::string_view label) {
    for (const auto& n : kTableNetworks)
        if (label == n.label) return n.samples;
    return kTrainSamples;
}

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
/// cnn_epochs.cpp: LeNet's, mnist_cnn's and the README's ResNet's training epochs,
/// and the GFLOP/s of the first two.
void cnn_epochs(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// consumer_build.cpp: the course network's and LeNet's epochs built as a consumer
/// builds (plain -O3) against the -march=native build, run in turn (needs MNIST).
void consumer_build(const fs::path& data_dir, int reps, std::vector<Row>& rows);
/// batch_norm.cpp: what BatchNorm costs, from paired epochs of the ResNet with and without it.
void batch_norm_cost(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// convolutions.cpp: mnist_cnn's convolutions alone against the GEMM rate.
void convolutions(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows);
/// machine.cpp: the machine's GEMM rates and what reading the other core's writes costs.
GemmRates machine(int reps, std::vector<Row>& rows);
/// machine.cpp: each network's GFLOP/s (rows already measured) as a share of `rates`.
void gemm_shares(const GemmRates& rates, std::vector<Row>& rows);
/// compile_times.cpp: the compiler's CPU time on scratchnet.hpp, Eigen and the mnist example.
void compile_times(std::vector<Row>& rows);

/// pytorch.cpp, with --pytorch: how to run examples/benchmark_pytorch.py.
struct PytorchRun {
    fs::path script;
    std::string python;  ///< the interpreter; empty: python3, then /usr/bin/python3
    fs::path data_dir;
    bool synthetic;      ///< the suites ran on synthetic data: so does the script
    int reps;
};
/// What the PyTorch run found: whether it measured anything, and a sentence for
/// the table's caption (its version, or why there are no PyTorch figures).
struct Pytorch {
    bool measured;
    std::string about;
};
/// pytorch.cpp: times the table's networks in PyTorch with the script, and adds
/// its epoch rows and scratchnet's ratio to them. Never fails: a missing python3,
/// torch or script is said in `about`.
Pytorch pytorch(const PytorchRun& run, std::vector<Row>& rows);

/// report.cpp: prints the rows and writes them to out/benchmark.csv and out/benchmark.json.
void report(const std::vector<Row>& rows, const std::string& source, int reps, const fs::path& out);

/// markdown.cpp, with --markdown: what the table's caption says about the run.
struct RunInfo {
    std::string command;  ///< the command line, as typed
    std::string source;   ///< Data::source
    int reps;
    std::string pytorch;  ///< Pytorch::about
};
/// markdown.cpp: the README's performance table, from this run's rows alone.
void markdown(const std::vector<Row>& rows, const RunInfo& run);

}  // namespace bench
