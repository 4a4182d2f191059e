#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace sn = scratchnet;

namespace {
// A batch where every class is present and inputs are not tiny.
template <class Net>
void data(Eigen::MatrixXd& X, Eigen::MatrixXd& Y, int batch, bool one_hot) {
    X = Eigen::MatrixXd::Random(Net::input_size, batch) * 1.5;
    if (one_hot) {
        Y = Eigen::MatrixXd::Zero(Net::output_size, batch);
        for (int j = 0; j < batch; ++j) Y(j % Net::output_size, j) = 1;
    } else {
        Y = (Eigen::MatrixXd::Random(Net::output_size, batch).array() * 0.5 + 0.5).matrix();  // in [0, 1]
    }
}

template <class Net>
sn::GradientCheckReport check(std::uint64_t seed, bool one_hot = true) {
    std::srand(static_cast<unsigned>(seed));  // Eigen's Random draws from rand()
    const Net net(seed);
    Eigen::MatrixXd X, Y;
    data<Net>(X, Y, 6, one_hot);
    return sn::gradient_check(net, X, Y);
}

template <class... P>
using D = sn::BasicNetwork<double, P...>;
}  // namespace

// Depth 1 to 4, every activation and every loss; the target is < 1e-7 in double.
TEST_CASE("gradient_check passes depth 1: each loss on its natural output") {
    auto r1 = check<D<sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy>>(1);
    CHECK_MESSAGE(r1, r1);
    auto r2 = check<D<sn::Dense<4, 3>, sn::Sigmoid, sn::BinaryCrossEntropy>>(2, false);
    CHECK_MESSAGE(r2, r2);
    auto r3 = check<D<sn::Dense<4, 3>, sn::Identity, sn::MeanSquaredError>>(3, false);
    CHECK_MESSAGE(r3, r3);
    auto r4 = check<D<sn::Dense<4, 3>, sn::MeanSquaredError>>(4, false);
    CHECK_MESSAGE(r4, r4);
}

TEST_CASE("gradient_check passes depth 2 with each hidden activation") {
    auto a = check<D<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>>(5);
    CHECK_MESSAGE(a, a);
    auto b = check<D<sn::Dense<3, 5>, sn::ReLU, sn::Dense<5, 3>, sn::Softmax, sn::CrossEntropy>>(6);
    CHECK_MESSAGE(b, b);
    auto c = check<D<sn::Dense<3, 5>, sn::Sigmoid, sn::Dense<5, 2>, sn::Sigmoid, sn::BinaryCrossEntropy>>(7, false);
    CHECK_MESSAGE(c, c);
    auto d = check<D<sn::Dense<3, 5>, sn::Identity, sn::Dense<5, 2>, sn::Tanh, sn::MeanSquaredError>>(8, false);
    CHECK_MESSAGE(d, d);
}

TEST_CASE("gradient_check passes the non-fused pairs: softmax with MSE, sigmoid with cross-entropy") {
    auto a = check<D<sn::Dense<3, 5>, sn::Tanh, sn::Dense<5, 4>, sn::Softmax, sn::MeanSquaredError>>(9, false);
    CHECK_MESSAGE(a, a);
    auto b = check<D<sn::Dense<3, 5>, sn::Tanh, sn::Dense<5, 4>, sn::Sigmoid, sn::CrossEntropy>>(10);
    CHECK_MESSAGE(b, b);
}

TEST_CASE("gradient_check passes networks of depth 3 and 4") {
    auto a = check<D<sn::Dense<3, 6>, sn::ReLU, sn::Dense<6, 5>, sn::Tanh, sn::Dense<5, 3>, sn::Softmax,
                     sn::CrossEntropy>>(11);
    CHECK_MESSAGE(a, a);
    auto b = check<D<sn::Dense<2, 8>, sn::Tanh, sn::Dense<8, 8>, sn::ReLU, sn::Dense<8, 8>, sn::Sigmoid,
                     sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>>(12);
    CHECK_MESSAGE(b, b);
}

TEST_CASE("softmax + cross-entropy stays exact for targets whose columns do not sum to 1") {
    const D<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy> net(13);
    Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 5);
    Eigen::MatrixXd Y(3, 5);
    Y << 0.5, 0, 2, 0.1, 0,  //
        0, 0, 1, 0.2, 0,     //
        1, 0, 0, 0.3, 0;     // sums 1.5, 0 (an ignored sample), 3, 0.6, 0
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(report, report);
}

TEST_CASE("a NaN gradient is a failure, never a pass") {
    D<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy> net(1);
    net.parameters()[7] = std::numeric_limits<double>::quiet_NaN();
    const Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 4);
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(2, 4);
    Y.row(0).setOnes();
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_FALSE(report);
    CHECK(std::isinf(report.max_relative_error));
}

TEST_CASE("a float network is checked through a double copy, and a sample of parameters suffices") {
    using Net = sn::Network<sn::Dense<784, 16>, sn::ReLU, sn::Dense<16, 10>, sn::Softmax, sn::CrossEntropy>;
    const Net net(3);
    Eigen::MatrixXf X = Eigen::MatrixXf::Random(784, 4).cwiseAbs();
    Eigen::MatrixXf Y = Eigen::MatrixXf::Zero(10, 4);
    for (int j = 0; j < 4; ++j) Y(j, j) = 1;
    const auto report = sn::gradient_check(net, X, Y, {.sample = 300, .seed = 1});
    CHECK(report.checked == 300);
    CHECK_MESSAGE(report, report);
}

