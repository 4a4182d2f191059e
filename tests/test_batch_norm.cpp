// BatchNorm: outputs, running statistics and gradients against computations
// written out here; its state in the network's buffer, in model files and through
// fit (weight averaging included); the same bits for any thread count; the edges
// (one sample, a fresh network).
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <cmath>
#include <sstream>

namespace sn = scratchnet;

namespace {

using Flat = sn::BasicNetwork<double, sn::Dense<2, 3>, sn::BatchNorm, sn::Identity, sn::MeanSquaredError>;

Eigen::MatrixXd batch() {
    Eigen::MatrixXd X(2, 4);
    X << 1, -2, 0.5, 3,  //
        0, 1, -1, 2;
    return X;
}

}  // namespace

TEST_CASE("BatchNorm in training mode normalises each feature over the batch and updates its running statistics") {
    Flat net(1);
    static_assert(Flat::parameter_count == 9 + 6 && Flat::state_count == 6);
    auto& bn = net.layer<1>();
    bn.gamma() << 2, 1, 0.5;
    bn.beta() << 0, 1, -1;
    const Eigen::MatrixXd X = batch();
    const Eigen::MatrixXd Z = (net.layer<0>().weights() * X).colwise() + net.layer<0>().bias();
    const Eigen::MatrixXd Y = net.forward(X, sn::Mode::training);
    for (int f = 0; f < 3; ++f) {
        const double mu = Z.row(f).mean();
        const double var = (Z.row(f).array() - mu).square().sum() / 4;  // biased, for normalising
        for (int j = 0; j < 4; ++j)
            CHECK(Y(f, j) == doctest::Approx(bn.gamma()[f] * (Z(f, j) - mu) / std::sqrt(var + 1e-5) + bn.beta()[f])
                                 .epsilon(1e-12));
        // One training pass from mean 0, variance 1: r <- 0.9 r + 0.1 x, the variance unbiased.
        CHECK(bn.running_mean()[f] == doctest::Approx(0.1 * mu).epsilon(1e-12));
        CHECK(bn.running_var()[f] == doctest::Approx(0.9 + 0.1 * var * 4 / 3).epsilon(1e-12));
    }
    // The state is the network's buffer: running mean, then running variance.
    CHECK(net.state().head(3) == bn.running_mean());
    CHECK(net.state().tail(3) == bn.running_var());

    // Inference uses the running statistics, and changes nothing.
    const Eigen::VectorXd state = net.state();
    const Eigen::MatrixXd P = net.forward(X);
    for (int f = 0; f < 3; ++f)
        for (int j = 0; j < 4; ++j)
            CHECK(P(f, j) == doctest::Approx(bn.gamma()[f] * (Z(f, j) - state[f]) / std::sqrt(state[3 + f] + 1e-5) +
                                             bn.beta()[f])
                                 .epsilon(1e-12));
    CHECK(net.state() == state);
}

namespace {
struct Halfway {  // a policy of the user's own
    static constexpr double momentum = 0.5, epsilon = 1e-3;
};
}  // namespace

TEST_CASE("BasicBatchNorm takes its momentum and epsilon from a policy type") {
    using Net = sn::BasicNetwork<double, sn::Dense<2, 3>, sn::BasicBatchNorm<Halfway>, sn::Identity,
                                 sn::MeanSquaredError>;
    CHECK(Net::layer_name(1) == "BatchNorm<0.500000,0.001000>");
    Net net(1);
    const Eigen::MatrixXd X = batch();
    const Eigen::MatrixXd Z = (net.layer<0>().weights() * X).colwise() + net.layer<0>().bias();
    const Eigen::MatrixXd Y = net.forward(X, sn::Mode::training);
    const double mu = Z.row(0).mean(), var = (Z.row(0).array() - mu).square().sum() / 4;
    CHECK(Y(0, 0) == doctest::Approx((Z(0, 0) - mu) / std::sqrt(var + 1e-3)).epsilon(1e-12));
    CHECK(net.layer<1>().running_mean()[0] == doctest::Approx(0.5 * mu).epsilon(1e-12));
}

TEST_CASE("BatchNorm on images normalises each channel over the samples and the positions") {
    using Net = sn::BasicNetwork<double, sn::Input<2, 3, 3>, sn::BatchNorm, sn::Flatten, sn::Dense<18, 2>,
                                 sn::Softmax, sn::CrossEntropy>;
    Net net(1);
    sn::Rng rng(2);
    Eigen::MatrixXd X(18, 5);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = 3 + 2 * sn::detail::normal(rng);
    net.forward(X, sn::Mode::training);
    // The Flatten after BatchNorm shares its buffer: read the normalised values by hand.
    const auto& bn = net.layer<0>();
    for (int c = 0; c < 2; ++c) {
        double mean = 0;
        for (int j = 0; j < 5; ++j) mean += X.col(j).segment(9 * c, 9).sum();
        mean /= 45;
        CHECK(bn.running_mean()[c] == doctest::Approx(0.1 * mean).epsilon(1e-12));
    }
    // Every gradient, in training and in inference mode.
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(2, 5);
    for (int j = 0; j < 5; ++j) Y(j % 2, j) = 1;
    sn::GradientCheckOptions training;
    training.mode = sn::Mode::training;
    const sn::GradientCheckReport t = sn::gradient_check(net, X, Y, training);
    CHECK_MESSAGE(t, t);
    const sn::GradientCheckReport i = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(i, i);
}

