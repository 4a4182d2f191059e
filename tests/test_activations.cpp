#include <doctest/doctest.h>
#include <scratchnet/layers/activations.hpp>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <functional>

namespace sn = scratchnet;
using doctest::Approx;

namespace {
// Centred difference of a scalar function, the oracle for every derivative here.
double centred(const std::function<double(double)>& f, double z, double h = 1e-6) {
    return (f(z + h) - f(z - h)) / (2 * h);
}
const double points[] = {-7.5, -2.0, -0.3, 0.25, 1.0, 3.7};
}  // namespace

// The names CTest shows for the templated cases below, in place of "scratchnet::Sigmoid".
TYPE_TO_STRING_AS("Sigmoid", sn::Sigmoid);
TYPE_TO_STRING_AS("Tanh", sn::Tanh);
TYPE_TO_STRING_AS("ReLU", sn::ReLU);
TYPE_TO_STRING_AS("Softmax", sn::Softmax);
TYPE_TO_STRING_AS("Identity", sn::Identity);

TEST_CASE("sigmoid matches 1 / (1 + e^-z) and its derivative s (1 - s)") {
    for (double z : points) {
        CHECK(sn::sigmoid(z) == Approx(1.0 / (1.0 + std::exp(-z))).epsilon(1e-14));
        const double s = 1.0 / (1.0 + std::exp(-z));
        CHECK(sn::sigmoid_derivative(z) == Approx(s * (1 - s)).epsilon(1e-12));
        CHECK(sn::sigmoid_derivative(z) == Approx(centred([](double v) { return sn::sigmoid(v); }, z)).epsilon(1e-8));
    }
    CHECK(sn::sigmoid(0.0) == 0.5);
}

TEST_CASE("relu matches max(0, z) and its derivative, 0 up to z = 0 and 1 above") {
    CHECK(sn::relu(-3.0) == 0.0);
    CHECK(sn::relu(2.5) == 2.5);
    CHECK(sn::relu_derivative(-0.1) == 0.0);
    CHECK(sn::relu_derivative(0.0) == 0.0);
    CHECK(sn::relu_derivative(0.1) == 1.0);
    for (double z : points)
        CHECK(sn::relu_derivative(z) == Approx(centred([](double v) { return sn::relu(v); }, z)).epsilon(1e-8));
}

TEST_CASE("tanh matches (e^z - e^-z) / (e^z + e^-z) and its derivative 1 - tanh^2") {
    for (double z : points) {
        const double closed = (std::exp(z) - std::exp(-z)) / (std::exp(z) + std::exp(-z));
        CHECK(sn::tanh(z) == Approx(closed).epsilon(1e-12));
        CHECK(sn::tanh_derivative(z) == Approx(1 - closed * closed).epsilon(1e-10));
        CHECK(sn::tanh_derivative(z) == Approx(centred([](double v) { return sn::tanh(v); }, z)).epsilon(1e-8));
    }
}

TEST_CASE("matrix forms apply element-wise and agree with the scalar forms") {
    Eigen::MatrixXd Z(2, 3);
    Z << -2, -0.5, 0, 0.5, 2, 4;
    const Eigen::MatrixXd s = sn::sigmoid(Z), ds = sn::sigmoid_derivative(Z), r = sn::relu(Z),
                          dr = sn::relu_derivative(Z), t = sn::tanh(Z), dt = sn::tanh_derivative(Z);
    for (Eigen::Index i = 0; i < Z.size(); ++i) {
        const double z = Z.data()[i];
        CHECK(s.data()[i] == Approx(sn::sigmoid(z)));
        CHECK(ds.data()[i] == Approx(sn::sigmoid_derivative(z)));
        CHECK(r.data()[i] == sn::relu(z));
        CHECK(dr.data()[i] == sn::relu_derivative(z));
        CHECK(t.data()[i] == Approx(sn::tanh(z)));
        CHECK(dt.data()[i] == Approx(sn::tanh_derivative(z)));
    }
}

TEST_CASE("sigmoid of +-1000 is exactly 1 and 0, with no NaN and no overflow") {
    std::feclearexcept(FE_ALL_EXCEPT);
    Eigen::MatrixXf Z(1, 4);
    Z << -1000.f, -100.f, 100.f, 1000.f;
    const Eigen::MatrixXf s = sn::sigmoid(Z);
    CHECK(s(0, 0) == 0.0f);
    CHECK(s(0, 3) == 1.0f);
    CHECK(s.allFinite());
    CHECK(sn::sigmoid(-1000.0) == 0.0);
    CHECK(sn::sigmoid(1000.0) == 1.0);
    CHECK_FALSE(std::fetestexcept(FE_OVERFLOW));
}

TEST_CASE("softmax of [1000, 1001, 1002] is finite, sums to 1, equals softmax of [0, 1, 2]") {
    Eigen::MatrixXd z(3, 1);
    z << 1000, 1001, 1002;
    const Eigen::MatrixXd p = sn::softmax(z);
    REQUIRE(p.allFinite());
    CHECK(p.sum() == Approx(1.0).epsilon(1e-15));
    const double e0 = 1, e1 = std::exp(1.0), e2 = std::exp(2.0), sum = e0 + e1 + e2;
    CHECK(p(0) == Approx(e0 / sum).epsilon(1e-14));
    CHECK(p(1) == Approx(e1 / sum).epsilon(1e-14));
    CHECK(p(2) == Approx(e2 / sum).epsilon(1e-14));
}

