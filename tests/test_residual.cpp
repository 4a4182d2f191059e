// Residual<...> and GlobalAvgPool2D: outputs and every gradient against
// computations written out here, gradient_check through nested blocks and a
// projection shortcut, and bit-identical training for any thread count.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <cmath>

namespace sn = scratchnet;

namespace {

using Flat = sn::BasicNetwork<double, sn::Dense<3, 3>, sn::Residual<sn::Dense<3, 3>, sn::Tanh, sn::Dense<3, 3>>,
                              sn::Identity, sn::MeanSquaredError>;

}  // namespace

TEST_CASE("Residual: y = x + f(x), and its gradients, as written out by hand") {
    Flat net(3);
    static_assert(Flat::parameter_count == 3 * 12);
    const auto& block = net.layer<1>();
    const Eigen::MatrixXd W0 = net.layer<0>().weights(), W1 = block.main_layer<0>().weights(),
                          W2 = block.main_layer<2>().weights();
    const Eigen::VectorXd b0 = net.layer<0>().bias(), b1 = block.main_layer<0>().bias(),
                          b2 = block.main_layer<2>().bias();
    Eigen::MatrixXd X(3, 2), Y(3, 2);
    X << 0.5, -1, 2, 0.25, -0.75, 1;
    Y << 1, 0, 0, 1, 0.5, -0.5;

    // Forward by hand: h = W0 x + b0, a = tanh(W1 h + b1), y = h + W2 a + b2.
    const Eigen::MatrixXd H = (W0 * X).colwise() + b0;
    const Eigen::MatrixXd A = ((W1 * H).colwise() + b1).array().tanh().matrix();
    const Eigen::MatrixXd P = H + ((W2 * A).colwise() + b2);
    const Eigen::MatrixXd out = net.forward(X);
    CHECK((out - P).cwiseAbs().maxCoeff() < 1e-14);

    // Backward by hand for the mean over the batch of MSE (1/3 sum over outputs):
    // dP = 2 (P - Y) / (3 B); the block passes dP to its input unchanged and through f.
    net.loss(X, Y);
    net.backward(Y);
    const Eigen::MatrixXd dP = 2.0 * (P - Y) / 6.0;
    const Eigen::MatrixXd dA = W2.transpose() * dP;
    const Eigen::MatrixXd dZ1 = (dA.array() * (1 - A.array().square())).matrix();
    const Eigen::MatrixXd dH = dP + W1.transpose() * dZ1;  // the shortcut's dP plus the path's
    Eigen::VectorXd expected(36);
    Eigen::MatrixXd dW0 = dH * X.transpose(), dW1 = dZ1 * H.transpose(), dW2 = dP * A.transpose();
    expected << Eigen::Map<Eigen::VectorXd>(dW0.data(), 9), dH.rowwise().sum(),
        Eigen::Map<Eigen::VectorXd>(dW1.data(), 9), dZ1.rowwise().sum(), Eigen::Map<Eigen::VectorXd>(dW2.data(), 9),
        dP.rowwise().sum();
    CHECK((net.gradients() - expected).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("GlobalAvgPool2D averages each channel, and spreads the gradient evenly") {
    using Net = sn::BasicNetwork<double, sn::Input<2, 2, 3>, sn::GlobalAvgPool2D, sn::Dense<2, 1>, sn::Identity,
                                 sn::MeanSquaredError>;
    Net net(1);
    net.layer<1>().weights() << 1, 0;  // output = channel 0's mean
    net.layer<1>().bias() << 0;
    Eigen::MatrixXd X(12, 1), Y(1, 1);
    X << 1, 2, 3, 4, 5, 6,  // channel 0: mean 3.5
        -1, -1, -1, -1, -1, 5;  // channel 1: mean 0
    Y << 0.5;
    CHECK(net.forward(X)(0, 0) == doctest::Approx(3.5));
    CHECK(sn::Network<sn::Input<3, 4, 4>, sn::GlobalAvgPool2D, sn::Dense<3, 2>, sn::Softmax,
                      sn::CrossEntropy>::output_shape(0) == sn::Shape{3, 1, 1});
    // dL/dw = 2 (3.5 - 0.5) * channel mean: 6 * 3.5 for channel 0, 6 * 0 for channel 1.
    net.loss(X, Y);
    net.backward(Y);
    CHECK(net.gradients()[0] == doctest::Approx(21.0));
    CHECK(net.gradients()[1] == doctest::Approx(0.0));
}

TEST_CASE("gradient_check passes through nested Residual blocks and a projection shortcut") {
    using Net = sn::BasicNetwork<
        double, sn::Input<2, 7, 7>, sn::Conv2D<2, 4, 3, 1, 1>, sn::Tanh,
        sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::Tanh, sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::Tanh>>,
        sn::Residual<sn::Conv2D<4, 8, 3, 2, 1>, sn::Tanh, sn::Shortcut<sn::Conv2D<4, 8, 1, 2>>>, sn::GlobalAvgPool2D,
        sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    CHECK(Net::architecture() ==
          "Input<2,7,7>,Conv2D<2,4,3,1,1>:4x7x7,Tanh:4x7x7,"
          "Residual<Conv2D<4,4,3,1,1>,Tanh,Residual<Conv2D<4,4,3,1,1>,Tanh>>:4x7x7,"
          "Residual<Conv2D<4,8,3,2,1>,Tanh,Shortcut<Conv2D<4,8,1,2,0>>>:8x4x4,GlobalAvgPool2D:8,Dense<8,3>:3,"
          "Softmax:3,CrossEntropy");
    Net net(2);
    sn::Rng rng(4);
    Eigen::MatrixXd X(98, 5), Y = Eigen::MatrixXd::Zero(3, 5);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = sn::detail::uniform(rng, -1, 1);
    for (int j = 0; j < 5; ++j) Y(j % 3, j) = 1;
    const sn::GradientCheckReport r = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(r, r);
    CHECK(r.checked == Net::parameter_count);
}

TEST_CASE("a residual network trains to the same bits on 1 and 2 threads") {
    using Net = sn::Network<sn::Input<1, 8, 8>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU,
                            sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::ReLU, sn::Conv2D<4, 4, 3, 1, 1>>, sn::ReLU,
                            sn::GlobalAvgPool2D, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;
    // Class 1: a bright upper half; class 0: a bright lower half; plus noise.
    sn::Matrix<float> X(64, 256);
    sn::Labels y(256);
    sn::Rng rng(7);
    for (Eigen::Index j = 0; j < 256; ++j) {
        y[j] = static_cast<int>(j % 2);
        for (Eigen::Index p = 0; p < 64; ++p) {
            const bool upper = p < 32;
            X(p, j) = static_cast<float>((upper == (y[j] == 1) ? 1.0 : 0.0) + 0.3 * sn::detail::normal(rng));
        }
    }
    auto train = [&](unsigned threads) {
        Net net(1);
        sn::Adam adam(0.01f);
        const sn::History h =
            sn::fit(net, adam, X, y, {.epochs = 5, .batch_size = 32, .seed = 2, .threads = threads, .chunk_size = 8});
        CHECK(h.threads == threads);
        return std::pair{sn::Vector<float>(net.parameters()), h.back().accuracy};
    };
    const auto [one, accuracy] = train(1);
    const auto [two, accuracy2] = train(2);
    CHECK(one == two);
    CHECK(accuracy == accuracy2);
    CHECK(accuracy > 0.95);
}

TEST_CASE("inference batches are sized by every buffer of a pass, a Residual block's inner outputs included") {
    using Net = sn::Network<sn::Input<4, 28, 28>, sn::Conv2D<4, 16, 3, 1, 1>, sn::ReLU,
                            sn::Residual<sn::Conv2D<16, 16, 3, 1, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<16, 16, 3, 1, 1>>,
                            sn::ReLU, sn::GlobalAvgPool2D, sn::Dense<16, 2>, sn::Softmax, sn::CrossEntropy>;
    constexpr sn::Index image = 16 * 28 * 28;
    // Top level: the first convolution (its ReLU in place), the block's output (the
    // ReLU after it in place), the pooled 16 and Dense's 2 (Softmax in place).
    // Inside the block, each of its four layers has an output of its own.
    constexpr sn::Index per_sample = image + image + 16 + 2 + 4 * image;
    // 2^19 / per_sample is 6 samples: fewer than 16, which fit in 2^22 scalars.
    static_assert((sn::Index{1} << 19) / per_sample == 6 && 16 * per_sample <= (sn::Index{1} << 22));
    CHECK(Net::inference_batch_size == 16);
    // LeNet's pass, some 8,090 scalars a sample: 64 samples stay within 2^19 scalars.
    using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                              sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                              sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax, sn::CrossEntropy>;
    CHECK(LeNet::inference_batch_size == 64);
    // A small network is capped at 1024 samples per pass.
    CHECK(sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>::inference_batch_size ==
          1024);
}
