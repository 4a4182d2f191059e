#include <doctest/doctest.h>
#include <scratchnet/losses.hpp>

#include <cmath>

namespace sn = scratchnet;
using doctest::Approx;

namespace {
Eigen::MatrixXd probabilities() {
    Eigen::MatrixXd P(3, 2);
    P << 0.7, 0.1, 0.2, 0.3, 0.1, 0.6;
    return P;
}
Eigen::MatrixXd one_hot() {
    Eigen::MatrixXd Y(3, 2);
    Y << 1, 0, 0, 0, 0, 1;
    return Y;
}

// Checks Loss::gradient against centred differences of Loss::sum.
template <class L>
void check_gradient(const Eigen::MatrixXd& P, const Eigen::MatrixXd& Y) {
    Eigen::MatrixXd dP(P.rows(), P.cols());
    L::gradient(P, Y, 1.0, dP);
    for (Eigen::Index i = 0; i < P.size(); ++i) {
        Eigen::MatrixXd Pp = P, Pm = P;
        Pp.data()[i] += 1e-7;
        Pm.data()[i] -= 1e-7;
        CHECK(dP.data()[i] == Approx((L::sum(Pp, Y) - L::sum(Pm, Y)) / 2e-7).epsilon(1e-6));
    }
}
}  // namespace

TEST_CASE("cross-entropy by hand: -log of the true class's probability, summed over samples") {
    CHECK(sn::CrossEntropy::sum(probabilities(), one_hot()) == Approx(-std::log(0.7) - std::log(0.6)));
    check_gradient<sn::CrossEntropy>(probabilities(), one_hot());
}

TEST_CASE("cross-entropy of a zero probability is large but finite") {
    Eigen::MatrixXf P(2, 1), Y(2, 1);
    P << 0.f, 1.f;
    Y << 1.f, 0.f;
    const float l = sn::CrossEntropy::sum(P, Y);
    CHECK(std::isfinite(l));
    CHECK(l > 80.f);
}

TEST_CASE("mean squared error by hand: the mean over outputs of squared differences") {
    // column 0: (0.3^2 + 0.2^2 + 0.1^2)/3 = 0.14/3; column 1: (0.1^2 + 0.3^2 + 0.4^2)/3 = 0.26/3
    CHECK(sn::MeanSquaredError::sum(probabilities(), one_hot()) == Approx(0.4 / 3));
    check_gradient<sn::MeanSquaredError>(probabilities(), one_hot());
}

TEST_CASE("binary cross-entropy by hand") {
    Eigen::MatrixXd P(2, 1), Y(2, 1);
    P << 0.8, 0.3;
    Y << 1, 0;
    CHECK(sn::BinaryCrossEntropy::sum(P, Y) == Approx(-(std::log(0.8) + std::log(0.7)) / 2));
    check_gradient<sn::BinaryCrossEntropy>(P, Y);
}

TEST_CASE("fused softmax + cross-entropy gradient equals the chain through both") {
    Eigen::MatrixXd Z(3, 2);
    Z << 0.5, -1, 2, 0.3, -0.7, 1.2;
    Eigen::MatrixXd P = Z;
    sn::Softmax::forward(P);
    const Eigen::MatrixXd Y = one_hot();
    Eigen::MatrixXd chain(3, 2), fused(3, 2);
    sn::CrossEntropy::gradient(P, Y, 0.5, chain);
    sn::Softmax::backward(P, chain);
    sn::FusedGradient<sn::Softmax, sn::CrossEntropy>::apply(P, Y, 0.5, fused);
    CHECK((chain - fused).norm() < 1e-14);
    static_assert(sn::FusedGradient<sn::Softmax, sn::CrossEntropy>::value);
    static_assert(sn::FusedGradient<sn::Sigmoid, sn::BinaryCrossEntropy>::value);
    static_assert(!sn::FusedGradient<sn::Softmax, sn::MeanSquaredError>::value);
}

TEST_CASE("fused sigmoid + binary cross-entropy gradient equals the chain through both") {
    Eigen::MatrixXd Z(2, 3);
    Z << 0.5, -1, 2, 0.3, -0.7, 1.2;
    Eigen::MatrixXd P = Z;
    sn::Sigmoid::forward(P);
    Eigen::MatrixXd Y(2, 3);
    Y << 1, 0, 1, 0, 0, 1;
    Eigen::MatrixXd chain(2, 3), fused(2, 3);
    sn::BinaryCrossEntropy::gradient(P, Y, 0.25, chain);
    sn::Sigmoid::backward(P, chain);
    sn::FusedGradient<sn::Sigmoid, sn::BinaryCrossEntropy>::apply(P, Y, 0.25, fused);
    CHECK((chain - fused).norm() < 1e-14);
}
