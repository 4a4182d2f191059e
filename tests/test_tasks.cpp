// What a network's outputs mean (task.hpp): multi-class, one-output binary,
// multi-label and regression networks each predict, score and train as their task says.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <cmath>
#include <numbers>
#include <vector>

namespace sn = scratchnet;

namespace {
using Binary = sn::Network<sn::Dense<2, 8>, sn::Tanh, sn::Dense<8, 1>, sn::Sigmoid, sn::BinaryCrossEntropy>;
using Regression = sn::Network<sn::Dense<1, 32>, sn::Tanh, sn::Dense<32, 1>, sn::Identity, sn::MeanSquaredError>;
using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;

static_assert(Course::task == sn::Task::classification && Course::class_count == 10);
static_assert(Binary::task == sn::Task::binary && Binary::class_count == 2);
static_assert(Regression::task == sn::Task::regression && Regression::class_count == 0);
static_assert(sn::Network<sn::Dense<2, 1>, sn::MeanSquaredError>::task == sn::Task::regression);
// The loss decides, not the output layer: MeanSquaredError declares no task, so
// even after a Sigmoid it regresses (no argmax judged over squashed values).
static_assert(sn::Network<sn::Dense<2, 3>, sn::Sigmoid, sn::MeanSquaredError>::task == sn::Task::regression);
static_assert(sn::Network<sn::Dense<2, 1>, sn::Sigmoid, sn::MeanSquaredError>::task == sn::Task::regression);
static_assert(sn::Network<sn::Dense<2, 3>, sn::MeanSquaredError>::task == sn::Task::regression);
static_assert(std::is_same_v<sn::EvaluationOf<Regression>, sn::RegressionEvaluation>);
static_assert(std::is_same_v<sn::EvaluationOf<Binary>, sn::Evaluation>);
using Multi = sn::BasicNetwork<double, sn::Dense<2, 3>, sn::Sigmoid, sn::BinaryCrossEntropy>;
static_assert(Multi::task == sn::Task::multilabel && Multi::class_count == 0);
static_assert(std::is_same_v<sn::EvaluationOf<Multi>, sn::MultilabelEvaluation>);
static_assert(std::is_same_v<Multi::Prediction, Eigen::MatrixXi>);

sn::Matrix<float> xor_inputs() {
    sn::Matrix<float> X(2, 4);
    X << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    return X;
}

// Two Gaussian blobs, sigma 1, centred at (-2, -2) (class 0) and (2, 2) (class 1).
void blobs(Eigen::Index per_class, std::uint64_t seed, sn::Matrix<float>& X, sn::Labels& y) {
    sn::Rng rng(seed);
    X.resize(2, 2 * per_class);
    y.resize(2 * per_class);
    for (Eigen::Index j = 0; j < 2 * per_class; ++j) {
        const int c = static_cast<int>(j % 2);
        const double centre = c == 0 ? -2.0 : 2.0;
        X(0, j) = static_cast<float>(centre + sn::detail::normal(rng));
        X(1, j) = static_cast<float>(centre + sn::detail::normal(rng));
        y[j] = c;
    }
}
}  // namespace

TEST_CASE("a one-output sigmoid network trains on 0/1 labels and solves XOR") {
    Binary net(3);
    const sn::Matrix<float> X = xor_inputs();
    sn::Labels y(4);
    y << 0, 1, 1, 0;
    sn::Labels inverted = (1 - y.array()).matrix();

    // Untrained, the accuracies against y and against its inverse add up to 1:
    // the old argmax of one row gave 1.0 for both.
    CHECK(sn::accuracy(net, X, y) + sn::accuracy(net, X, inverted) == doctest::Approx(1.0));

    sn::Adam adam(0.05f);
    const sn::History h = sn::fit(net, adam, X, y, {.epochs = 300, .batch_size = 4, .seed = 1});
    CHECK(h.back().accuracy == 1.0);
    CHECK(sn::accuracy(net, X, y) == 1.0);
    CHECK(sn::accuracy(net, X, inverted) == 0.0);
    CHECK(net.predict(X) == y);

    const sn::Matrix<float> p = net.predict_proba(X);
    REQUIRE(p.rows() == 1);
    REQUIRE(p.cols() == 4);
    for (int j = 0; j < 4; ++j) CHECK((p(0, j) >= 0.5f) == (y[j] == 1));

    const Eigen::MatrixXi C = sn::confusion_matrix(net, X, y);
    REQUIRE(C.rows() == 2);
    CHECK(C(0, 0) == 2);
    CHECK(C(1, 1) == 2);
    CHECK(C(0, 1) + C(1, 0) == 0);
}

