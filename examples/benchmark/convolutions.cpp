// mnist_cnn's convolutions alone: their rate, and its share of the machine's GEMM
// rate timed beside them.
#include "benchmark/benchmark.hpp"
#include "benchmark/flops.hpp"
#include "benchmark/gemm_rate.hpp"

namespace bench {

// The convolutions of mnist_cnn alone (conv 32@3x3, ReLU, conv 64@3x3, ReLU, under
// MSE): a batch gradient of 128 samples on 2 threads, as fit computes it.
void convolutions(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using Convs = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                              sn::MeanSquaredError>;
    Convs net(1);
    const sn::Matrix<float> X = data.train.images.leftCols(128).cast<float>() / 255.0f;
    const sn::Matrix<float> Y = sn::Matrix<float>::Zero(Convs::output_size, 128);
    sn::detail::BatchGradient<Convs> gradient(2, 64);
    const int batches = 20;
    gradient.run(net, X, Y);
    // Each repetition times the convolutions and then the machine's GEMM rate, so
    // that the share compares two rates of the same moment: this machine's second
    // core comes and goes within a run.
    GemmRate gemm(2);
    std::vector<double> times, shares;
    const double flops = (conv_flops(1, 32, 3, 26, 26, true) + mnist_cnn_conv2_flops()) * 128 * batches;
    const double direct = (conv_flops(1, 32, 3, 26, 26, true) + conv_flops(32, 64, 3, 24, 24, false)) * 128 * batches;
    for (int r = 0; r < std::max(reps, 3); ++r) {
        const auto start = Clock::now();
        for (int b = 0; b < batches; ++b) gradient.run(net, X, Y);
        const double t = seconds_since(start);
        times.push_back(t);
        shares.push_back(flops / t / 1e9 / gemm.best());
    }
    const double t = median(times);
    rows.push_back({"mnist_cnn convolutions alone: achieved, 2 threads", flops / t / 1e9, "GFLOP/s"});
    rows.push_back(
        {"mnist_cnn convolutions alone: direct-convolution work per second, 2 threads", direct / t / 1e9, "GFLOP/s"});
    rows.push_back({"mnist_cnn convolutions alone: share of the GEMM rate timed beside them, 2 threads",
                    median(shares), "x"});
}

}  // namespace bench
