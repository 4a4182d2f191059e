// How data reach the library: fit, evaluate, train_step and gradient_check take
// any Eigen expression where they take a matrix, and labels where they take
// one-hot targets; a network keeps the batch that backward() needs; validation
// data, which fit() reads after its call has begun, must not be temporaries.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace sn = scratchnet;
using fixtures::ThreeClassNet;

TEST_CASE("backward() after the batch given to forward() is gone still sees that batch") {
    ThreeClassNet a(1), b(1);
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(8, X, y);
    const sn::Matrix<float> Y = sn::one_hot(y, 3);
    a.loss(X, Y);
    a.backward(Y);
    {
        sn::Matrix<float> copy = X;
        b.loss(copy, Y);
    }  // the caller's batch dies here; the network kept what backward needs
    b.backward(Y);
    CHECK(a.gradients() == b.gradients());
    b.forward(X * 2.0f);  // a temporary is fine too
    b.backward(Y);
    CHECK(b.gradients() != a.gradients());
}

TEST_CASE("ValidationData refuses temporaries, and fit checks validation data before training") {
    using V = sn::ValidationData<sn::Matrix<float>, sn::Labels>;
    static_assert(std::is_constructible_v<V, const sn::Matrix<float>&, const sn::Labels&>);
    static_assert(!std::is_constructible_v<V, const sn::Matrix<float>&, sn::Labels&&>);
    static_assert(!std::is_constructible_v<V, sn::Matrix<float>&&, const sn::Labels&>);

    ThreeClassNet net(2);
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(64, X, y);
    const sn::Matrix<float> Xv = X.leftCols(10);
    const sn::Labels yv = y.head(9);  // one short
    int epochs = 0;
    sn::SGD sgd(0.1f);
    sn::FitCallbacks count;
    count.on_epoch = [&](const sn::EpochRecord&) { return ++epochs > 0; };
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, sn::ValidationData(Xv, yv), {.epochs = 3}, count),
                         doctest::Contains("scratchnet::fit (validation data): 10 inputs but 9 targets"),
                         std::invalid_argument);
    CHECK(epochs == 0);
    CHECK_THROWS_WITH_AS(sn::confusion_matrix(net, Xv, yv), doctest::Contains("scratchnet::confusion_matrix"),
                         std::invalid_argument);
}

TEST_CASE("fit and evaluate take Eigen expressions: blocks, maps over a std::vector") {
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(100, X, y);
    const sn::FitOptions o{.epochs = 3, .batch_size = 16, .seed = 5, .threads = 1};

    ThreeClassNet a(3), b(3), c(3);
    sn::SGD s1(0.2f), s2(0.2f), s3(0.2f);
    const sn::Matrix<float> X80 = X.leftCols(80);
    const sn::Labels y80 = y.head(80);
    sn::fit(a, s1, X80, y80, o);
    sn::fit(b, s2, X.leftCols(80), y.head(80), o);
    std::vector<float> buffer(X.data(), X.data() + 4 * 80);
    std::vector<int> labels(y.data(), y.data() + 80);
    const Eigen::Map<const sn::Matrix<float>> Xm(buffer.data(), 4, 80);
    const Eigen::Map<const sn::Labels> ym(labels.data(), 80);
    sn::fit(c, s3, Xm, ym, o);
    CHECK(a.parameters() == b.parameters());
    CHECK(a.parameters() == c.parameters());
    CHECK(sn::accuracy(a, X.rightCols(20), y.tail(20)) == sn::accuracy(a, sn::Matrix<float>(X.rightCols(20)),
                                                                        sn::Labels(y.tail(20))));
}

TEST_CASE("train_step and gradient_check take Labels as fit does") {
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(12, X, y);
    const sn::Matrix<float> Y = sn::one_hot(y, 3);
    ThreeClassNet a(4), b(4);
    sn::SGD s1(0.1f), s2(0.1f);
    CHECK(sn::train_step(a, s1, X, y) == sn::train_step(b, s2, X, Y));
    CHECK(a.parameters() == b.parameters());

    const sn::GradientCheckReport by_labels = sn::gradient_check(a, X, y);
    const sn::GradientCheckReport by_matrix = sn::gradient_check(a, X, Y);
    CHECK(by_labels.max_relative_error == by_matrix.max_relative_error);
    CHECK(by_labels.checked == by_matrix.checked);
}

TEST_CASE("predict, outputs, evaluate and accuracy refuse a NaN or infinite input, naming the sample") {
    ThreeClassNet net(1);
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(20, X, y);
    X(1, 7) = std::numeric_limits<float>::quiet_NaN();
    // Before, an all-NaN sample was predicted class 0 and scored; evaluate's loss was NaN.
    CHECK_THROWS_WITH_AS(net.predict(X), doctest::Contains("predict: the inputs of sample 7 hold NaN or infinity"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.outputs(X), doctest::Contains("outputs: the inputs of sample 7"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.predict_proba(X), doctest::Contains("sample 7"), std::invalid_argument);
    X(1, 7) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(sn::evaluate(net, X, y), doctest::Contains("evaluate: the inputs of sample 7 hold NaN or infinity"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::accuracy(net, X, y, 2), doctest::Contains("sample 7"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::confusion_matrix(net, X, y), doctest::Contains("sample 7"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.predict(sn::Matrix<float>(5, 2)), doctest::Contains("X has 5 rows but the network takes"),
                         std::invalid_argument);
}

TEST_CASE("predict and outputs take bytes as fit does: scaled by 1/255, the same bits as scaled floats") {
    using Net = sn::Network<sn::Dense<6, 5>, sn::ReLU, sn::Dense<5, 3>, sn::Softmax, sn::CrossEntropy>;
    const Net net(4);
    sn::ByteMatrix B(6, 70);
    for (Eigen::Index i = 0; i < B.size(); ++i) B.data()[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    // What fit's gather does to bytes: each times float(1/255), rounded once.
    const sn::Matrix<float> scaled = B.cast<float>() * (1.0f / 255.0f);
    CHECK(net.outputs(B) == net.outputs(scaled));
    CHECK(net.outputs(B, 2) == net.outputs(scaled, 1));
    CHECK(net.predict(B) == net.predict(scaled));
    CHECK(net.predict_proba(B) == net.outputs(scaled));
    // A byte expression (a block, a map) is bytes too, not an unscaled conversion.
    CHECK(net.outputs(B.middleCols(5, 20)) == net.outputs(sn::Matrix<float>(scaled.middleCols(5, 20))));
    CHECK(net.predict(B.leftCols(3)) == net.predict(sn::Matrix<float>(scaled.leftCols(3))));
    sn::Labels y = net.predict(scaled);
    y[0] = (y[0] + 1) % 3;
    CHECK(sn::accuracy(net, B, y) == doctest::Approx(69.0 / 70.0));
    // The unscaled cast, Eigen's advice, is not the same input: the README says so.
    CHECK(net.outputs(sn::Matrix<float>(B.cast<float>())) != net.outputs(B));
}
