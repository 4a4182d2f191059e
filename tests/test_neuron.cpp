#include <doctest/doctest.h>
#include <scratchnet/neuron.hpp>

#include <cmath>
#include <stdexcept>

namespace sn = scratchnet;
using doctest::Approx;

TEST_CASE("a sigmoid neuron computes sigma(w . x + b) by hand") {
    Eigen::VectorXd w(3), x(3);
    w << 0.5, -1.0, 2.0;
    x << 1.0, 2.0, 0.25;
    const sn::Neuron<sn::Sigmoid> n(w, 0.1);
    // z = 0.5 * 1 - 1 * 2 + 2 * 0.25 + 0.1 = -0.9
    CHECK(n.forward(x) == Approx(1.0 / (1.0 + std::exp(0.9))).epsilon(1e-14));
}

TEST_CASE("a ReLU neuron clips at zero and a Tanh neuron saturates") {
    Eigen::VectorXd w(2), x(2);
    w << 1.0, 1.0;
    x << -3.0, 1.0;
    CHECK(sn::Neuron<sn::ReLU>(w, 0.5).forward(x) == 0.0);
    CHECK(sn::Neuron<sn::ReLU>(w, 2.5).forward(x) == Approx(0.5));
    CHECK(sn::Neuron<sn::Tanh>(w, 40.0).forward(x) == Approx(1.0));
}

TEST_CASE("a neuron refuses an input of the wrong length") {
    const sn::Neuron<sn::Sigmoid> n(Eigen::VectorXd::Ones(3), 0.0);
    CHECK_THROWS_WITH_AS(n.forward(Eigen::VectorXd::Ones(2)),
                         "scratchnet::Neuron::forward: x has 2 entries but the neuron has 3 weights",
                         std::invalid_argument);
}
