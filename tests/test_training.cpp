#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace sn = scratchnet;
using fixtures::xor_inputs;
using fixtures::xor_labels;

namespace {
using XorNet = sn::Network<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;

// Two interleaved spirals, 2 classes: not linearly separable, deterministic.
void spirals(Eigen::Index per_class, sn::Matrix<float>& X, sn::Labels& y) {
    X.resize(2, 2 * per_class);
    y.resize(2 * per_class);
    for (Eigen::Index i = 0; i < per_class; ++i) {
        // radius t, one full turn per spiral, the second rotated by pi
        const double t = 0.15 + 0.85 * static_cast<double>(i) / static_cast<double>(per_class);
        for (int c = 0; c < 2; ++c) {
            const double a = 2 * std::numbers::pi * t + c * std::numbers::pi;
            const Eigen::Index k = 2 * i + c;
            X(0, k) = static_cast<float>(t * std::cos(a));
            X(1, k) = static_cast<float>(t * std::sin(a));
            y[k] = c;
        }
    }
}
}  // namespace

TEST_CASE("XOR reaches 100 % from a fixed seed") {
    XorNet net(1);
    sn::SGD sgd{0.5f};
    const auto X = xor_inputs();
    const auto y = xor_labels();
    const auto history = sn::fit(net, sgd, X, y, {.epochs = 1000, .batch_size = 4, .seed = 1});
    CHECK(history.size() == 1000);
    CHECK(history.back().loss < 0.05);
    CHECK(history.back().loss < history.front().loss);
    CHECK(sn::accuracy(net, X, y) == 1.0);
    CHECK(net.predict(X) == y);
}

TEST_CASE("fit on two spirals reaches 95 % with Adam") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(200, X, y);
    sn::Network<sn::Dense<2, 32>, sn::Tanh, sn::Dense<32, 32>, sn::Tanh, sn::Dense<32, 2>, sn::Softmax, sn::CrossEntropy>
        net(3);
    sn::Adam adam{0.01f};
    const auto h = sn::fit(net, adam, X, y, {.epochs = 100, .batch_size = 32, .seed = 4});
    CHECK(sn::accuracy(net, X, y) >= 0.95);
    CHECK(h.back().accuracy >= 0.9);
}

TEST_CASE("same seed, same parameters: two runs are bit-identical") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(50, X, y);
    using Net = sn::Network<sn::Dense<2, 16>, sn::ReLU, sn::Dense<16, 2>, sn::Softmax, sn::CrossEntropy>;
    Net a(5), b(5), c(5);
    sn::SGD s1{0.1f}, s2{0.1f}, s3{0.1f};
    sn::fit(a, s1, X, y, {.epochs = 5, .batch_size = 16, .seed = 9});
    sn::fit(b, s2, X, y, {.epochs = 5, .batch_size = 16, .seed = 9});
    sn::fit(c, s3, X, y, {.epochs = 5, .batch_size = 16, .seed = 10});
    CHECK(a.parameters() == b.parameters());
    CHECK(a.parameters() != c.parameters());  // another shuffle, another path
}

TEST_CASE("1 and 2 threads give bit-identical parameters") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(300, X, y);
    using Net = sn::Network<sn::Dense<2, 64>, sn::ReLU, sn::Dense<64, 2>, sn::Softmax, sn::CrossEntropy>;
    Net one(2), two(2);
    sn::SGD s1{0.1f}, s2{0.1f};
    sn::fit(one, s1, X, y, {.epochs = 2, .batch_size = 128, .seed = 3, .threads = 1, .chunk_size = 32});
    sn::fit(two, s2, X, y, {.epochs = 2, .batch_size = 128, .seed = 3, .threads = 2, .chunk_size = 32});
    CHECK(one.parameters() == two.parameters());
}

