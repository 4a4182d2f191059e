#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sn = scratchnet;
using doctest::Approx;

namespace {
// Linear regression: convex in the parameters.
using Linear = sn::BasicNetwork<double, sn::Dense<3, 1>, sn::MeanSquaredError>;

struct Problem {
    Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 64);
    Eigen::MatrixXd Y;
    Problem() {
        Eigen::RowVector3d w(0.5, -2.0, 1.0);
        Y = (w * X).array() + 0.3;
    }
};

template <class Opt>
double loss_after(Opt& opt, int steps) {
    const Problem p;
    Linear net(1);
    double first = 0, last = 0;
    for (int s = 0; s < steps; ++s) {
        last = sn::train_step(net, opt, p.X, p.Y);
        if (s == 0) first = last;
    }
    return last / first;
}

bool close(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b) {
    return (a - b).cwiseAbs().maxCoeff() < 1e-6;
}

// One step by hand on a network whose gradient we know: theta = 0, gradient g.
template <class Opt>
Eigen::VectorXd one_step(Opt& opt, const Eigen::VectorXd& theta0, const Eigen::VectorXd& g) {
    Linear net(1);
    net.parameters() = theta0;
    net.gradients() = g;
    opt.step(net);
    return net.parameters();
}
}  // namespace

TEST_CASE("each optimizer lowers the loss of a convex problem by orders of magnitude") {
    sn::SGD sgd{0.3f};
    CHECK(loss_after(sgd, 300) < 1e-4);
    sn::Momentum momentum{0.05f, 0.9f};
    CHECK(loss_after(momentum, 300) < 1e-4);
    sn::Momentum nesterov{0.05f, 0.9f, true};
    CHECK(loss_after(nesterov, 300) < 1e-4);
    sn::Adam adam{0.05f};
    CHECK(loss_after(adam, 300) < 1e-3);
}

TEST_CASE("SGD's step matches a hand computation, with and without weight decay") {
    const Eigen::VectorXd theta = Eigen::Vector4d(1, -2, 0.5, 0);
    const Eigen::VectorXd g = Eigen::Vector4d(0.1, 0.2, -0.4, 1);
    sn::SGD plain{0.5f};
    // Hyper-parameters are floats (0.1f is not 0.1), hence the 1e-6 tolerance.
    CHECK(close(one_step(plain, theta, g), Eigen::Vector4d(0.95, -2.1, 0.7, -0.5)));
    sn::SGD decayed{0.5f, 0.1f};
    // theta - 0.5 (g + 0.1 theta)
    CHECK(close(one_step(decayed, theta, g), Eigen::Vector4d(0.9, -2.0, 0.675, -0.5)));
}

TEST_CASE("Momentum's two steps match a hand computation, classical and Nesterov") {
    const Eigen::VectorXd theta = Eigen::Vector4d(1, -2, 0.5, 0);
    const Eigen::VectorXd g = Eigen::Vector4d(0.1, 0.2, -0.4, 1);
    sn::Momentum classical{0.1f, 0.5f};
    Linear net(1);
    net.parameters() = theta;
    net.gradients() = g;
    classical.step(net);  // v = g, theta -= 0.1 g
    classical.step(net);  // v = 0.5 g + g = 1.5 g, theta -= 0.15 g
    CHECK(close(net.parameters(), theta - 0.25 * g));
    sn::Momentum nesterov{sn::MomentumOptions{.learning_rate = 0.1f, .momentum = 0.5f, .nesterov = true}};
    // v = g; theta -= 0.1 (g + 0.5 g) = 0.15 g
    CHECK(close(one_step(nesterov, theta, g), theta - 0.15 * g));
}

