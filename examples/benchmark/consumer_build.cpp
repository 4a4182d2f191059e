// A consumer's build against the project's: the same epochs (tests/consumer/epochs.cpp)
// built with plain Release flags and with -march=native, run in turn as separate
// programs, medians of their ratios. Kernels chosen at run time (isa.hpp) should
// make the two nearly equal.
#include "benchmark/benchmark.hpp"

#include <cstdio>
#include <map>
#include <sstream>

namespace bench {
namespace {

/// The "<network> <seconds>" lines of one run of `program`, or nothing if it failed.
std::map<std::string, double> run_epochs(const std::string& program, const fs::path& data_dir) {
    std::map<std::string, double> out;
    FILE* pipe = ::popen((shell_quote(program) + " " + shell_quote(data_dir.string()) + " 2>/dev/null").c_str(), "r");
    if (pipe == nullptr) return out;
    char line[256];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        std::istringstream in(line);
        std::string name;
        double value = 0;
        if (in >> name >> value) out[name] = value;
    }
    if (::pclose(pipe) != 0) out.clear();
    return out;
}

}  // namespace

void consumer_build(const fs::path& data_dir, int reps, std::vector<Row>& rows) {
    std::map<std::string, std::vector<double>> consumer, native, ratio;
    for (int round = 0; round < reps; ++round) {
        // Alternate which goes first: the first after other work was seen to pay for it.
        std::map<std::string, double> c, n;
        if (round % 2 == 0) {
            c = run_epochs(SCRATCHNET_BENCH_CONSUMER_EPOCHS, data_dir);
            n = run_epochs(SCRATCHNET_BENCH_NATIVE_EPOCHS, data_dir);
        } else {
            n = run_epochs(SCRATCHNET_BENCH_NATIVE_EPOCHS, data_dir);
            c = run_epochs(SCRATCHNET_BENCH_CONSUMER_EPOCHS, data_dir);
        }
        if (c.empty() || n.empty()) return;  // no MNIST files: the programs need them
        for (const char* network : {"course", "lenet", "mnist_cnn"}) {
            if (!c.count(network) || !n.count(network)) continue;
            consumer[network].push_back(c[network]);
            native[network].push_back(n[network]);
            ratio[network].push_back(c[network] / n[network]);
        }
    }
    for (const auto& [network, label] : {std::pair<std::string, std::string>{"course", "784-128-10"},
                                         {"lenet", "lenet"}, {"mnist_cnn", "mnist_cnn"}}) {
        if (ratio[network].empty()) continue;
        const std::string p = label + ": ";
        rows.push_back({p + "epoch, 1 thread, consumer's plain -O3 build", median(consumer[network]), "s"});
        rows.push_back({p + "epoch, 1 thread, -march=native build", median(native[network]), "s"});
        rows.push_back({p + "consumer's build / native build", median(ratio[network]), "x"});
    }
}

}  // namespace bench