TEST_CASE("gradient_check passes through BatchNorm inside Residual blocks, in training and inference mode") {
    using Net = sn::BasicNetwork<
        double, sn::Input<2, 4, 4>, sn::Conv2D<2, 3, 3, 1, 1>, sn::BatchNorm, sn::Tanh,
        sn::Residual<sn::Conv2D<3, 3, 3, 1, 1>, sn::BatchNorm, sn::Tanh, sn::Conv2D<3, 3, 3, 1, 1>, sn::BatchNorm>,
        sn::Tanh, sn::GlobalAvgPool2D, sn::Dense<3, 3>, sn::BatchNorm, sn::Softmax, sn::CrossEntropy>;
    static_assert(Net::state_count == 2 * (3 + 3 + 3 + 3));
    Net net(1);
    sn::Rng rng(3);
    Eigen::MatrixXd X(32, 6), Y = Eigen::MatrixXd::Zero(3, 6);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = sn::detail::uniform(rng, -1, 1);
    for (int j = 0; j < 6; ++j) Y(j % 3, j) = 1;
    sn::GradientCheckOptions training;
    training.mode = sn::Mode::training;
    // A bias right before BatchNorm has a gradient of exactly 0 (the mean is taken
    // out again); its centred difference is rounding, about 1e-13: judged absolutely.
    training.floor = 1e-5;
    const sn::GradientCheckReport t = sn::gradient_check(net, X, Y, training);
    CHECK_MESSAGE(t, t);
    const sn::GradientCheckReport i = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(i, i);
}

TEST_CASE("a BatchNorm network trains to the same parameters and state on 1 and 2 threads, and round-trips a file") {
    using Net = sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                            sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU>, sn::GlobalAvgPool2D,
                            sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;
    sn::Matrix<float> X(36, 200);
    sn::Labels y(200);
    sn::Rng rng(5);
    for (Eigen::Index j = 0; j < 200; ++j) {
        y[j] = static_cast<int>(j % 2);
        for (Eigen::Index p = 0; p < 36; ++p)
            X(p, j) = static_cast<float>((p % 6 < 3) == (y[j] == 1) ? 1.0 : 0.0) +
                      static_cast<float>(0.3 * sn::detail::normal(rng));
    }
    auto train = [&](unsigned threads) {
        Net net(1);
        sn::Adam adam(0.01f);
        const sn::History h =
            sn::fit(net, adam, X, y, {.epochs = 4, .batch_size = 50, .seed = 3, .threads = threads, .chunk_size = 16});
        CHECK(h.threads == threads);
        return net;
    };
    const Net one = train(1), two = train(2);
    CHECK(one.parameters() == two.parameters());
    CHECK(one.state() == two.state());
    CHECK(sn::accuracy(one, X, y) > 0.95);
    // The running statistics moved: not a fresh network's.
    CHECK(one.state().head(4).cwiseAbs().maxCoeff() > 0.01);

    std::stringstream file;
    sn::save(one, file);
    Net loaded(9);
    sn::load(loaded, file, "bn.snm");
    CHECK(loaded.parameters() == one.parameters());
    CHECK(loaded.state() == one.state());
    CHECK(loaded.predict(X) == one.predict(X));
}

TEST_CASE("BatchNorm's edges: one value per channel, a fresh network") {
    Flat net(1);
    auto& bn = net.layer<1>();
    bn.beta() << 0.5, -1, 2;
    // One sample in training mode: no variance. It normalises to 0 (y = beta) and
    // leaves the running statistics alone; no NaN anywhere.
    const Eigen::MatrixXd x = batch().leftCols(1);
    const Eigen::MatrixXd y = net.forward(x, sn::Mode::training);
    CHECK(y(0, 0) == 0.5);
    CHECK(y(1, 0) == -1);
    CHECK(y(2, 0) == 2);
    CHECK(net.state().head(3).isZero());
    CHECK(net.state().tail(3).isOnes());
    Eigen::MatrixXd target = Eigen::MatrixXd::Ones(3, 1);
    net.loss(x, target, sn::Mode::training);
    net.backward(target);
    CHECK(net.gradients().allFinite());
    CHECK(net.gradients().head(9).isZero());  // nothing reaches the weights through a constant output

    // A fresh network infers with mean 0 and variance 1, as PyTorch's starts.
    Flat fresh(2);
    const Eigen::MatrixXd X = batch();
    const Eigen::MatrixXd Z = (fresh.layer<0>().weights() * X).colwise() + fresh.layer<0>().bias();
    CHECK((fresh.forward(X) - Z / std::sqrt(1 + 1e-5)).cwiseAbs().maxCoeff() < 1e-12);
}

