// scratchnet's benchmark: training epochs against a hand-written Eigen loop of the
// same network in the same run, achieved GFLOP/s against the machine's GEMM rate,
// inference throughput, MNIST load times, 1 vs 2 threads and compile times.
// Prints a table and writes benchmark.csv and benchmark.json. Uses the real MNIST
// data when present, synthetic data of the same shape otherwise. --pytorch times
// the same networks in PyTorch in the same run (examples/benchmark_pytorch.py);
// --markdown ends with the README's performance table.
//
// This file reads the flags and runs the suites in order; each suite is a file of
// its own beside it (benchmark.hpp lists them).
#include "benchmark/benchmark.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

/// The command line as typed, quoted where a shell would need it.
std::string command_line(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789_./=,:+-@%") == std::string::npos;
        line += (i > 0 ? " " : "") + (plain ? arg : bench::shell_quote(arg));
    }
    return line;
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 5;
    fs::path data_dir = SCRATCHNET_DEFAULT_MNIST_DIR;
    if (const char* env = std::getenv("SCRATCHNET_MNIST_DIR"); env != nullptr && *env != '\0') data_dir = env;
    fs::path out = ".";
    bool compile = true;
    bool dropout_only = false;
    bool batch_norm_only = false;
    bool markdown = false;
    bool pytorch = false;
    fs::path pytorch_script = SCRATCHNET_PYTORCH_SCRIPT;
    std::string python;
    CLI::App app{"scratchnet benchmark"};
    app.add_option("--reps", reps, "repetitions per measurement (the median is reported)")->capture_default_str();
    app.add_option("--data", data_dir, "MNIST directory (synthetic data when missing)")->capture_default_str();
    app.add_option("--out", out, "directory for benchmark.csv and benchmark.json")->capture_default_str();
    app.add_flag("!--no-compile", compile, "skip the compile-time measurements");
    app.add_flag("--dropout-only", dropout_only, "measure only what Dropout costs (3 x --reps pairs of epochs)");
    app.add_flag("--batch-norm-only", batch_norm_only,
                 "measure only what BatchNorm costs in the README's ResNet (3 x --reps pairs of epochs)");
    app.add_flag("--markdown", markdown, "end with the README's performance table, as markdown");
    app.add_flag("--pytorch", pytorch, "time the same networks in PyTorch too (python3 with torch; n/a without)");
    app.add_option("--pytorch-script", pytorch_script, "the script --pytorch runs")->capture_default_str();
    app.add_option("--python", python, "the interpreter --pytorch runs it with (default: python3, then /usr/bin/python3)");
    CLI11_PARSE(app, argc, argv);

    std::vector<bench::Row> rows;
    const bench::Data data = bench::load_data(data_dir, reps, rows);
    std::cout << "data: " << data.source << "\nreps: " << reps << " (medians)\n" << std::flush;
    if (dropout_only || batch_norm_only) {
        if (dropout_only) bench::dropout_cost(data.mnist, reps, rows);
        if (batch_norm_only) bench::batch_norm_cost(data.mnist, reps, rows);
    } else {
        bench::dense_epochs(data.mnist, reps, rows);
        bench::dropout_cost(data.mnist, reps, rows);
        bench::cnn_epochs(data.mnist, reps, rows);
        bench::consumer_build(data_dir, std::max(reps, 3), rows);
        bench::batch_norm_cost(data.mnist, reps, rows);
        bench::convolutions(data.mnist, reps, rows);
        const bench::GemmRates rates = bench::machine(reps, rows);
        bench::gemm_shares(rates, rows);
        if (compile) bench::compile_times(rows);
    }
    std::string torch = "PyTorch: not run (no --pytorch)";
    if (pytorch) {
        torch = bench::pytorch({.script = pytorch_script,
                                .python = python,
                                .data_dir = data_dir,
                                .synthetic = data.source.starts_with("synthetic"),
                                .reps = reps},
                               rows)
                    .about;
        std::cout << torch << "\n";
    }
    bench::report(rows, data.source, reps, out);
    if (markdown)
        bench::markdown(rows, {.command = command_line(argc, argv), .source = data.source, .reps = reps, .pytorch = torch});
}