namespace {
// Wider than one block (8192 parameters) of fit's summing pass, so blocks fall to
// different threads. WideNet's first layer (320 units, a multiple of 16) can be
// split by rows across the threads, in 5 blocks of 64 rows, and is trained both
// ways: 2 -> 320 -> 40 -> 2 has 13,882 parameters, 12,922 of them after the first
// layer. OddWideNet's (300 units) can only be split by samples: 13,022 parameters.
using WideNet = sn::Network<sn::Dense<2, 320>, sn::ReLU, sn::Dense<320, 40>, sn::Tanh, sn::Dense<40, 2>, sn::Softmax,
                            sn::CrossEntropy>;
using OddWideNet = sn::Network<sn::Dense<2, 300>, sn::ReLU, sn::Dense<300, 40>, sn::Tanh, sn::Dense<40, 2>,
                               sn::Softmax, sn::CrossEntropy>;

/// A network type and how fit splits its batches.
template <class N, sn::BatchSplit S>
struct Case {
    using Net = N;
    static constexpr sn::BatchSplit split = S;
};
// With Dropout after each hidden layer: masks from fit's seed and each sample's place.
using WideDropoutNet = sn::Network<sn::Dense<2, 320>, sn::ReLU, sn::Dropout<0.2>, sn::Dense<320, 40>, sn::Tanh,
                                   sn::Dropout<0.1>, sn::Dense<40, 2>, sn::Softmax, sn::CrossEntropy>;
using WideByRows = Case<WideNet, sn::BatchSplit::by_rows>;
using DropoutByRows = Case<WideDropoutNet, sn::BatchSplit::by_rows>;
using DropoutBySamples = Case<WideDropoutNet, sn::BatchSplit::by_samples>;
using WideBySamples = Case<WideNet, sn::BatchSplit::by_samples>;
using OddWide = Case<OddWideNet, sn::BatchSplit::automatic>;

template <class C, class Opt>
typename C::Net fit_wide(Opt optimizer, unsigned threads) {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(150, X, y);
    typename C::Net net(4);
    // 300 samples in batches of 128: the last batch (44) is uneven and has a
    // partial chunk.
    sn::fit(net, optimizer, X, y,
            {.epochs = 2, .batch_size = 128, .seed = 5, .threads = threads, .chunk_size = 32, .split = C::split});
    return net;
}

/// An optimizer with step() only: fit sums the whole gradient, then calls it.
template <class Opt>
struct StepOnly {
    Opt inner;
    template <class Net>
    void step(Net& net) {
        inner.step(net);
    }
};

/// Derived from SGD with a step() of its own: fit must call that step().
struct CountingSGD : sn::SGD {
    using sn::SGD::SGD;
    int steps = 0;
    template <class Net>
    void step(Net& net) {
        ++steps;
        sn::SGD::step(net);
    }
};
}  // namespace

TYPE_TO_STRING_AS("320 wide by rows", WideByRows);
TYPE_TO_STRING_AS("320 wide by samples", WideBySamples);
TYPE_TO_STRING_AS("300 wide, automatic", OddWide);
TYPE_TO_STRING_AS("Dropout by rows", DropoutByRows);
TYPE_TO_STRING_AS("Dropout by samples", DropoutBySamples);

// Each network is wider than one summing block, so that blocks fall to different threads.
TEST_CASE_TEMPLATE("every optimizer trains to the same bits on 1, 2 and the default threads", C, WideByRows,
                   WideBySamples, OddWide, DropoutByRows, DropoutBySamples) {
    using Net = typename C::Net;
    using First = std::remove_cvref_t<decltype(std::declval<Net&>().template layer<0>())>;
    static_assert(Net::parameter_count - First::parameter_count > 8192);  // two summing blocks after layer 0
    const auto same_for_all_threads = [](auto make) {
        const Net one = fit_wide<C>(make(), 1);
        CHECK(one.parameters() == fit_wide<C>(make(), 2).parameters());
        CHECK(one.parameters() == fit_wide<C>(make(), 0).parameters());
        CHECK(one.parameters() != Net(4).parameters());  // it did train
    };
    SUBCASE("SGD with weight decay") { same_for_all_threads([] { return sn::SGD{0.05f, 1e-4f}; }); }
    SUBCASE("Nesterov momentum") { same_for_all_threads([] { return sn::Momentum{0.05f, 0.9f, true}; }); }
    SUBCASE("Adam") { same_for_all_threads([] { return sn::Adam{0.01f}; }); }
    SUBCASE("RMSprop with momentum") {
        same_for_all_threads([] { return sn::RMSprop{sn::RMSpropOptions{.learning_rate = 0.003f, .momentum = 0.5f}}; });
    }
    SUBCASE("AdamW") { same_for_all_threads([] { return sn::AdamW{0.01f, 0.05f}; }); }
}

