// The README's performance table, printed by --markdown at the end of a run,
// ready to paste: the command that produced it, the machine and its GEMM rate in
// this run, a caption, and one line per network of kTableNetworks. Every figure
// is one of this run's rows; one the run did not measure reads "n/a".
#include "benchmark/benchmark.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

namespace bench {
namespace {

std::string format(const char* spec, double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, spec, v);
    return buffer;
}

/// Three significant digits: 0.658 s, 2.95 s, 73.0 s; whole seconds from 100 on.
std::string seconds(std::optional<double> s) {
    if (!s) return "n/a";
    return (*s >= 100 ? format("%.0f", *s) : format("%#.3g", *s)) + " s";
}

/// 60000 -> "60,000".
std::string thousands(sn::Index n) {
    const std::string digits = std::to_string(n);
    std::string s;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
        s += digits[i];
    }
    return s;
}

std::string ratio(std::optional<double> r) { return r ? format("%.2f", *r) : "n/a"; }

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t\"");
    const auto end = s.find_last_not_of(" \t\"");
    return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

/// "AMD EPYC, 2 cores", from /proc/cpuinfo where there is one.
std::string cpu() {
    std::ifstream in("/proc/cpuinfo");
    std::string model, physical;
    std::set<std::string> cores;  // "physical id/core id"
    unsigned logical = 0;
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (key == "processor") ++logical;
        else if (key == "model name" && model.empty()) model = value;
        else if (key == "physical id") physical = value;
        else if (key == "core id") cores.insert(physical + "/" + value);
    }
    if (logical == 0) logical = std::thread::hardware_concurrency();
    if (model.empty()) model = "CPU model unknown";
    if (!cores.empty() && cores.size() != logical)
        return model + ", " + std::to_string(cores.size()) + " cores (" + std::to_string(logical) + " hardware threads)";
    return model + ", " + std::to_string(logical) + " cores";
}

/// The instruction set scratchnet's kernels run on, chosen at run time (isa.hpp).
std::string kernel_isa() {
    switch (scratchnet::active_isa()) {
        case scratchnet::Isa::avx512: return "AVX-512 (scratchnet's GEMM kernel, chosen at run time)";
        case scratchnet::Isa::avx2: return "AVX2 and FMA (scratchnet's GEMM kernel, chosen at run time)";
        default: return std::string(Eigen::SimdInstructionSetsInUse()) + " (Eigen's GEMM kernel)";
    }
}

std::string operating_system() {
    std::ifstream in("/etc/os-release");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("PRETTY_NAME=")) return trim(line.substr(12));
    return "";
}

std::string compiler() {
#if defined(__clang__)
    return trim("clang++ " __clang_version__);
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "an unknown compiler";
#endif
}

/// The machine's GEMM rate in this run: the faster of the two kernels' rows.
std::optional<double> gemm_rate(const std::vector<Row>& rows, int threads) {
    const std::string t = threads == 1 ? ", 1 thread" : ", 2 threads";
    const std::optional<double> eigen = find_row(rows, "machine: Eigen float GEMM 1536^3" + t);
    const std::optional<double> own = find_row(rows, "machine: scratchnet's GEMM kernel 1536^3" + t);
    if (eigen && own) return std::max(*eigen, *own);
    return eigen ? eigen : own;
}

}  // namespace

void markdown(const std::vector<Row>& rows, const RunInfo& run) {
    std::ostream& out = std::cout;
    out << "\nMeasured by `" << run.command << "`.\n\n";

    out << "Machine: " << cpu() << ", kernels on " << kernel_isa();
    if (const std::string os = operating_system(); !os.empty()) out << "; " << os;
    out << ", " << compiler() << ", `" << trim(SCRATCHNET_BENCH_FLAGS) << "`. ";
    const std::optional<double> g1 = gemm_rate(rows, 1), g2 = gemm_rate(rows, 2);
    if (g1 && g2)
        out << "Float GEMM rate in this run (1536^3, the faster of Eigen's and scratchnet's kernels): "
            << format("%.0f", *g1) << " GFLOP/s on 1 thread, " << format("%.0f", *g2) << " GFLOP/s on 2.\n\n";
    else
        out << "Float GEMM rate: not measured in this run.\n\n";

    const bool synthetic = run.source.starts_with("synthetic");
    out << "Seconds per epoch of " << (synthetic ? "synthetic data of MNIST's shape" : "MNIST") << " ("
        << thousands(kTrainSamples) << " samples, batch 128; SGD 0.01 for the MLPs, Adam for the CNNs";
    for (const auto& n : kTableNetworks)
        if (n.samples != kTrainSamples)
            out << "; " << n.title << " timed on its first " << thousands(n.samples) << " and scaled";
    out << "), medians of " << run.reps << " after a warm-up. " << run.pytorch << ":\n\n";

    out << "| network | scratchnet, 1 thread | scratchnet, 2 threads | hand-written Eigen loop, 1 thread"
           " | scratchnet / hand-written, 1 thread | PyTorch | scratchnet 2 threads / PyTorch |\n"
           "|---|---|---|---|---|---|---|\n";
    for (const auto& n : kTableNetworks) {
        const std::string p = std::string(n.label) + ": ";
        const std::optional<double> vs_torch = find_row(rows, p + "ratio scratchnet 2 threads / PyTorch");
        // The CNNs have no hand-written loop: their cells stay empty, not n/a.
        const std::string cells[] = {
            n.title,
            seconds(scratchnet_epoch(rows, n.label, 1)),
            seconds(scratchnet_epoch(rows, n.label, 2)),
            n.hand_written ? seconds(find_row(rows, p + "epoch, hand-written Eigen loop")) : "",
            n.hand_written ? ratio(find_row(rows, p + "ratio scratchnet 1 thread / hand-written")) : "",
            seconds(find_row(rows, p + "epoch, PyTorch, its best thread count")),
            vs_torch ? "**" + ratio(vs_torch) + "**" : "n/a"};
        out << "|";
        for (const std::string& cell : cells) out << (cell.empty() ? " |" : " " + cell + " |");
        out << "\n";
    }

    const auto percent = [](std::optional<double> cost) { return cost ? format("%+.1f %%", 100 * *cost) : "n/a"; };
    out << "\nWhat a layer adds to an epoch, 2 threads, median of back-to-back pairs of epochs with and without it: "
        << "BatchNorm in the ResNet "
        << percent(find_row(rows, "resnet: BatchNorm's cost (median of paired with / without - 1)"))
        << ", Dropout 0.2 x 2 in 784-512-512-10 "
        << percent(find_row(rows, "784-512-512-10 RMSprop: Dropout's cost (median of paired with / without - 1)"))
        << ".\n";
    out << "\nThreads: the course network beside one busy process pinned to a core, default threads / 1 thread "
        << ratio(find_row(rows, "784-128-10: beside one busy process, default threads / 1 thread"))
        << "; LeNet's evaluate on the 10,000 test images, 2 threads / 1 thread "
        << ratio(find_row(rows, "lenet: evaluate, 2 threads / 1 thread")) << ".\n";
    out << "\nA consumer's build (`find_package(scratchnet)`, CMake's plain Release flags) against this -march=native "
           "build, one thread, epochs run in turn: course network "
        << ratio(find_row(rows, "784-128-10: consumer's build / native build")) << ", LeNet "
        << ratio(find_row(rows, "lenet: consumer's build / native build")) << ", Keras' mnist_cnn "
        << ratio(find_row(rows, "mnist_cnn: consumer's build / native build")) << ".\n";
}

}  // namespace bench
