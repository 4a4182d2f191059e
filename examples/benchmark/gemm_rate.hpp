#pragma once
// The machine's float GEMM rate, the yardstick of every GFLOP/s row: measured by
// the machine suite, and timed again beside mnist_cnn's convolutions.
#include "benchmark/benchmark.hpp"

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace bench {

/// The machine's float GEMM rate: `threads` independent 1536^3 GEMMs at once,
/// through Eigen's product or through the kernel under scratchnet's layers
/// (detail::GemmSite: scratchnet's own on AVX-512, Eigen's otherwise).
class GemmRate {
public:
    explicit GemmRate(int threads)
        : threads_(threads), A_(threads), B_(threads), C_(threads), sites_(static_cast<std::size_t>(threads)) {
        for (int t = 0; t < threads; ++t) {
            A_[t] = Eigen::MatrixXf::Random(kN, kN);
            B_[t] = Eigen::MatrixXf::Random(kN, kN);
            C_[t].resize(kN, kN);
        }
    }
    /// GFLOP/s of one round (the first round of each kind also warms up).
    double measure(bool scratchnet_kernel) {
        const auto round = [&] {
            std::vector<std::thread> pool;
            for (int k = 1; k < threads_; ++k) pool.emplace_back([&, k] { product(k, scratchnet_kernel); });
            product(0, scratchnet_kernel);
            for (auto& th : pool) th.join();
        };
        if (!warm_[scratchnet_kernel ? 1 : 0]) {
            round();
            warm_[scratchnet_kernel ? 1 : 0] = true;
        }
        const auto start = Clock::now();
        round();
        return 2.0 * kN * kN * kN * threads_ / seconds_since(start) / 1e9;
    }
    /// The faster of the two kernels, one round each.
    double best() { return std::max(measure(false), measure(true)); }

private:
    static constexpr int kN = 1536;
    void product(int k, bool scratchnet_kernel) {
        if (scratchnet_kernel)
            sites_[static_cast<std::size_t>(k)].run(kN, kN, kN, A_[k].data(), kN, B_[k].data(), kN, C_[k].data(), kN,
                                                    1.0f, false);
        else
            C_[k].noalias() = A_[k] * B_[k];
    }
    int threads_;
    std::vector<Eigen::MatrixXf> A_, B_, C_;
    std::vector<sn::detail::GemmSite<float, Eigen::ColMajor, Eigen::ColMajor>> sites_;
    bool warm_[2] = {false, false};
};

}  // namespace bench