TEST_CASE("fit trains with Dropout on, its masks follow the seed, and validation leaves no mode behind") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(150, X, y);
    const sn::FitOptions o{.epochs = 3, .batch_size = 64, .seed = 2, .threads = 2, .chunk_size = 32};
    WideDropoutNet a(4), b(4), c(4);
    sn::SGD s1{0.05f}, s2{0.05f}, s3{0.05f};
    sn::fit(a, s1, X, y, o);
    // Validation after each epoch runs in inference mode on its own workspace:
    // the training that follows is the same to the bit.
    const sn::ValidationData<sn::Matrix<float>, sn::Labels> val{X, y};
    const sn::History h = sn::fit(b, s2, X, y, val, o);
    CHECK(a.parameters() == b.parameters());
    CHECK(h.back().validation_accuracy.has_value());
    // Another seed, other masks (and another shuffle): other parameters.
    sn::FitOptions other = o;
    other.seed = 3;
    sn::fit(c, s3, X, y, other);
    CHECK(c.parameters() != a.parameters());
    // The same network without Dropout starts from the same weights (Dropout owns
    // and draws nothing) but trains differently: fit did drop.
    WideNet plain(4);
    REQUIRE(plain.parameters() == WideDropoutNet(4).parameters());
    sn::SGD s4{0.05f};
    sn::fit(plain, s4, X, y, o);
    CHECK(plain.parameters() != a.parameters());
    // Inference is deterministic: evaluating twice gives the same figures.
    CHECK(sn::evaluate(a, X, y).loss == sn::evaluate(a, X, y).loss);
}

TEST_CASE_TEMPLATE("a step()-only optimizer trains exactly like one with update ranges", C, WideByRows, WideBySamples,
                   OddWide) {
    // The step-only path sums the whole gradient and steps once; the range path
    // updates block by block on several threads (and, with layer 0 split by rows,
    // a run of rows of each column at a time). Same bits, for every optimizer.
    using Net = typename C::Net;
    const auto same = [](auto make) {
        using Opt = decltype(make());
        static_assert(sn::RangeOptimizer<Opt, Net>);
        static_assert(!sn::RangeOptimizer<StepOnly<Opt>, Net>);
        const Net reference = fit_wide<C>(StepOnly<Opt>{make()}, 1);
        for (unsigned threads : {1u, 2u, 3u})
            CHECK(fit_wide<C>(make(), threads).parameters() == reference.parameters());
    };
    same([] { return sn::SGD{0.05f}; });
    same([] { return sn::Momentum{0.05f, 0.9f, true}; });
    same([] { return sn::Adam{0.01f}; });
    same([] { return sn::RMSprop{0.003f}; });
    same([] { return sn::AdamW{0.01f}; });
}

TEST_CASE("the two batch splits compute the same gradient, summed in another order") {
    // Not bit-identical (layer 0's gradient is added over the batch in one product
    // instead of chunk by chunk), but the same training to float rounding.
    const WideNet rows = fit_wide<WideByRows>(sn::SGD{0.05f}, 2);
    const WideNet samples = fit_wide<WideBySamples>(sn::SGD{0.05f}, 2);
    const WideNet start(4);
    const float moved = (rows.parameters() - start.parameters()).norm();
    CHECK(moved > 0.1f);
    CHECK((rows.parameters() - samples.parameters()).norm() < 1e-4f * moved);
    CHECK(rows.parameters() != samples.parameters());  // two paths, not one taken twice
}

TEST_CASE("BatchSplit::by_rows is refused where it cannot work") {
    using TanhFirst = sn::Network<sn::Tanh, sn::Dense<2, 32>, sn::Softmax, sn::CrossEntropy>;
    static_assert(!sn::detail::BatchGradient<TanhFirst>::kCanSplitRows);
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(20, X, y);
    sn::SGD sgd{0.1f};
    OddWideNet odd(1);
    CHECK_THROWS_WITH_AS(sn::fit(odd, sgd, X, y, {.split = sn::BatchSplit::by_rows}),
                         doctest::Contains("BatchSplit::by_rows needs layer 0 to offer the row split (layer.hpp; Dense does) with a multiple of 16 outputs"),
                         std::invalid_argument);
    TanhFirst tanh_first(1);
    CHECK_THROWS_AS(sn::fit(tanh_first, sgd, X, y, {.split = sn::BatchSplit::by_rows}), std::invalid_argument);
    CHECK_NOTHROW(sn::fit(tanh_first, sgd, X, y, {.split = sn::BatchSplit::by_samples}));
}