TEST_CASE("a binary network's accuracy is the fraction with (p >= 0.5) == label") {
    Binary net(5);
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(50, 2, X, y);
    const sn::Matrix<float> p = net.outputs(X);
    Eigen::Index agree = 0;
    for (Eigen::Index j = 0; j < X.cols(); ++j) agree += (p(0, j) >= 0.5f ? 1 : 0) == y[j] ? 1 : 0;
    CHECK(sn::accuracy(net, X, y) == doctest::Approx(static_cast<double>(agree) / 100.0));
    // Labels outside 0..1 are refused by name.
    sn::Labels bad = y;
    bad[3] = 2;
    CHECK_THROWS_WITH_AS(sn::accuracy(net, X, bad), doctest::Contains("label 2 of sample 3 is outside 0..1"),
                         std::invalid_argument);
}

TEST_CASE("logistic regression separates two blobs") {
    using Logistic = sn::Network<sn::Dense<2, 1>, sn::Sigmoid, sn::BinaryCrossEntropy>;
    sn::Matrix<float> X, Xt;
    sn::Labels y, yt;
    blobs(200, 7, X, y);
    blobs(200, 8, Xt, yt);
    Logistic net(1);
    sn::SGD sgd(0.5f);
    sn::fit(net, sgd, X, y, {.epochs = 20, .batch_size = 16, .seed = 3});
    // The Bayes error for these blobs is Phi(-2 sqrt 2) = 0.23 %.
    const sn::Evaluation e = sn::evaluate(net, Xt, yt);
    CHECK(e.accuracy >= 0.98);
    const Eigen::MatrixXi C = sn::confusion_matrix(net, Xt, yt);
    CHECK(C.sum() == 400);
    CHECK(static_cast<double>(C.trace()) / 400.0 == doctest::Approx(e.accuracy));
}

TEST_CASE("a regression network fits sin x and reports MSE, MAE and R^2, no accuracy") {
    constexpr int n = 256;
    sn::Matrix<float> X(1, n), Y(1, n);
    for (int j = 0; j < n; ++j) {
        X(0, j) = static_cast<float>(-std::numbers::pi + 2 * std::numbers::pi * j / (n - 1));
        Y(0, j) = std::sin(X(0, j));
    }
    Regression net(2);
    sn::Adam adam(0.01f);
    const sn::History h = sn::fit(net, adam, X, Y, {.epochs = 300, .batch_size = 32, .seed = 4, .validation_split = 32});
    CHECK(std::isnan(h.back().accuracy));
    CHECK(h.back().validation_loss.has_value());
    CHECK_FALSE(h.back().validation_accuracy.has_value());

    const sn::RegressionEvaluation e = sn::evaluate(net, X, Y);
    CHECK(e.r2 > 0.995);
    CHECK(e.mse < 3e-3);

    // Every figure against a computation by hand from the outputs.
    const sn::Matrix<float> P = net.outputs(X);
    double se = 0, ae = 0, mean = 0, tot = 0;
    for (int j = 0; j < n; ++j) mean += static_cast<double>(Y(0, j)) / n;
    for (int j = 0; j < n; ++j) {
        const double y = Y(0, j), err = static_cast<double>(P(0, j)) - y;
        se += err * err;
        ae += std::abs(err);
        tot += (y - mean) * (y - mean);
    }
    CHECK(e.mse == doctest::Approx(se / n).epsilon(1e-9));
    CHECK(e.mae == doctest::Approx(ae / n).epsilon(1e-9));
    CHECK(e.r2 == doctest::Approx(1 - se / tot).epsilon(1e-9));
    CHECK(e.loss == doctest::Approx(se / n).epsilon(1e-5));  // MeanSquaredError's mean is the MSE

    // Early stopping on a regression network watches its loss; its accuracy does not exist.
    sn::FitOptions o{.epochs = 2, .validation_split = 16};
    o.early_stopping = {.patience = 1, .monitor = sn::Monitor::validation_accuracy};
    CHECK_THROWS_WITH_AS(sn::fit(net, adam, X, Y, o), doctest::Contains("regression"), std::invalid_argument);
}

TEST_CASE("R^2 of two outputs is their mean; a constant target counts 1 only when met exactly") {
    using Two = sn::BasicNetwork<double, sn::Dense<1, 2>, sn::MeanSquaredError>;
    static_assert(Two::task == sn::Task::regression);
    Two net(1);
    // Outputs: 2 x + 1 and 0 for every x (weights set by hand).
    net.layer<0>().weights() << 2, 0;
    net.layer<0>().bias() << 1, 0;
    Eigen::MatrixXd X(1, 4), Y(2, 4);
    X << 0, 1, 2, 3;
    Y << 1, 3, 6, 7,  // predictions 1 3 5 7: one error of 1
        0, 0, 0, 0;   // constant and met exactly
    const sn::RegressionEvaluation e = sn::evaluate(net, X, Y);
    // Row 0: SS_res = 1; mean 4.25, SS_tot = 3.25^2 + 1.25^2 + 1.75^2 + 2.75^2 = 22.75.
    CHECK(e.r2 == doctest::Approx((1.0 - 1.0 / 22.75 + 1.0) / 2.0));
    CHECK(e.mse == doctest::Approx(1.0 / 8.0));
    CHECK(e.mae == doctest::Approx(1.0 / 8.0));
    Y(1, 2) = 0;
    net.layer<0>().bias() << 1, 0.5;  // now row 1 is off by 0.5 everywhere: constant target missed
    const sn::RegressionEvaluation f = sn::evaluate(net, X, Y);
    CHECK(f.r2 == doctest::Approx((1.0 - 1.0 / 22.75 + 0.0) / 2.0));
    CHECK(f.mae == doctest::Approx((1.0 + 4 * 0.5) / 8.0));
}

