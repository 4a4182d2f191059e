// How data reach the library: fit, evaluate, train_step and gradient_check take
// any Eigen expression where they take a matrix, and labels where they take
// one-hot targets; a network keeps the batch that backward() needs; validation
// data, which fit() reads after its call has begun, must not be temporaries.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

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