TEST_CASE("BatchSplit::automatic splits by samples, also for a first layer of 2^18 weights") {
    // Bit-exact equality with the explicit split, and inequality with the other,
    // shows which path automatic took.
    CHECK(fit_wide<Case<WideNet, sn::BatchSplit::automatic>>(sn::SGD{0.05f}, 2).parameters() ==
          fit_wide<WideBySamples>(sn::SGD{0.05f}, 2).parameters());

    using Large = sn::Network<sn::Dense<1024, 256>, sn::ReLU, sn::Dense<256, 2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::detail::BatchGradient<Large>::kCanSplitRows);  // 262,144 weights: exactly 2^18
    const sn::Matrix<float> X = sn::Matrix<float>::Random(1024, 96);
    sn::Labels y(96);
    for (int j = 0; j < 96; ++j) y[j] = j % 2;
    const auto trained = [&](sn::BatchSplit split) {
        Large net(3);
        sn::SGD sgd{0.05f};
        sn::fit(net, sgd, X, y, {.epochs = 2, .batch_size = 48, .seed = 1, .threads = 2, .chunk_size = 16, .split = split});
        return sn::Vector<float>(net.parameters());
    };
    const sn::Vector<float> automatic = trained(sn::BatchSplit::automatic);
    CHECK(automatic == trained(sn::BatchSplit::by_samples));
    CHECK(automatic != trained(sn::BatchSplit::by_rows));
}

TEST_CASE("a class derived from an optimizer keeps its own step() in fit") {
    static_assert(!sn::RangeOptimizer<CountingSGD, WideNet>);  // it inherits SGD's range_update
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(150, X, y);
    WideNet net(4);
    CountingSGD sgd{0.05f};
    sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 100, .seed = 5, .threads = 2});
    CHECK(sgd.steps == 3);  // 300 samples, batches of 100
}

TEST_CASE("a final partial batch is trained on unless drop_last asks otherwise") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(5, X, y);  // 10 samples, batch 4: batches of 4, 4, 2
    XorNet net(1);
    sn::SGD sgd{0.1f};
    sn::Index batches = 0, samples = 0;
    sn::FitCallbacks cb;
    cb.on_batch = [&](const sn::BatchProgress& p) {
        batches = p.batches;
        samples = p.samples;
        return true;
    };
    sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 4}, cb);
    CHECK(batches == 3);
    CHECK(samples == 10);
    sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 4, .drop_last = true}, cb);
    CHECK(batches == 2);
    CHECK(samples == 8);
}

TEST_CASE("callbacks can stop training; validation data is evaluated each epoch") {
    XorNet net(1);
    sn::SGD sgd{0.5f};
    const auto X = xor_inputs();
    const auto y = xor_labels();
    sn::FitCallbacks cb;
    cb.on_epoch = [](const sn::EpochRecord& r) { return r.epoch < 3; };
    const auto h = sn::fit(net, sgd, X, y, sn::ValidationData<sn::Matrix<float>, sn::Labels>{X, y},
                           {.epochs = 50, .batch_size = 2}, cb);
    REQUIRE(h.size() == 3);
    REQUIRE(h[2].validation_accuracy.has_value());
    CHECK(*h[2].validation_accuracy == doctest::Approx(sn::accuracy(net, X, y)));
    CHECK(*h[2].validation_loss == doctest::Approx(sn::evaluate(net, X, y).loss));
}

TEST_CASE("a loss that turns NaN or infinite stops training with the epoch and batch") {
    using Reg = sn::Network<sn::Dense<2, 8>, sn::ReLU, sn::Dense<8, 1>, sn::MeanSquaredError>;
    Reg net(1);
    sn::SGD sgd{1e4f};  // diverges within a few steps
    sn::Matrix<float> X = sn::Matrix<float>::Random(2, 64) * 10;
    sn::Matrix<float> Y = sn::Matrix<float>::Random(1, 64) * 10;
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, Y, {.epochs = 100, .batch_size = 8}),
                         doctest::Contains(" in epoch "), sn::TrainingError);
    Reg again(1);
    CHECK_THROWS_WITH_AS(sn::fit(again, sgd, X, Y, {.epochs = 100, .batch_size = 8}), doctest::Contains(", batch "),
                         sn::TrainingError);
}