namespace {
// A loss whose gradient is deliberately wrong (half of the truth): the check must catch it.
struct BrokenLoss {
    static constexpr const char* name() { return "BrokenLoss"; }
    template <class DP, class DY>
    static typename DP::Scalar sum(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        return sn::MeanSquaredError::sum(P, Y);
    }
    template <class DP, class DY, class S>
    static void gradient(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, sn::Matrix<S>& dP) {
        sn::MeanSquaredError::gradient(P, Y, S(0.5) * scale, dP);
    }
};
}  // namespace

TEST_CASE("a wrong gradient is reported, with where it happened") {
    const sn::BasicNetwork<double, sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, BrokenLoss> net(1);
    const Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 5);
    const Eigen::MatrixXd Y = Eigen::MatrixXd::Random(2, 5);
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_FALSE(report);
    CHECK(report.max_relative_error > 0.3);  // analytic = numeric / 2 gives 1/3 everywhere
    CHECK(report.checked == decltype(net)::parameter_count);
    std::ostringstream os;
    os << report;
    CHECK(os.str().find("max relative error") != std::string::npos);
    CHECK(os.str().find(">= 1e-07") != std::string::npos);
}

TEST_CASE("gradient_check passes a correct ReLU network whose pre-activations sit near 0") {
    using Net = sn::BasicNetwork<double, sn::Dense<2, 6>, sn::ReLU, sn::Dense<6, 2>, sn::MeanSquaredError>;
    Net net(3);
    Eigen::MatrixXd X(2, 4), Y(2, 4);
    X << 0.5, -1.0, 1.5, 0.25,  //
        1.0, 0.5, -0.5, -1.5;
    Y << 0.1, 0.9, 0.3, 0.5,  //
        0.7, 0.2, 0.4, 0.8;
    // Put hidden unit 0's pre-activation for sample 0 at 3e-4: the default steps
    // (1e-3 and 2e-3) of its bias cross the kink; a step of 1e-5 does not.
    auto W = net.layer<0>().weights();
    auto b = net.layer<0>().bias();
    b[0] = 3e-4 - W.row(0).dot(X.col(0));
    const sn::GradientCheckReport r = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(r, r);
    CHECK(r.rechecked >= 1);
    CHECK(r.at_kinks == 0);
    CHECK(r.checked == Net::parameter_count);

    sn::GradientCheckOptions leave_out;
    leave_out.kink_step_factor = 0;
    const sn::GradientCheckReport s = sn::gradient_check(net, X, Y, leave_out);
    CHECK_MESSAGE(s, s);
    CHECK(s.at_kinks >= 1);
    CHECK(s.checked + s.at_kinks == Net::parameter_count);
    std::ostringstream text;
    text << s;
    CHECK(text.str().find("left out, their differences crossing a kink") != std::string::npos);
}

TEST_CASE("gradient_check passes the course network on random inputs with its default options") {
    fixtures::BasicCourse<double> net(1);
    sn::Rng rng(9);
    Eigen::MatrixXd X(784, 8), Y = Eigen::MatrixXd::Zero(10, 8);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = sn::detail::uniform01(rng);
    for (int j = 0; j < 8; ++j) Y(j, j) = 1;
    sn::GradientCheckOptions o;
    o.sample = 1500;  // of 101,770: enough to meet parameters whose steps cross a kink
    o.seed = 2;
    const sn::GradientCheckReport r = sn::gradient_check(net, X, Y, o);
    CHECK_MESSAGE(r, r);
    CHECK(r.rechecked + r.at_kinks >= 1);
}

namespace {
// A layer without parameters whose backward is wrong by a factor (1.01) on output 0.
struct WrongBias {
    static constexpr Eigen::Index inputs = 0, outputs = 0, parameter_count = 0;
    static constexpr bool elementwise = true;
    static const char* name() { return "WrongBias"; }
    template <class T>
    static void forward(sn::Matrix<T>&) {}
    template <class T>
    static void backward(const sn::Matrix<T>&, sn::Matrix<T>& dA) {
        dA.row(0) *= T(1.01);
    }
};
}  // namespace

TEST_CASE("gradient_check still fails a wrong backward near kinks") {
    using Net = sn::BasicNetwork<double, sn::Dense<2, 6>, sn::ReLU, sn::Dense<6, 2>, WrongBias, sn::MeanSquaredError>;
    Net net(3);
    Eigen::MatrixXd X(2, 4), Y = Eigen::MatrixXd::Constant(2, 4, 0.5);
    X << 0.5, -1.0, 1.5, 0.25,  //
        1.0, 0.5, -0.5, -1.5;
    net.layer<0>().bias()[0] = 3e-4 - net.layer<0>().weights().row(0).dot(X.col(0));
    const sn::GradientCheckReport r = sn::gradient_check(net, X, Y);
    CHECK_FALSE(r);
    CHECK(r.max_relative_error > 1e-3);
    std::ostringstream text;
    text << r;
    CHECK(text.str().find("check backward()") != std::string::npos);
}
