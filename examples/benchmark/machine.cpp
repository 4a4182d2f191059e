// The machine itself: its float GEMM rate through Eigen's kernel and through
// scratchnet's, on 1 and 2 threads, and what it costs to read data the other core
// has just written; then every network's achieved GFLOP/s as a share of the
// faster kernel's rate.
#include "benchmark/benchmark.hpp"
#include "benchmark/gemm_rate.hpp"

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>

namespace bench {
namespace {

double gemm_gflops(int threads, int reps, bool scratchnet_kernel) {
    GemmRate rate(threads);
    std::vector<double> r;
    for (int k = 0; k < reps; ++k) r.push_back(rate.measure(scratchnet_kernel));
    return median(r);
}

/// Microseconds to read `bytes` that the other core has just written, and that
/// this core has just written itself: what data-parallel training pays each
/// batch to move weights and gradients between the two cores.
std::pair<double, double> transfer_micros(std::size_t bytes, int reps) {
    // Integers, so that the compiler vectorises both loops: the reads then run
    // at the memory system's speed, not at the latency of a chain of float adds.
    std::vector<std::uint32_t> buffer(bytes / sizeof(std::uint32_t), 1u);
    std::atomic<int> turn{0};
    volatile std::uint32_t sink = 0;
    const auto write = [&] {
        for (std::uint32_t& x : buffer) x += 1u;
    };
    const auto read = [&] {
        std::uint32_t s = 0;
        for (std::uint32_t x : buffer) s += x;
        sink = s;
    };
    constexpr int rounds = 200;
    // Remote: the other thread writes, this one reads; alternate turns.
    std::vector<double> remote, local;
    for (int r = 0; r < reps; ++r) {
        double spent = 0;
        std::thread writer([&] {
            for (int i = 0; i < rounds; ++i) {
                while (turn.load(std::memory_order_acquire) != 2 * i) {
                }
                write();
                turn.store(2 * i + 1, std::memory_order_release);
            }
        });
        for (int i = 0; i < rounds; ++i) {
            while (turn.load(std::memory_order_acquire) != 2 * i + 1) {
            }
            const auto start = Clock::now();
            read();
            spent += seconds_since(start);
            turn.store(2 * i + 2, std::memory_order_release);
        }
        writer.join();
        turn.store(0);
        remote.push_back(spent / rounds * 1e6);
        spent = 0;
        for (int i = 0; i < rounds; ++i) {
            write();
            const auto start = Clock::now();
            read();
            spent += seconds_since(start);
        }
        local.push_back(spent / rounds * 1e6);
    }
    return {median(remote), median(local)};
}

}  // namespace

GemmRates machine(int reps, std::vector<Row>& rows) {
    const double e1 = gemm_gflops(1, reps, false), e2 = gemm_gflops(2, reps, false);
    const double s1 = gemm_gflops(1, reps, true), s2 = gemm_gflops(2, reps, true);
    rows.push_back({"machine: Eigen float GEMM 1536^3, 1 thread", e1, "GFLOP/s"});
    rows.push_back({"machine: Eigen float GEMM 1536^3, 2 threads", e2, "GFLOP/s"});
    rows.push_back({"machine: scratchnet's GEMM kernel 1536^3, 1 thread", s1, "GFLOP/s"});
    rows.push_back({"machine: scratchnet's GEMM kernel 1536^3, 2 threads", s2, "GFLOP/s"});
    // The machine's GEMM rate: the faster of the two.
    const double g1 = std::max(e1, s1), g2 = std::max(e2, s2);
    const auto [remote, local] = transfer_micros(400 * 1024, reps);
    rows.push_back({"machine: read 400 KB the other core just wrote", remote, "us"});
    rows.push_back({"machine: read 400 KB this core just wrote", local, "us"});
    return {g1, g2};
}

void gemm_shares(const GemmRates& rates, std::vector<Row>& rows) {
    const double g1 = rates.one_thread, g2 = rates.two_threads;
    rows.push_back({"mnist_cnn convolutions alone: share of the machine's best GEMM rate, 2 threads",
                    [&] {
                        for (const auto& r : rows)
                            if (r.name == "mnist_cnn convolutions alone: achieved, 2 threads") return r.value / g2;
                        return 0.0;
                    }(),
                    "x"});
    for (const char* label : {"784-128-10", "784-512-256-10", "lenet", "mnist_cnn"}) {
        const auto find = [&](const std::string& name) {
            for (const auto& r : rows)
                if (r.name == name) return r.value;
            return 0.0;
        };
        const std::string p = std::string(label) + ": ";
        rows.push_back({p + "share of the machine's best GEMM rate, 1 thread", find(p + "achieved, 1 thread") / g1, "x"});
        rows.push_back({p + "share of the machine's best GEMM rate, 2 threads", find(p + "achieved, 2 threads") / g2, "x"});
    }
}

}  // namespace bench