namespace {
// 2 x 12 inputs and 3 x 12 targets, fixed.
void regression_data(Eigen::MatrixXd& X, Eigen::MatrixXd& Y) {
    X.resize(2, 12);
    Y.resize(3, 12);
    for (int j = 0; j < 12; ++j) {
        X(0, j) = std::sin(0.7 * j) + 0.1 * j;
        X(1, j) = std::cos(1.3 * j) - 0.05 * j;
        Y(0, j) = X(0, j) - X(1, j);
        Y(1, j) = 2 * X(1, j) + 0.5;
        Y(2, j) = X(0, j) * X(1, j);
    }
}
}  // namespace

TEST_CASE("weight averaging measures BatchNorm statistics of the averaged weights, as PyTorch's update_bn") {
    Eigen::MatrixXd X, Y;
    regression_data(X, Y);
    // No shuffle: each epoch is batches [0, 6) and [6, 12), chunks of 3 samples.
    sn::FitOptions o{.epochs = 3, .batch_size = 6, .shuffle = false, .threads = 1, .chunk_size = 3};

    // The trajectory without averaging, and its weights and state after each epoch.
    std::vector<Eigen::VectorXd> after, state_after;
    Flat reference(4);
    sn::SGD sgd_ref{0.05f};
    sn::FitCallbacks record;
    record.on_epoch = [&](const sn::EpochRecord&) {
        after.emplace_back(reference.parameters());
        state_after.emplace_back(reference.state());
        return true;
    };
    sn::fit(reference, sgd_ref, X, Y, o, record);
    REQUIRE(after.size() == 3);

    o.average_from = 2;
    Flat net(4);
    sn::SGD sgd{0.05f};
    const sn::ValidationData<Eigen::MatrixXd, Eigen::MatrixXd> val{X, Y};
    const sn::History h = sn::fit(net, sgd, X, Y, val, o);
    CHECK(h.averaged_epochs == 2);
    const Eigen::VectorXd mean = (after[1] + after[2]) / 2;
    CHECK((net.parameters() - mean).cwiseAbs().maxCoeff() < 1e-12);

    // The statistics, written out: the average's Dense outputs, each chunk's mean
    // and unbiased variance folded in order from PyTorch's start (0 and 1) with
    // momentum 0.1.
    Flat avg(1);
    avg.parameters() = mean;
    const Eigen::MatrixXd Z = (avg.layer<0>().weights() * X).colwise() + avg.layer<0>().bias();
    Eigen::Vector3d rm = Eigen::Vector3d::Zero(), rv = Eigen::Vector3d::Ones();
    for (int k = 0; k < 4; ++k) {
        const Eigen::MatrixXd z = Z.middleCols(3 * k, 3);
        const Eigen::Vector3d mu = z.rowwise().mean();
        const Eigen::Vector3d var = (z.colwise() - mu).array().square().rowwise().sum() / 2;
        rm = 0.9 * rm + 0.1 * mu;
        rv = 0.9 * rv + 0.1 * var;
    }
    CHECK((net.state().head(3) - rm).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((net.state().tail(3) - rv).cwiseAbs().maxCoeff() < 1e-12);
    // Not the training weights' statistics, and validation saw the average with its own.
    CHECK((net.state() - state_after[2]).cwiseAbs().maxCoeff() > 1e-3);
    CHECK(*h.back().validation_loss == doctest::Approx(sn::evaluate(net, X, Y).loss).epsilon(1e-12));

    // Training went on from its own weights and statistics, untouched by the average's.
    CHECK(h.resume_state.training_parameters == after[2]);
    CHECK(h.resume_state.training_state == state_after[2]);

    // Unseen in epoch 2 (no validation), measured at the end only: the same bits;
    // on 2 threads too; and resumed after epoch 2, as one fit of all 3.
    Flat quiet(4), two(4), first(4);
    sn::SGD sgd_quiet{0.05f}, sgd_two{0.05f}, sgd_first{0.05f};
    sn::fit(quiet, sgd_quiet, X, Y, o);
    sn::FitOptions o2 = o;
    o2.threads = 2;
    sn::fit(two, sgd_two, X, Y, val, o2);
    sn::FitOptions head = o;
    head.epochs = 2;
    const sn::History h2 = sn::fit(first, sgd_first, X, Y, head);
    sn::FitOptions rest = o;
    rest.initial_epoch = 2;
    rest.resume = &h2;
    sn::fit(first, sgd_first, X, Y, rest);
    for (const Flat* other : {&quiet, &two, &first}) {
        CHECK(other->parameters() == net.parameters());
        CHECK(other->state() == net.state());
    }
}
