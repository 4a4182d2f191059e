// scratchnet's benchmark: training epochs against a hand-written Eigen loop of the
// same network in the same run, achieved GFLOP/s against the machine's GEMM rate,
// inference throughput, MNIST load times, 1 vs 2 threads and compile times.
// Prints a table and writes benchmark.csv and benchmark.json. Uses the real MNIST
// data when present, synthetic data of the same shape otherwise.
//
// This file reads the flags and runs the suites in order; each suite is a file of
// its own beside it (benchmark.hpp lists them).
#include "benchmark/benchmark.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    int reps = 5;
    fs::path data_dir = SCRATCHNET_DEFAULT_MNIST_DIR;
    if (const char* env = std::getenv("SCRATCHNET_MNIST_DIR"); env != nullptr && *env != '\0') data_dir = env;
    fs::path out = ".";
    bool compile = true;
    bool dropout_only = false;
    CLI::App app{"scratchnet benchmark"};
    app.add_option("--reps", reps, "repetitions per measurement (the median is reported)")->capture_default_str();
    app.add_option("--data", data_dir, "MNIST directory (synthetic data when missing)")->capture_default_str();
    app.add_option("--out", out, "directory for benchmark.csv and benchmark.json")->capture_default_str();
    app.add_flag("!--no-compile", compile, "skip the compile-time measurements");
    app.add_flag("--dropout-only", dropout_only, "measure only what Dropout costs (3 x --reps pairs of epochs)");
    CLI11_PARSE(app, argc, argv);

    std::vector<bench::Row> rows;
    const bench::Data data = bench::load_data(data_dir, reps, rows);
    std::cout << "data: " << data.source << "\nreps: " << reps << " (medians)\n" << std::flush;
    if (dropout_only) {
        bench::dropout_cost(data.mnist, reps, rows);
        bench::report(rows, data.source, reps, out);
        return 0;
    }
    bench::dense_epochs(data.mnist, reps, rows);
    bench::dropout_cost(data.mnist, reps, rows);
    bench::cnn_epochs(data.mnist, reps, rows);
    bench::convolutions(data.mnist, reps, rows);
    const bench::GemmRates rates = bench::machine(reps, rows);
    bench::gemm_shares(rates, rows);
    if (compile) bench::compile_times(rows);
    bench::report(rows, data.source, reps, out);
}