TEST_CASE("a NaN names its cause: the parameters given, the data, or the layer where training blew up") {
    using Net = sn::Network<sn::Dense<2, 4>, sn::ReLU, sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy>;
    Net net(1);
    net.layer<2>().weights()(1, 2) = std::numeric_limits<float>::quiet_NaN();
    sn::SGD sgd{0.1f};
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(2, 8);
    const sn::Labels y = sn::Labels::Zero(8);
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 4}),
                         "scratchnet::fit: parameter 19 (layer 2, Dense<4,3>) is NaN or infinite before training",
                         std::invalid_argument);
    Net inf_input(1);
    sn::Matrix<float> Xinf = X;
    Xinf(0, 5) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(sn::fit(inf_input, sgd, Xinf, y, {.epochs = 1, .batch_size = 4, .shuffle = false}),
                         "scratchnet::fit: the inputs of sample 5 hold NaN or infinity (found in epoch 1, batch 2 of "
                         "2); clean the data",
                         sn::TrainingError);
    using Mse = sn::Network<sn::Dense<2, 4>, sn::ReLU, sn::Dense<4, 3>, sn::Identity, sn::MeanSquaredError>;
    Mse wild(1);
    sn::SGD huge{1e30f};
    CHECK_THROWS_WITH_AS(sn::fit(wild, huge, X, sn::Matrix<float>(sn::Matrix<float>::Ones(3, 8)),
                                 {.epochs = 1, .batch_size = 4, .shuffle = false}),
                         doctest::Contains("in epoch 1, batch 2 of 2 (the data are finite: try a smaller learning rate)"),
                         sn::TrainingError);
}

TEST_CASE("a NaN in the data is named as such, with its sample, not blamed on the learning rate") {
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(64, X, y);
    X(2, 37) = std::numeric_limits<float>::quiet_NaN();
    fixtures::ThreeClassNet net(1);
    sn::SGD sgd(0.1f);
    try {
        sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 16});
        FAIL("fit accepted a NaN input");
    } catch (const sn::TrainingError& e) {
        const std::string what = e.what();
        CHECK(what.find("inputs of sample 37 hold NaN") != std::string::npos);
        CHECK(what.find("learning rate") == std::string::npos);
    }
    sn::Matrix<float> Xf = X;
    Xf(2, 37) = 0;
    sn::Matrix<float> Y = sn::one_hot(y, 3);
    Y(1, 5) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, Xf, Y, {.epochs = 1, .batch_size = 16}),
                         doctest::Contains("targets of sample 5 hold NaN or infinity"), sn::TrainingError);
    // Finite data and a rate that blows up: then the rate is the suspect.
    using Mse = sn::Network<sn::Dense<4, 16>, sn::ReLU, sn::Dense<16, 3>, sn::Identity, sn::MeanSquaredError>;
    Mse wild(1);
    sn::SGD huge(1e6f);
    CHECK_THROWS_WITH_AS(sn::fit(wild, huge, Xf, sn::Matrix<float>(sn::one_hot(y, 3)), {.epochs = 5, .batch_size = 16}),
                         doctest::Contains("the data are finite: try a smaller learning rate"), sn::TrainingError);
}

TEST_CASE("fit refuses bad arguments with a message") {
    XorNet net(1);
    sn::SGD sgd{0.1f};
    const auto X = xor_inputs();
    sn::Labels y = xor_labels();
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, {.batch_size = 0}),
                         "scratchnet::fit: batch_size must be positive, got 0", std::invalid_argument);
    y[2] = 7;
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y), "scratchnet::fit: label 7 of sample 2 is outside 0..1",
                         std::invalid_argument);
    const sn::Labels short_y = sn::Labels::Zero(3);
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, short_y), "scratchnet::fit: 4 inputs but 3 targets",
                         std::invalid_argument);
    const sn::Matrix<float> wrong = sn::Matrix<float>::Zero(3, 4);
    CHECK_THROWS_AS(sn::fit(net, sgd, wrong, xor_labels()), std::invalid_argument);
    const sn::Matrix<float> none(2, 0);
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, none, sn::Labels()), "scratchnet::fit: the data set is empty",
                         std::invalid_argument);
}