TEST_CASE("softmax works column by column: each column sums to 1 independently") {
    Eigen::MatrixXd Z(3, 2);
    Z << 1, -5, 2, 0, 3, 5;
    const Eigen::MatrixXd P = sn::softmax(Z);
    CHECK(P.col(0).sum() == Approx(1.0));
    CHECK(P.col(1).sum() == Approx(1.0));
    // Column 0 is not influenced by column 1: compare with softmax of column 0 alone.
    const Eigen::MatrixXd p0 = sn::softmax(Eigen::MatrixXd(Z.col(0)));
    CHECK((P.col(0) - p0).norm() < 1e-15);
    // The rows do not sum to 1: this is not a row-wise softmax.
    CHECK(P.row(0).sum() != Approx(1.0));
}

TEST_CASE_TEMPLATE("activation layers back-propagate the centred-difference Jacobian-vector product", Act,
                   sn::Sigmoid, sn::Tanh, sn::ReLU, sn::Softmax, sn::Identity) {
    // L = sum(G .* f(Z)) for a fixed G, so dL/dZ = backward(f(Z), G).
    Eigen::MatrixXd Z(4, 3);
    Z << 0.3, -1.2, 2.0, -0.7, 0.9, 1.1, 1.5, -0.4, -2.2, 0.05, 0.6, -0.8;
    Eigen::MatrixXd G(4, 3);
    G << 1.0, -0.5, 0.25, 2.0, 0.3, -1.0, -0.7, 0.8, 1.5, 0.1, -0.2, 0.9;
    const auto loss = [&](const Eigen::MatrixXd& Zp) {
        Eigen::MatrixXd A = Zp;
        Act::forward(A);
        return (G.array() * A.array()).sum();
    };
    Eigen::MatrixXd A = Z;
    Act::forward(A);
    Eigen::MatrixXd dZ = G;
    Act::backward(A, dZ);
    for (Eigen::Index i = 0; i < Z.size(); ++i) {
        Eigen::MatrixXd Zp = Z, Zm = Z;
        Zp.data()[i] += 1e-6;
        Zm.data()[i] -= 1e-6;
        const double numeric = (loss(Zp) - loss(Zm)) / 2e-6;
        CHECK(dZ.data()[i] == Approx(numeric).epsilon(1e-7));
    }
}

TEST_CASE_TEMPLATE("ReLU's backward keeps dA's bits where a > 0 and writes +0 elsewhere, at any length", T, float,
                   double) {
    // Lengths 1..40 take every mix of full SIMD packets, a half packet and single
    // entries; the values include a NaN, infinities and both zeros on both sides.
    const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
    const T a_values[] = {T(1.5), T(-2), T(0), -T(0), nan, inf, -inf, T(1e-30), T(-1e-30), T(3)};
    const T d_values[] = {T(0.25), inf, nan, T(-7), T(2), -T(0), T(5), -inf, T(1), T(-0.5)};
    for (Eigen::Index n = 1; n <= 40; ++n) {
        sn::Matrix<T> A(n, 1), dA(n, 1);
        for (Eigen::Index i = 0; i < n; ++i) {
            A(i) = a_values[i % 10];
            dA(i) = d_values[(i * 3) % 10];
        }
        const sn::Matrix<T> before = dA;
        sn::ReLU::backward(A, dA);
        for (Eigen::Index i = 0; i < n; ++i) {
            CAPTURE(n);
            CAPTURE(i);
            if (A(i) > T(0)) {  // the same bits, NaN and signed zero included
                CHECK(std::memcmp(&dA(i), &before(i), sizeof(T)) == 0);
            } else {
                CHECK(dA(i) == T(0));
                CHECK_FALSE(std::signbit(dA(i)));
            }
        }
    }
}

TEST_CASE_TEMPLATE("LeakyReLU's forward and backward scale exactly where z <= 0, at any length", T, float, double) {
    const T slope = T(sn::LeakyReLU::slope);
    for (Eigen::Index n = 1; n <= 40; ++n) {
        sn::Matrix<T> Z(n, 1), G(n, 1);
        for (Eigen::Index i = 0; i < n; ++i) {
            Z(i) = T(0.37) * static_cast<T>((i * 7) % 11) - T(1.8);  // both signs, and exact zeros
            G(i) = T(0.5) - T(0.11) * static_cast<T>(i % 9);
        }
        sn::Matrix<T> A = Z;
        sn::LeakyReLU::forward(A);
        sn::Matrix<T> dA = G;
        sn::LeakyReLU::backward(A, dA);
        for (Eigen::Index i = 0; i < n; ++i) {
            CAPTURE(n);
            CAPTURE(i);
            CHECK(A(i) == (Z(i) > T(0) ? Z(i) : slope * Z(i)));
            CHECK(dA(i) == (Z(i) > T(0) ? G(i) : slope * G(i)));
        }
    }
}
