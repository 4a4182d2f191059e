// The layer contract (layer.hpp), met from outside namespace scratchnet: a PReLU
// with one learned slope trains and passes gradient_check with no library edit.
// Also Dropout and LeakyReLU, the library's own layers written against it.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <cmath>
#include <string>

namespace user {

namespace sn = scratchnet;

/// f(x) = x for x > 0, a x otherwise, with one slope a shared by all units and
/// learned (He et al. 2015). Not elementwise: its backward needs the input x.
///   df/dx = [x > 0] + a [x <= 0],   dL/da = sum over units and samples of dL/df * min(x, 0).
template <class T>
class PReLULayer {
public:
    static constexpr sn::Index inputs = 0;  // shape-preserving
    static constexpr sn::Index outputs = 0;
    static constexpr sn::Index parameter_count = 1;
    static std::string name() { return "PReLU"; }

    void attach(T* params) { a_ = params; }
    void initialize(sn::Rng&, sn::Init) { *a_ = T(0.25); }  // the paper's start

    void forward(const sn::BatchView<T>& X, sn::Matrix<T>& Y, sn::NoScratch&, const sn::Pass&) const {
        Y = (X.array() > T(0)).select(X, *a_ * X);
    }
    void backward(const sn::BatchView<T>& X, const sn::Matrix<T>& dY, sn::Matrix<T>* dX, T* grad, sn::NoScratch&,
                  const sn::Pass&) const {
        grad[0] = (X.array() > T(0)).select(T(0), X.array() * dY.array()).sum();
        if (dX != nullptr) *dX = (X.array() > T(0)).select(dY, *a_ * dY);
    }
    T slope() const { return *a_; }

private:
    T* a_ = nullptr;
};

/// The spec written in Network<...>.
struct PReLU {
    static constexpr sn::Index inputs = 0;
    static constexpr sn::Index outputs = 0;
    static constexpr sn::Index parameter_count = 1;
    static constexpr sn::Init init_before = sn::Init::he;
    static std::string name() { return "PReLU"; }
    template <class T>
    using bind = PReLULayer<T>;
};

}  // namespace user

namespace sn = scratchnet;

namespace {

template <class T>
void xor_data(sn::Matrix<T>& X, sn::Labels& y) {
    X.resize(2, 4);
    X << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    y.resize(4);
    y << 0, 1, 1, 0;
}

}  // namespace

TEST_CASE("a layer defined outside the library: PReLU passes gradient_check and trains XOR") {
    using Net = sn::BasicNetwork<double, sn::Dense<2, 6>, user::PReLU, sn::Dense<6, 2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::Layer<user::PReLU>);
    static_assert(Net::parameter_count == (2 * 6 + 6) + 1 + (6 * 2 + 2));
    CHECK(Net::architecture() == "Dense<2,6>,PReLU,Dense<6,2>,Softmax,CrossEntropy");

    Net net(3);
    CHECK(net.layer<1>().slope() == 0.25);
    CHECK(net.parameters()[18] == 0.25);  // its parameter sits between the two Dense layers

    sn::Matrix<double> X(2, 12);
    sn::Rng rng(11);
    for (sn::Index k = 0; k < X.size(); ++k) X.data()[k] = sn::detail::uniform(rng, -2, 2);
    sn::Matrix<double> Y = sn::Matrix<double>::Zero(2, 12);
    for (sn::Index j = 0; j < 12; ++j) Y(j % 2, j) = 1;
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(report, report);
    // The slope's own gradient is checked, and is not trivially zero.
    CHECK(net.layer_of_parameter(18) == 1);

    sn::Matrix<double> Xx;
    sn::Labels y;
    xor_data(Xx, y);
    sn::Adam adam{0.05f};
    sn::fit(net, adam, Xx, y, {.epochs = 400, .batch_size = 4, .seed = 1});
    CHECK(sn::accuracy(net, Xx, y) == 1.0);
    CHECK(net.layer<1>().slope() != 0.25);  // the slope learned
}

TEST_CASE("Dropout keeps 1 - rate of the values, scaled by 1 / (1 - rate), in training passes only") {
    using Layer = sn::Dropout<0.25>::bind<float>;
    const Layer dropout;
    Layer::Scratch s;
    const sn::Matrix<float> ones = sn::Matrix<float>::Ones(200, 50);

    sn::Matrix<float> A = ones;
    dropout.forward(A, s, sn::Pass{});
    CHECK(A == ones);  // inference: the identity

    const sn::Pass pass = sn::Pass::training(7);
    dropout.forward(A, s, pass);
    const auto kept = (A.array() != 0.0f).count();
    CHECK(kept > 0.72 * 10000);
    CHECK(kept < 0.78 * 10000);
    CHECK(((A.array() == 0.0f) || (A.array() == 1.0f / 0.75f)).all());

    // backward multiplies by the same mask
    sn::Matrix<float> dA = sn::Matrix<float>::Constant(200, 50, 2.0f);
    dropout.backward(A, dA, s, pass);
    CHECK(dA == 2.0f * A);

    // A sample's mask depends on its place, not on the batch it came in with.
    sn::Matrix<float> tail = ones.rightCols(30);
    dropout.forward(tail, s, pass.shifted(20));
    CHECK(tail == A.rightCols(30));
    // ...and differs between samples, streams and layers.
    CHECK(A.col(0) != A.col(1));
    sn::Matrix<float> other = ones;
    dropout.forward(other, s, sn::Pass::training(8));
    CHECK(other != A);
    dropout.forward(other, s, pass.for_layer(3));
    CHECK(other != A);

    CHECK(sn::Dropout<0.2>::name() == "Dropout<0.2>");
    CHECK(sn::LeakyReLU::name() == "LeakyReLU<0.01>");
}

