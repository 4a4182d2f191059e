// What a new user runs into on day one: lifetimes, data passed as Eigen
// expressions, messages that name the cause, gradient checks near ReLU kinks,
// thread counts, and a fit() that really spreads its work.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <pthread.h>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace sn = scratchnet;

namespace {
using Small = sn::Network<sn::Dense<4, 16>, sn::ReLU, sn::Dense<16, 3>, sn::Softmax, sn::CrossEntropy>;
using Course = sn::BasicNetwork<double, sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax,
                                sn::CrossEntropy>;

void toy(Eigen::Index n, sn::Matrix<float>& X, sn::Labels& y) {
    sn::Rng rng(11);
    X.resize(4, n);
    y.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
        for (Eigen::Index i = 0; i < 4; ++i) X(i, j) = static_cast<float>(sn::detail::uniform(rng, -1, 1));
        y[j] = X(0, j) + X(1, j) > 0.5f ? 2 : X(2, j) > 0 ? 1 : 0;
    }
}

unsigned hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }
}  // namespace

TEST_CASE("backward() after the batch given to forward() is gone still sees that batch") {
    Small a(1), b(1);
    sn::Matrix<float> X;
    sn::Labels y;
    toy(8, X, y);
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

TEST_CASE("ValidationData refuses temporaries; validation data are checked before training, as validation") {
    using V = sn::ValidationData<sn::Matrix<float>, sn::Labels>;
    static_assert(std::is_constructible_v<V, const sn::Matrix<float>&, const sn::Labels&>);
    static_assert(!std::is_constructible_v<V, const sn::Matrix<float>&, sn::Labels&&>);
    static_assert(!std::is_constructible_v<V, sn::Matrix<float>&&, const sn::Labels&>);

    Small net(2);
    sn::Matrix<float> X;
    sn::Labels y;
    toy(64, X, y);
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
    toy(100, X, y);
    const sn::FitOptions o{.epochs = 3, .batch_size = 16, .seed = 5, .threads = 1};

    Small a(3), b(3), c(3);
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
    toy(12, X, y);
    const sn::Matrix<float> Y = sn::one_hot(y, 3);
    Small a(4), b(4);
    sn::SGD s1(0.1f), s2(0.1f);
    CHECK(sn::train_step(a, s1, X, y) == sn::train_step(b, s2, X, Y));
    CHECK(a.parameters() == b.parameters());

    const sn::GradientCheckReport by_labels = sn::gradient_check(a, X, y);
    const sn::GradientCheckReport by_matrix = sn::gradient_check(a, X, Y);
    CHECK(by_labels.max_relative_error == by_matrix.max_relative_error);
    CHECK(by_labels.checked == by_matrix.checked);
}

TEST_CASE("an optimizer refuses to carry one network's state to another; momentum must stay below 1") {
    sn::Matrix<float> X;
    sn::Labels y;
    toy(16, X, y);
    Small a(1), b(2);
    sn::Adam adam(0.01f);
    sn::train_step(a, adam, X, y);
    CHECK_THROWS_WITH_AS(sn::train_step(b, adam, X, y), doctest::Contains("state of another network"),
                         std::logic_error);
    Small copy = a;  // a copy is another network too
    CHECK_THROWS_AS(sn::train_step(copy, adam, X, y), std::logic_error);
    adam.reset();
    Small fresh(2);
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

TEST_CASE("a NaN in the data is named as such, with its sample, not blamed on the learning rate") {
    sn::Matrix<float> X;
    sn::Labels y;
    toy(64, X, y);
    X(2, 37) = std::numeric_limits<float>::quiet_NaN();
    Small net(1);
    sn::SGD sgd(0.1f);
    try {
        sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 16});
        FAIL("fit accepted a NaN input");
    } catch (const sn::TrainingError& e) {
        const std::string what = e.what();
        CHECK(what.find("inputs of sample 37 hold NaN") != std::string::npos);
        CHECK(what.find("learning rate") == std::string::npos);
    }
    sn::Matrix<float> Xf = X;
    Xf(2, 37) = 0;
    sn::Matrix<float> Y = sn::one_hot(y, 3);
    Y(1, 5) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, Xf, Y, {.epochs = 1, .batch_size = 16}),
                         doctest::Contains("targets of sample 5 hold NaN or infinity"), sn::TrainingError);
    // Finite data and a rate that blows up: then the rate is the suspect.
    using Mse = sn::Network<sn::Dense<4, 16>, sn::ReLU, sn::Dense<16, 3>, sn::Identity, sn::MeanSquaredError>;
    Mse wild(1);
    sn::SGD huge(1e6f);
    CHECK_THROWS_WITH_AS(sn::fit(wild, huge, Xf, sn::Matrix<float>(sn::one_hot(y, 3)), {.epochs = 5, .batch_size = 16}),
                         doctest::Contains("the data are finite: try a smaller learning rate"), sn::TrainingError);
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