TEST_CASE("a multi-label network predicts a 0/1 matrix and scores per label and by exact match, as by hand") {
    Multi net(1);
    // z = W x with W = [1 0; 0 1; 1 1], b = 0: a label is predicted where z >= 0 (p >= 0.5).
    net.layer<0>().weights() << 1, 0, 0, 1, 1, 1;
    net.layer<0>().bias().setZero();
    Eigen::MatrixXd X(2, 4), Y(3, 4);
    X << 1, -1, 2, -0.5,  //
        -1, -1, 1, 2;
    Y << 1, 0, 1, 1,  //
        0, 0, 1, 1,   //
        1, 1, 1, 1;
    Eigen::MatrixXi expected(3, 4);
    expected << 1, 0, 1, 0,  //
        0, 0, 1, 1,          //
        1, 0, 1, 1;          // z = 0 in column 0 gives p = 0.5: a 1
    CHECK(net.predict(X) == expected);
    // Labels right: 3, 2, 3, 2 of 3 per sample: 10 of 12; every label right in 2 of 4 samples.
    const sn::MultilabelEvaluation e = sn::evaluate(net, X, Y);
    CHECK(e.accuracy == doctest::Approx(10.0 / 12.0));
    CHECK(e.exact_match == doctest::Approx(0.5));
    CHECK(sn::accuracy(net, X, Y) == doctest::Approx(10.0 / 12.0));
    // The loss by hand: BinaryCrossEntropy averages its outputs, evaluate averages samples.
    const Eigen::MatrixXd W = (Eigen::MatrixXd(3, 2) << 1, 0, 0, 1, 1, 1).finished();
    double total = 0;
    for (int j = 0; j < 4; ++j)
        for (int i = 0; i < 3; ++i) {
            const double z = W.row(i).dot(X.col(j)), p = 1 / (1 + std::exp(-z));
            total -= (Y(i, j) * std::log(p) + (1 - Y(i, j)) * std::log(1 - p)) / 3;
        }
    CHECK(e.loss == doctest::Approx(total / 4).epsilon(1e-12));
}

TEST_CASE("a multi-label network learns three independent yes/no labels; History's accuracy is per label") {
    using Net = sn::Network<sn::Dense<2, 16>, sn::Tanh, sn::Dense<16, 3>, sn::Sigmoid, sn::BinaryCrossEntropy>;
    sn::Matrix<float> X(2, 600), Y(3, 600);
    sn::Rng rng(3);
    for (Eigen::Index j = 0; j < 600; ++j) {
        X(0, j) = static_cast<float>(sn::detail::uniform(rng, -1, 1));
        X(1, j) = static_cast<float>(sn::detail::uniform(rng, -1, 1));
        Y(0, j) = X(0, j) > 0 ? 1.0f : 0.0f;
        Y(1, j) = X(1, j) > 0 ? 1.0f : 0.0f;
        Y(2, j) = X(0, j) + X(1, j) > 0 ? 1.0f : 0.0f;
    }
    Net net(2);
    sn::Adam adam(0.01f);
    sn::FitOptions o{.epochs = 40, .batch_size = 32, .seed = 5, .validation_split = 100};
    const sn::History h = sn::fit(net, adam, X, Y, o);
    const sn::Matrix<float> Xv = X.rightCols(100), Yv = Y.rightCols(100);
    const sn::MultilabelEvaluation e = sn::evaluate(net, Xv, Yv);
    CHECK(*h.back().validation_accuracy == doctest::Approx(e.accuracy).epsilon(1e-12));
    CHECK(e.accuracy > 0.95);
    CHECK(e.exact_match > 0.85);
    CHECK(e.exact_match <= e.accuracy);
    CHECK(h.back().accuracy > 0.9);
    CHECK(h.back().accuracy <= 1.0);

    // Targets must be labels in [0, 1]: a 2 is refused by name.
    sn::Matrix<float> bad = Y;
    bad(1, 7) = 2;
    CHECK_THROWS_WITH_AS(sn::fit(net, adam, X, bad, o), doctest::Contains("target 1 of sample 7 is 2"),
                         std::invalid_argument);
}