TEST_CASE("epochs = INT_MAX reserves no History in proportion, and a callback stops it after two") {
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(32, X, y);
    fixtures::ThreeClassNet net(1);
    sn::SGD sgd(0.1f);
    sn::FitCallbacks stop;
    stop.on_epoch = [](const sn::EpochRecord& r) { return r.epoch < 2; };
    const sn::History h = sn::fit(net, sgd, X, y, {.epochs = std::numeric_limits<int>::max(), .batch_size = 16}, stop);
    CHECK(h.size() == 2);
    CHECK(h.capacity() < 100000);
}

TEST_CASE("byte images train like the same images as floats in [0, 1]") {
    sn::ByteMatrix B(4, 6);
    for (Eigen::Index i = 0; i < B.size(); ++i) B.data()[i] = static_cast<std::uint8_t>((i * 37) % 256);
    const sn::Matrix<float> F = B.cast<float>() / 255.0f;
    sn::Labels y(6);
    y << 0, 1, 0, 1, 1, 0;
    using Net = sn::Network<sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy>;
    Net a(1), b(1);
    sn::SGD s1{0.1f}, s2{0.1f};
    sn::fit(a, s1, B, y, {.epochs = 3, .batch_size = 4});
    sn::fit(b, s2, F, y, {.epochs = 3, .batch_size = 4});
    CHECK((a.parameters() - b.parameters()).cwiseAbs().maxCoeff() < 1e-6f);
}

TEST_CASE("confusion matrix counts true class by row, predicted by column") {
    sn::Labels pred(5), truth(5);
    pred << 0, 1, 1, 2, 0;
    truth << 0, 1, 2, 2, 1;
    const Eigen::MatrixXi C = sn::confusion_matrix(pred, truth, 3);
    CHECK(C(0, 0) == 1);
    CHECK(C(1, 1) == 1);
    CHECK(C(2, 1) == 1);
    CHECK(C(2, 2) == 1);
    CHECK(C(1, 0) == 1);
    CHECK(C.sum() == 5);
    CHECK(sn::accuracy(pred, truth) == doctest::Approx(0.6));
    CHECK_THROWS_WITH_AS(sn::confusion_matrix(pred, truth, 0), doctest::Contains("classes must be positive, got 0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::confusion_matrix(pred, truth, 2), doctest::Contains("label of sample 2 is outside 0..1"),
                         std::invalid_argument);
    CHECK_THROWS_AS(sn::accuracy(pred, sn::Labels(4)), std::invalid_argument);
}

// fit() clamps its threads to the processors (2 on the CI machine); its scheduler,
// unclamped, shows on any machine that the bits do not depend on how many threads
// share the chunks, the row blocks and the summing blocks.
TEST_CASE("the scheduler gives the same bits on 1 to 4 threads, also more threads than processors") {
    sn::Matrix<float> X;
    sn::Labels y;
    spirals(150, X, y);
    const sn::Matrix<float> Y = sn::one_hot(y, 2);
    for (const bool by_rows : {false, true}) {
        CAPTURE(by_rows);
        Eigen::VectorXf reference;
        for (unsigned threads = 1; threads <= 4; ++threads) {
            CAPTURE(threads);
            WideDropoutNet net(4);
            sn::Adam adam(0.01f);
            sn::detail::BatchGradient<WideDropoutNet> gradient(threads, 32, false, by_rows, false);
            REQUIRE(gradient.pool().size() == threads);
            for (Eigen::Index begin = 0; begin + 128 <= X.cols(); begin += 128) {
                gradient.compute(
                    net, 128, [&](Eigen::Index from, Eigen::Index n, sn::Matrix<float>& M) { M = X.middleCols(begin + from, n); },
                    [&](Eigen::Index from, Eigen::Index n, sn::Matrix<float>& M) { M = Y.middleCols(begin + from, n); },
                    sn::Pass::training(7, begin));
                adam.begin_step(net);
                gradient.sum(net, [&](Eigen::Index a, Eigen::Index b) { adam.update(net, a, b); });
            }
            if (threads == 1)
                reference = net.parameters();
            else
                CHECK(net.parameters() == reference);
        }
    }
}
