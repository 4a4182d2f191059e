// Uses the public contract of DESIGN.md from outside the repository: everything
// here must keep compiling and working for users.
#include <scratchnet/scratchnet.hpp>

#include <cstdlib>
#include <iostream>

namespace sn = scratchnet;

namespace {
// The loaders, compiled against their documented signatures (no data needed to build).
[[maybe_unused]] void loaders() {
    auto mnist = sn::load_mnist("data/mnist");
    [[maybe_unused]] const sn::Matrix<float>& images = mnist.train.images;
    [[maybe_unused]] const Eigen::VectorXi& labels = mnist.train.labels;
    auto raw = sn::read_idx("t10k-labels-idx1-ubyte.gz");
    [[maybe_unused]] std::size_t n = raw.dims[0] + raw.data.size();
    sn::Matrix<float> imgs = sn::read_mnist_images("t10k-images-idx3-ubyte.gz");
    Eigen::VectorXi l = sn::read_mnist_labels("t10k-labels-idx1-ubyte");
    try {
        sn::read_idx("missing");
    } catch (const sn::IdxError& e) {
        [[maybe_unused]] const std::runtime_error& base = e;
    }
}
}  // namespace

int main() {
    using Net = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    Net net(42);
    const sn::Matrix<float> X = (sn::Matrix<float>::Random(784, 64).array() * 0.5f + 0.5f).matrix();
    sn::Labels y(64);
    for (int j = 0; j < 64; ++j) y[j] = j % 10;
    const sn::Matrix<float> Y = sn::one_hot(y, 10);
    const sn::Matrix<float>& P = net.forward(X);
    float L = net.loss(X, Y);
    net.backward(Y);
    auto theta = net.parameters();
    auto grad = net.gradients();
    auto& W0 = net.layer<0>().weights();
    Eigen::VectorXi yhat = net.predict(X);
    sn::SGD sgd{0.1f};
    sgd.step(net);
    auto history = sn::fit(net, sgd, X, Y, {.epochs = 30, .batch_size = 16, .seed = 1});
    const double acc = sn::accuracy(net, X, y);

    sn::BasicNetwork<double, sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy> small(7);
    Eigen::MatrixXd X2(2, 4), Y2(2, 4);
    X2 << 0, 0, 1, 1, 0, 1, 0, 1;
    Y2 << 1, 0, 0, 1, 0, 1, 1, 0;
    auto report = sn::gradient_check(small, X2, Y2);
    auto float_report = sn::gradient_check(net, X.leftCols(4), Y.leftCols(4), {.sample = 200});

    // The contract as the open issues grow it.
    sn::FitOptions o;
    o.epochs = 2;
    o.batch_size = 16;
    o.seed = 9;
    o.threads = 2;
    const Eigen::VectorXf saved = net.parameters();
    net.set_parameters(saved);
    using Mlp = sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dropout<0.2>, sn::Dense<512, 512>, sn::ReLU,
                            sn::Dropout<0.2>, sn::Dense<512, 10>, sn::Softmax, sn::CrossEntropy>;
    Mlp mlp(1);
    sn::RMSprop rms{0.001f};
    const sn::History mlp_history = sn::fit(mlp, rms, X, y, o);
    sn::AdamW adamw{0.001f};
    o.schedule = sn::CosineDecay{.epochs = 2};
    o.validation_split = 16;
    o.early_stopping = {.patience = 5};
    const sn::History tools = sn::fit(mlp, adamw, X, y, o);

    // A plain build runs the best kernels the CPU has (isa.hpp), and the package
    // gave this file the heap alignment every scratchnet file shares.
    const bool fast_kernels = std::getenv("SCRATCHNET_ISA") != nullptr || sn::active_isa() == sn::cpu_isa();
    static_assert(EIGEN_MAX_ALIGN_BYTES == 64, "the package sets Eigen's heap alignment to 64 bytes");
    std::cout << "consumer: kernels on " << sn::isa_name(sn::active_isa()) << " (the CPU's best: "
              << sn::isa_name(sn::cpu_isa()) << ")\n";

    const bool ok = fast_kernels && mlp_history.size() == 2 && tools.back().validation_loss.has_value() && P.rows() == 10 && std::isfinite(L) && theta.size() == grad.size() && W0.rows() == 128 &&
                    yhat.size() == 64 && history.size() == 30 && acc > 0.9 && report && float_report;
    std::cout << "consumer: loss " << L << ", accuracy after fit " << acc << "\n  " << report << "\n  " << float_report
              << "\n";
    return ok ? 0 : 1;
}