TEST_CASE("a network with Dropout: inference is the network without it, training passes check and differ") {
    using Drop = sn::BasicNetwork<double, sn::Dense<3, 8>, sn::ReLU, sn::Dropout<0.5>, sn::Dense<8, 2>, sn::Softmax,
                                  sn::CrossEntropy>;
    using Plain = sn::BasicNetwork<double, sn::Dense<3, 8>, sn::ReLU, sn::Dense<8, 2>, sn::Softmax, sn::CrossEntropy>;
    Drop drop(5);
    const Plain plain(5);
    REQUIRE(drop.parameters() == plain.parameters());  // Dropout owns nothing and draws nothing

    sn::Matrix<double> X(3, 16);
    sn::Rng rng(2);
    for (sn::Index k = 0; k < X.size(); ++k) X.data()[k] = sn::detail::uniform(rng, -1, 1);
    sn::Matrix<double> Y = sn::Matrix<double>::Zero(2, 16);
    for (sn::Index j = 0; j < 16; ++j) Y(j % 2, j) = 1;

    const sn::Matrix<double> inference = drop.forward(X);
    Plain::Workspace ws;
    CHECK(inference == plain.forward(Plain::Batch(X.data(), X.rows(), X.cols()), ws));
    const sn::Matrix<double> trained = drop.forward(X, sn::Mode::training);
    CHECK(trained != inference);
    const sn::Matrix<double> again = drop.forward(X, sn::Mode::training);
    CHECK(again != trained);  // a fresh mask for each training pass
    CHECK(drop.forward(X) == inference);  // and nothing left behind

    sn::GradientCheckOptions o;
    o.mode = sn::Mode::training;
    const auto report = sn::gradient_check(drop, X, Y, o);
    CHECK_MESSAGE(report, report);
    o.mode = sn::Mode::inference;
    const auto inference_report = sn::gradient_check(drop, X, Y, o);
    CHECK_MESSAGE(inference_report, inference_report);
}

TEST_CASE("LeakyReLU: forward, backward from its output, He initialisation before it") {
    sn::Matrix<float> A(1, 4);
    A << -2.0f, -0.5f, 0.0f, 3.0f;
    sn::LeakyReLU::forward(A);
    CHECK(A(0) == doctest::Approx(-0.02f));
    CHECK(A(1) == doctest::Approx(-0.005f));
    CHECK(A(2) == 0.0f);
    CHECK(A(3) == 3.0f);
    sn::Matrix<float> dA = sn::Matrix<float>::Ones(1, 4);
    sn::LeakyReLU::backward(A, dA);
    CHECK(dA(0) == doctest::Approx(0.01f));
    CHECK(dA(2) == doctest::Approx(0.01f));
    CHECK(dA(3) == 1.0f);

    // He before LeakyReLU as before ReLU (N(0, 2/In): a wide spread), Glorot before Tanh.
    using Leaky = sn::Network<sn::Dense<400, 400>, sn::LeakyReLU, sn::Dense<400, 2>, sn::Softmax, sn::CrossEntropy>;
    using Relu = sn::Network<sn::Dense<400, 400>, sn::ReLU, sn::Dense<400, 2>, sn::Softmax, sn::CrossEntropy>;
    using Tanh = sn::Network<sn::Dense<400, 400>, sn::Tanh, sn::Dense<400, 2>, sn::Softmax, sn::CrossEntropy>;
    const Leaky leaky(1);
    CHECK(leaky.parameters() == Relu(1).parameters());
    const auto sd = [](const auto& net) {
        const auto& W = net.template layer<0>().weights();
        return std::sqrt(static_cast<double>(W.squaredNorm()) / static_cast<double>(W.size()));
    };
    CHECK(sd(leaky) == doctest::Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
    CHECK(sd(Tanh(1)) == doctest::Approx(std::sqrt(6.0 / 800) / std::sqrt(3.0)).epsilon(0.02));

    using Net = sn::BasicNetwork<double, sn::Dense<2, 5>, sn::LeakyReLU, sn::Dense<5, 2>, sn::Softmax, sn::CrossEntropy>;
    sn::Matrix<double> X(2, 8);
    sn::Rng rng(4);
    for (sn::Index k = 0; k < X.size(); ++k) X.data()[k] = sn::detail::uniform(rng, -1, 1);
    sn::Matrix<double> Y = sn::Matrix<double>::Zero(2, 8);
    for (sn::Index j = 0; j < 8; ++j) Y(j % 2, j) = 1;
    // A step far below the smallest |pre-activation| keeps every difference on one
    // side of LeakyReLU's kink (the default 1e-3 steps across one here).
    sn::GradientCheckOptions o;
    o.step = 1e-6;
    o.richardson = false;
    o.tolerance = 1e-6;
    const auto report = sn::gradient_check(Net(9), X, Y, o);
    CHECK_MESSAGE(report, report);
}

TEST_CASE("set_parameters copies a vector of the right size and refuses any other, naming both sizes") {
    using Net = sn::Network<sn::Dense<2, 3>, sn::ReLU, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;
    Net net(1);
    const Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(Net::parameter_count, -1.0, 1.0);
    net.set_parameters(v);
    CHECK(net.parameters() == v.cast<float>());
    CHECK(net.layer<0>().weights()(0, 0) == -1.0f);  // the views see the new values
    CHECK_THROWS_WITH_AS(net.set_parameters(Eigen::VectorXf::Zero(5)),
                         "scratchnet::Network::set_parameters: got 5 values but the network has 17 parameters",
                         std::invalid_argument);
}