TEST_CASE("gradient_check: the course network on random inputs passes with the default options") {
    Course net(1);
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
// The course network with a backward that is wrong by a factor on one bias.
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

TEST_CASE("threads: the hardware's by default, requests above it clamped, results unchanged") {
    CHECK(sn::FitOptions{}.threads == 0);
    sn::Matrix<float> X;
    sn::Labels y;
    toy(256, X, y);
    Small a(7), b(7), c(7);
    sn::SGD s1(0.1f), s2(0.1f), s3(0.1f);
    const sn::History ha = sn::fit(a, s1, X, y, {.epochs = 2, .batch_size = 128, .seed = 1, .chunk_size = 32});
    const sn::History hb =
        sn::fit(b, s2, X, y, {.epochs = 2, .batch_size = 128, .seed = 1, .threads = 1000, .chunk_size = 32});
    const sn::History hc =
        sn::fit(c, s3, X, y, {.epochs = 2, .batch_size = 128, .seed = 1, .threads = 1, .chunk_size = 32});
    CHECK(ha.threads == hardware_threads());
    CHECK(hb.threads == hardware_threads());
    CHECK(hc.threads == 1);
    CHECK(a.parameters() == b.parameters());
    CHECK(a.parameters() == c.parameters());
}

TEST_CASE("fit with 2 threads runs chunks on both") {
    if (hardware_threads() < 2) return;  // clamped to 1 on a one-processor machine
    sn::Matrix<float> X;
    sn::Labels y;
    toy(512, X, y);
    Small net(1);
    sn::SGD sgd(0.1f);
    const sn::History h = sn::fit(net, sgd, X, y, {.epochs = 2, .batch_size = 256, .threads = 2, .chunk_size = 32});
    REQUIRE(h.tasks_per_thread.size() == 2);
    CHECK(h.tasks_per_thread[0] > 0);
    CHECK(h.tasks_per_thread[1] > 0);
}

namespace {
// An SGD that records how fit() updates: in ranges, and on which threads.
class RecordingSgd {
public:
    using range_update = RecordingSgd;
    template <class Net>
    void step(Net& net) {
        ++whole_steps;
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
    template <class Net>
    void begin_step(Net&) {}
    template <class Net>
    void update(Net& net, Eigen::Index begin, Eigen::Index end) {
        net.parameters().segment(begin, end - begin) -= 0.1f * net.gradients().segment(begin, end - begin);
        const std::lock_guard lock(mutex);
        ++ranges;
        threads.insert(std::this_thread::get_id());
    }
    std::mutex mutex;
    std::set<std::thread::id> threads;
    long ranges = 0, whole_steps = 0;
};
}  // namespace

TEST_CASE("fit's update runs in ranges on the pool, not as a serial step") {
    using Wide = sn::Network<sn::Dense<64, 256>, sn::ReLU, sn::Dense<256, 3>, sn::Softmax, sn::CrossEntropy>;
    Wide net(1);
    sn::Rng rng(3);
    sn::Matrix<float> X(64, 256);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<float>(sn::detail::uniform01(rng));
    sn::Labels y(256);
    for (Eigen::Index j = 0; j < 256; ++j) y[j] = static_cast<int>(j % 3);
    RecordingSgd opt;
    sn::fit(net, opt, X, y, {.epochs = 1, .batch_size = 128, .threads = 2, .chunk_size = 32});
    CHECK(opt.whole_steps == 0);
    CHECK(opt.ranges >= 2 * 2);  // 17,155 parameters: three blocks per step, two steps
    if (hardware_threads() >= 2) CHECK(opt.threads.size() == 2);
}

namespace {
// A layer whose forward sleeps on pool workers, so that the calling thread waits
// for them inside the pool while it is cancelled.
struct SlowOnWorkers {
    static constexpr Eigen::Index inputs = 0, outputs = 0, parameter_count = 0;
    static constexpr bool elementwise = true;
    static const char* name() { return "SlowOnWorkers"; }
    static inline pthread_t caller{};
    template <class T>
    static void forward(sn::Matrix<T>&) {
        if (!pthread_equal(pthread_self(), caller)) usleep(2000);
    }
    template <class T>
    static void backward(const sn::Matrix<T>&, sn::Matrix<T>&) {}
};

void* fit_forever(void*) {
    SlowOnWorkers::caller = pthread_self();
    using Net = sn::Network<sn::Dense<4, 16>, SlowOnWorkers, sn::ReLU, sn::Dense<16, 3>, sn::Softmax, sn::CrossEntropy>;
    Net net(1);
    sn::Matrix<float> X;
    sn::Labels y;
    toy(256, X, y);
    sn::SGD sgd(0.01f);
    sn::FitCallbacks callbacks;
    callbacks.on_batch = [](const sn::BatchProgress&) {
        pthread_testcancel();  // where this program lets a cancellation act
        return true;
    };
    sn::fit(net, sgd, X, y, {.epochs = 1000000, .batch_size = 256, .threads = 2, .chunk_size = 32}, callbacks);
    return nullptr;
}
}  // namespace

TEST_CASE("a thread cancelled inside fit() unwinds only after the workers let go of its stack") {
    if (hardware_threads() < 2) return;
    for (int round = 0; round < 5; ++round) {
        pthread_t t{};
        REQUIRE(pthread_create(&t, nullptr, fit_forever, nullptr) == 0);
        usleep(20000 + 3000 * static_cast<unsigned>(round));
        REQUIRE(pthread_cancel(t) == 0);
        void* result = nullptr;
        REQUIRE(pthread_join(t, &result) == 0);
        CHECK(result == PTHREAD_CANCELED);
    }
}

TEST_CASE("a pool spins only while the threads of all pools fit on the processors") {
    const unsigned cores = hardware_threads();
    {
        const sn::detail::ThreadPool one(1);
        CHECK(sn::detail::ThreadPool::may_spin());
        const sn::detail::ThreadPool all(0);  // one per processor: now one more than the cores
        CHECK(all.size() == cores);
        CHECK_FALSE(sn::detail::ThreadPool::may_spin());
    }
    CHECK(sn::detail::ThreadPool::may_spin());
    const sn::detail::ThreadPool many(3 * cores, false);  // unclamped, as a test may ask
    CHECK(many.size() == 3 * cores);
    CHECK_FALSE(sn::detail::ThreadPool::may_spin());
}

TEST_CASE("epochs = INT_MAX reserves nothing in proportion: a callback can stop it after two") {
    sn::Matrix<float> X;
    sn::Labels y;
    toy(32, X, y);
    Small net(1);
    sn::SGD sgd(0.1f);
    sn::FitCallbacks stop;
    stop.on_epoch = [](const sn::EpochRecord& r) { return r.epoch < 2; };
    const sn::History h = sn::fit(net, sgd, X, y, {.epochs = std::numeric_limits<int>::max(), .batch_size = 16}, stop);
    CHECK(h.size() == 2);
    CHECK(h.capacity() < 100000);
}
