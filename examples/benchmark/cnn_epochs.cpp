// The convolutional networks' training epochs: LeNet-5, Keras' mnist_cnn and the
// README's ResNet, Adam at batch 128, on 1 and 2 threads; evaluate() of each on the
// test set on 1 and 2 threads; and the GFLOP/s of the products the first two run.
#include "benchmark/benchmark.hpp"
#include "benchmark/flops.hpp"
#include "common/resnet.hpp"

namespace bench {
namespace {

// Convolutional networks: epoch time with Adam at batch 128 on 1 and 2 threads,
// measured in turn after a warm-up, over the first `samples` training images
// (kTableNetworks says how many) and scaled to 60,000; the GFLOP/s of the products
// the network runs (for mnist_cnn's second convolution, Winograd's; its first, with
// one input channel, runs im2col), where flops_per_sample counts them (> 0).
template <class Net>
void bench_cnn(const char* label, double flops_per_sample, sn::Index samples, const sn::MnistSet<sn::ByteMatrix>& data,
               int reps, std::vector<Row>& rows, bool time_evaluate = false) {
    const sn::Index n = std::min(samples, data.train.images.cols());
    const auto X = data.train.images.leftCols(n);
    const auto y = data.train.labels.head(n);
    const double scale = 60000.0 / static_cast<double>(n);
    std::vector<double> times[2];
    for (int round = 0; round <= reps; ++round)
        for (int k = 0; k < 2; ++k) {
            const int which = (round + k) % 2;
            Net net(1);
            sn::Adam adam(1e-3f);
            const auto start = Clock::now();
            sn::fit(net, adam, X, y, {.epochs = 1, .batch_size = 128, .seed = 1, .threads = which == 0 ? 1u : 2u});
            if (round > 0) times[which].push_back(seconds_since(start) * scale);
        }
    const std::string p = std::string(label) + ": ";
    const double one = median(times[0]), two = median(times[1]);
    rows.push_back({p + "epoch, 1 thread (timed on " + std::to_string(n) + " samples)", one, "s"});
    rows.push_back({p + "epoch, 2 threads (timed on " + std::to_string(n) + " samples)", two, "s"});
    // evaluate() over the test set on 1 and 2 threads (blocks of samples), in turn.
    if (time_evaluate) {
    const Net untrained(1);
    std::vector<double> evaluate_times[2];
    for (int round = 0; round <= reps; ++round)
        for (int k = 0; k < 2; ++k) {
            const int which = (round + k) % 2;
            const auto start = Clock::now();
            const sn::Evaluation e = sn::evaluate(untrained, data.test.images, data.test.labels, which + 1u);
            if (!(e.loss > 0)) std::abort();
            if (round > 0) evaluate_times[which].push_back(seconds_since(start));
        }
    const double eval_one = median(evaluate_times[0]), eval_two = median(evaluate_times[1]);
    rows.push_back({p + "evaluate on the test set, 1 thread", eval_one, "s"});
    rows.push_back({p + "evaluate on the test set, 2 threads", eval_two, "s"});
    rows.push_back({p + "evaluate, 2 threads / 1 thread", eval_two / eval_one, "x"});
    }
    if (flops_per_sample <= 0) return;
    rows.push_back({p + "GEMM work per epoch", flops_per_sample * 60000.0 / 1e9, "GFLOP"});
    rows.push_back({p + "achieved, 1 thread", flops_per_sample * 60000.0 / one / 1e9, "GFLOP/s"});
    rows.push_back({p + "achieved, 2 threads", flops_per_sample * 60000.0 / two / 1e9, "GFLOP/s"});
}

}  // namespace

void cnn_epochs(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                              sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                              sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax, sn::CrossEntropy>;
    using MnistCnn = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                                 sn::MaxPool2D<2>, sn::Dropout<0.25>, sn::Flatten, sn::Dense<9216, 128>, sn::ReLU,
                                 sn::Dropout<0.5>, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    bench_cnn<LeNet>("lenet", conv_flops(1, 6, 5, 28, 28, true) + conv_flops(6, 16, 5, 10, 10, false) +
                                   dense_flops(400, 120) + dense_flops(120, 84) + dense_flops(84, 10),
                     table_samples("lenet"), data, reps, rows, true);
    bench_cnn<MnistCnn>("mnist_cnn", conv_flops(1, 32, 3, 26, 26, true) + mnist_cnn_conv2_flops() +
                                         dense_flops(9216, 128) + dense_flops(128, 10),
                        table_samples("mnist_cnn"), data, reps, rows);
    bench_cnn<examples::MnistResNet<sn::Softmax, sn::CrossEntropy>>("resnet", 0, table_samples("resnet"), data, reps, rows);
}

}  // namespace bench
