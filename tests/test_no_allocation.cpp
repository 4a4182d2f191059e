// Proves "no heap allocation inside a training step": Eigen's runtime check turns
// any allocation through Eigen into an assertion failure while disallowed.
#define EIGEN_RUNTIME_NO_MALLOC
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

namespace sn = scratchnet;

namespace {
using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;

struct NoMalloc {
    NoMalloc() { Eigen::internal::set_is_malloc_allowed(false); }
    ~NoMalloc() { Eigen::internal::set_is_malloc_allowed(true); }
};

template <class Opt>
void steps_allocate_nothing(Opt& opt) {
    Course net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 128);
    sn::Matrix<float> Y = sn::Matrix<float>::Zero(10, 128);
    for (int j = 0; j < 128; ++j) Y(j % 10, j) = 1;
    sn::train_step(net, opt, X, Y);  // sizes workspaces and optimizer state
    const NoMalloc guard;
    for (int s = 0; s < 3; ++s) CHECK(std::isfinite(sn::train_step(net, opt, X, Y)));
}
}  // namespace

TEST_CASE("the check is live: an allocation while disallowed is caught") {
    // Eigen asserts on a disallowed malloc; we cannot catch an assert, so this test
    // only proves the switch exists and toggles.
    CHECK(Eigen::internal::is_malloc_allowed());
    {
        const NoMalloc guard;
        CHECK_FALSE(Eigen::internal::is_malloc_allowed());
    }
    CHECK(Eigen::internal::is_malloc_allowed());
}

TEST_CASE("train_step with SGD allocates nothing after its first call") {
    sn::SGD sgd{0.1f};
    steps_allocate_nothing(sgd);
}

TEST_CASE("train_step with Momentum and Adam allocates nothing after its first call") {
    sn::Momentum momentum{0.05f, 0.9f, true};
    steps_allocate_nothing(momentum);
    sn::Adam adam{1e-3f};
    steps_allocate_nothing(adam);
}

TEST_CASE("a chunked, threaded batch gradient allocates nothing after its first call") {
    Course net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 128);
    sn::Matrix<float> Y = sn::Matrix<float>::Zero(10, 128);
    for (int j = 0; j < 128; ++j) Y(j % 10, j) = 1;
    sn::detail::BatchGradient<Course> gradient(2, 32);
    sn::SGD sgd{0.1f};
    gradient.run(net, X, Y);
    sgd.step(net);
    const NoMalloc guard;
    for (int s = 0; s < 3; ++s) {
        CHECK(std::isfinite(gradient.run(net, X, Y).loss_sum));
        sgd.step(net);
    }
}