TEST_CASE("Adam's first step moves every parameter by the learning rate against its gradient's sign") {
    const Eigen::VectorXd theta = Eigen::Vector4d(1, -2, 0.5, 0);
    const Eigen::VectorXd g = Eigen::Vector4d(0.1, 0.2, -0.4, 1);
    sn::Adam adam{sn::AdamOptions{.learning_rate = 0.01f, .epsilon = 1e-12f}};
    // m_hat = g, v_hat = g^2: the step is lr * g / |g|.
    const Eigen::VectorXd after = one_step(adam, theta, g);
    const Eigen::VectorXd expected = theta - 0.01 * g.cwiseSign();
    CHECK((after - expected).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("optimizers refuse a learning rate that is NaN or negative") {
    CHECK_THROWS_AS(sn::SGD{std::nanf("")}, std::invalid_argument);
    CHECK_THROWS_AS(sn::SGD{-0.1f}, std::invalid_argument);
    CHECK_THROWS_AS(sn::Adam{std::nanf("")}, std::invalid_argument);
    CHECK_THROWS_AS(sn::Momentum(0.1f, -1.0f), std::invalid_argument);
    CHECK_THROWS_AS(sn::Adam(sn::AdamOptions{.beta1 = 1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(sn::Adam(sn::AdamOptions{.epsilon = 0.0f}), std::invalid_argument);
}

TEST_CASE("the Optimizer concept accepts the three optimizers and refuses a type without step()") {
    static_assert(sn::Optimizer<sn::SGD, Linear>);
    static_assert(sn::Optimizer<sn::Momentum, Linear>);
    static_assert(sn::Optimizer<sn::Adam, Linear>);
    static_assert(!sn::Optimizer<int, Linear>);
    CHECK(sn::Optimizer<sn::Adam, Linear>);
}

TEST_CASE("begin_step plus update over any ranges equals step, for every optimizer") {
    // fit() updates parameters in blocks on several threads; the parts must add
    // up to the same step exactly, over several steps (state and step counts).
    auto check = [](auto make) {
        Linear whole(1), parts(1);
        auto a = make();
        auto b = make();
        for (int step = 0; step < 3; ++step) {
            whole.gradients().setRandom();
            parts.gradients() = whole.gradients();
            a.step(whole);
            b.begin_step(parts);
            const sn::Index n = Linear::parameter_count;
            // uneven ranges, in reverse order
            for (sn::Index end = n; end > 0;) {
                const sn::Index begin = std::max<sn::Index>(0, end - 3);
                b.update(parts, begin, end);
                end = begin;
            }
            REQUIRE(whole.parameters() == parts.parameters());
        }
    };
    check([] { return sn::SGD{0.1f, 0.01f}; });
    check([] { return sn::Momentum{0.1f, 0.9f, true}; });
    check([] { return sn::Momentum{0.1f, 0.5f, false}; });
    check([] { return sn::Adam{sn::AdamOptions{.learning_rate = 0.01f, .weight_decay = 0.001f}}; });
}

TEST_CASE("Adadelta's three steps match a hand computation and its ranges; Zeiler's defaults") {
    const sn::Adadelta defaults;
    CHECK(defaults.options().learning_rate == 1.0f);
    CHECK(defaults.options().rho == 0.95f);
    CHECK(defaults.options().epsilon == 1e-7f);

    const Eigen::VectorXd theta0 = (Eigen::VectorXd(4) << 1.0, -2.0, 0.5, 0.0).finished();
    const Eigen::VectorXd g1 = (Eigen::VectorXd(4) << 0.4, -0.1, 2.0, 0.0).finished();
    const Eigen::VectorXd g2 = (Eigen::VectorXd(4) << -0.2, 0.3, 1.0, 0.5).finished();
    const double lr = 1.0, rho = static_cast<double>(0.95f), eps = 1e-6;  // the options are floats
    sn::Adadelta ada{sn::AdadeltaOptions{.learning_rate = 1.0f, .rho = 0.95f, .epsilon = 1e-6f}};
    sn::Adadelta ranged = ada;
    Linear net(1), net2(1);
    net.parameters() = theta0;
    net2.parameters() = theta0;
    Eigen::VectorXd theta = theta0, v = Eigen::VectorXd::Zero(4), u = Eigen::VectorXd::Zero(4);
    for (const Eigen::VectorXd* g : {&g1, &g2, &g1}) {
        net.gradients() = *g;
        ada.step(net);
        net2.gradients() = *g;
        ranged.begin_step(net2);
        ranged.update(net2, 2, 4);
        ranged.update(net2, 0, 2);
        for (int k = 0; k < 4; ++k) {
            v[k] = rho * v[k] + (1 - rho) * (*g)[k] * (*g)[k];
            const double d = std::sqrt(u[k] + static_cast<double>(static_cast<float>(eps))) /
                             std::sqrt(v[k] + static_cast<double>(static_cast<float>(eps))) * (*g)[k];
            u[k] = rho * u[k] + (1 - rho) * d * d;
            theta[k] -= lr * d;
        }
    }
    // Steps are about sqrt(eps) g at first: judged far below their size.
    CHECK((net.parameters() - theta).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((net.parameters() - theta0).cwiseAbs().minCoeff() > 0.0);  // every parameter with a gradient moved
    CHECK(net2.parameters() == net.parameters());
    CHECK_THROWS_AS(sn::Adadelta(sn::AdadeltaOptions{.rho = 1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(sn::Adadelta(sn::AdadeltaOptions{.epsilon = 0.0f}), std::invalid_argument);
    CHECK_THROWS_AS(sn::Adadelta(-1.0f), std::invalid_argument);
}

TEST_CASE("RMSprop's two steps match a hand computation, with and without momentum; Keras' defaults") {
    const sn::RMSprop defaults;
    CHECK(defaults.options().learning_rate == 1e-3f);
    CHECK(defaults.options().rho == 0.9f);
    CHECK(defaults.options().epsilon == 1e-7f);

    const Eigen::VectorXd theta0 = (Eigen::VectorXd(4) << 1.0, -2.0, 0.5, 0.0).finished();
    const Eigen::VectorXd g1 = (Eigen::VectorXd(4) << 0.4, -0.1, 2.0, 0.0).finished();
    const Eigen::VectorXd g2 = (Eigen::VectorXd(4) << -0.2, 0.3, 1.0, 0.5).finished();
    const double lr = 0.01, rho = 0.9, eps = 1e-7, mu = 0.5;
    for (const bool with_momentum : {false, true}) {
        CAPTURE(with_momentum);
        sn::RMSprop rms{sn::RMSpropOptions{.learning_rate = 0.01f, .rho = 0.9f, .momentum = with_momentum ? 0.5f : 0.0f}};
        Linear net(1);
        net.parameters() = theta0;
        net.gradients() = g1;
        rms.step(net);
        net.gradients() = g2;
        rms.step(net);
        Eigen::VectorXd theta = theta0, v = Eigen::VectorXd::Zero(4), m = Eigen::VectorXd::Zero(4);
        for (const Eigen::VectorXd* g : {&g1, &g2}) {
            for (int k = 0; k < 4; ++k) {
                v[k] = rho * v[k] + (1 - rho) * (*g)[k] * (*g)[k];
                const double d = lr * (*g)[k] / std::sqrt(v[k] + eps);  // Keras: epsilon inside the root
                m[k] = with_momentum ? mu * m[k] + d : d;
                theta[k] -= m[k];
            }
        }
        CHECK(close(net.parameters(), theta));
    }
    CHECK_THROWS_AS(sn::RMSprop(sn::RMSpropOptions{.rho = 1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(sn::RMSprop(sn::RMSpropOptions{.momentum = 1.0f}), std::invalid_argument);
    sn::RMSprop rms{0.01f};
    CHECK(loss_after(rms, 300) < 1e-3);
}

TEST_CASE("AdamW decouples its decay from the moments (by hand), unlike Adam's L2") {
    const Eigen::VectorXd theta0 = (Eigen::VectorXd(4) << 1.0, -2.0, 0.5, 3.0).finished();
    const Eigen::VectorXd g = (Eigen::VectorXd(4) << 0.4, -0.1, 2.0, 0.0).finished();
    const double lr = 0.01, wd = 0.1, eps = 1e-8;
    sn::AdamW adamw{sn::AdamWOptions{.learning_rate = 0.01f, .weight_decay = 0.1f}};
    const Eigen::VectorXd theta1 = one_step(adamw, theta0, g);
    // t = 1: m^ = g, v^ = g^2, so the Adam part is lr g / (|g| + eps).
    Eigen::VectorXd expected(4);
    for (int k = 0; k < 4; ++k) expected[k] = theta0[k] * (1 - lr * wd) - lr * g[k] / (std::abs(g[k]) + eps);
    CHECK(close(theta1, expected));
    CHECK(theta1[3] == Approx(3.0 * (1 - lr * wd)));  // zero gradient: only the decay moves it

    // Adam with L2 puts the decay into the gradient: at t = 1 a zero-gradient
    // weight then moves by a whole lr step, not by lr * wd of itself.
    sn::Adam adam{sn::AdamOptions{.learning_rate = 0.01f, .weight_decay = 0.1f}};
    CHECK(one_step(adam, theta0, g)[3] == Approx(3.0 - lr).epsilon(1e-6));
    CHECK(sn::AdamW{}.options().weight_decay == 0.01f);
    sn::AdamW trains{0.05f, 0.0f};
    CHECK(loss_after(trains, 300) < 1e-3);
}

TEST_CASE("an optimizer refuses to carry one network's state to another; momentum must stay below 1") {
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(16, X, y);
    fixtures::ThreeClassNet a(1), b(2);
    sn::Adam adam(0.01f);
    sn::train_step(a, adam, X, y);
    CHECK_THROWS_WITH_AS(sn::train_step(b, adam, X, y), doctest::Contains("state of another network"),
                         std::logic_error);
    fixtures::ThreeClassNet copy = a;  // a copy is another network too
    CHECK_THROWS_AS(sn::train_step(copy, adam, X, y), std::logic_error);
    adam.reset();
    fixtures::ThreeClassNet fresh(2);
    sn::Adam new_adam(0.01f);
    sn::train_step(b, adam, X, y);  // after reset(): as a new optimizer would
    sn::train_step(fresh, new_adam, X, y);
    CHECK(b.parameters() == fresh.parameters());

    sn::Momentum momentum(0.1f);
    sn::train_step(a, momentum, X, y);
    CHECK_THROWS_AS(sn::train_step(b, momentum, X, y), std::logic_error);
    sn::RMSprop rms;
    sn::train_step(a, rms, X, y);
    CHECK_THROWS_AS(sn::fit(b, rms, X, y), std::logic_error);

    CHECK_THROWS_WITH_AS(sn::Momentum(0.1f, 1.0f), doctest::Contains("momentum must lie in [0, 1)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(sn::Momentum(0.1f, 1.5f), std::invalid_argument);
}
