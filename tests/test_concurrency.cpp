// Concurrency: a trained const network is safe to share between threads, each
// with its own workspace; fit() runs on the threads it reports, spreads its work
// and its updates over them, and lets go of a cancelled caller's stack; the pool
// spins only while it has the processors to itself. CI runs these under
// ThreadSanitizer as well.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <pthread.h>
#include <set>
#include <thread>
#include <unistd.h>
#include <vector>

namespace sn = scratchnet;

namespace {
using Net = sn::Network<sn::Dense<20, 32>, sn::ReLU, sn::Dense<32, 5>, sn::Softmax, sn::CrossEntropy>;

Net trained() {
    Net net(3);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(20, 256);
    sn::Labels y(256);
    for (int j = 0; j < 256; ++j) y[j] = X.col(j).head(5).maxCoeff() > 0.5f ? j % 5 : (j + 1) % 5;
    sn::SGD sgd{0.1f};
    sn::fit(net, sgd, X, y, {.epochs = 3, .batch_size = 32, .seed = 1, .threads = 2, .chunk_size = 16});
    return net;
}

unsigned hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }
}  // namespace

TEST_CASE("predict from 4 threads on one const network equals the serial result") {
    const Net net = trained();
    const sn::Matrix<float> X = sn::Matrix<float>::Random(20, 400);
    const sn::Labels serial = net.predict(X);
    const sn::Matrix<float> P_serial = [&] {
        Net::Workspace ws;
        return sn::Matrix<float>(net.forward(Net::Batch(X.data(), 20, 400), ws));
    }();
    std::vector<sn::Labels> labels(4);
    std::vector<sn::Matrix<float>> outputs(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            Net::Workspace ws;  // each thread its own
            for (int repeat = 0; repeat < 5; ++repeat) {
                net.predict(Net::Batch(X.data(), 20, 400), ws, labels[static_cast<std::size_t>(t)]);
                outputs[static_cast<std::size_t>(t)] = net.forward(Net::Batch(X.data(), 20, 400), ws);
            }
        });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) {
        CHECK(labels[static_cast<std::size_t>(t)] == serial);
        CHECK(outputs[static_cast<std::size_t>(t)] == P_serial);  // bit for bit
    }
}

TEST_CASE("evaluate and accuracy run concurrently on one const network") {
    const Net net = trained();
    const sn::Matrix<float> X = sn::Matrix<float>::Random(20, 300);
    sn::Labels y(300);
    for (int j = 0; j < 300; ++j) y[j] = j % 5;
    const double expected = sn::accuracy(net, X, y);
    std::vector<double> got(3);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 3; ++t) threads.emplace_back([&, t] { got[t] = sn::accuracy(net, X, y); });
    for (auto& th : threads) th.join();
    for (double g : got) CHECK(g == expected);
}

TEST_CASE("predict, outputs, evaluate, accuracy and confusion_matrix on 2 threads give the bits of 1") {
    const Net net = trained();
    static_assert(Net::inference_batch_size == 1024);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(20, 3000);  // three blocks, the last short
    sn::Labels y(3000);
    for (int j = 0; j < 3000; ++j) y[j] = (j * 7) % 5;
    const sn::Labels one = net.predict(X, 1);
    const sn::Matrix<float> P1 = net.outputs(X, 1);
    // One thread is the plain block loop: check it against a single pass first.
    Net::Workspace ws;
    CHECK(P1.middleCols(1024, 1024) == net.forward(Net::Batch(X.data() + 1024 * 20, 20, 1024), ws));
    for (unsigned threads : {2u, 0u}) {
        CAPTURE(threads);
        CHECK(net.predict(X, threads) == one);
        CHECK(net.outputs(X, threads) == P1);
        const sn::Evaluation a = sn::evaluate(net, X, y, 1), b = sn::evaluate(net, X, y, threads);
        CHECK(a.loss == b.loss);
        CHECK(a.accuracy == b.accuracy);
        CHECK(sn::accuracy(net, X, y, threads) == a.accuracy);
        CHECK(sn::confusion_matrix(net, X, y, threads) == sn::confusion_matrix(net, X, y, 1));
    }
    CHECK(sn::confusion_matrix(net, X, y, 1) == sn::confusion_matrix(one, y, Net::class_count));
}

TEST_CASE("inference on threads from several user threads at once equals the one-thread result") {
    const Net net = trained();
    const sn::Matrix<float> X = sn::Matrix<float>::Random(20, 2100);
    sn::Labels y(2100);
    for (int j = 0; j < 2100; ++j) y[j] = j % 5;
    const sn::Evaluation expected = sn::evaluate(net, X, y, 1);
    const sn::Labels labels = net.predict(X, 1);
    std::vector<sn::Evaluation> got(3);
    std::vector<sn::Labels> predicted(3);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 3; ++t)
        threads.emplace_back([&, t] {
            got[t] = sn::evaluate(net, X, y, 2);
            predicted[t] = net.predict(X, 2);
        });
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < 3; ++t) {
        CHECK(got[t].loss == expected.loss);
        CHECK(got[t].accuracy == expected.accuracy);
        CHECK(predicted[t] == labels);
    }
}

TEST_CASE("a pool thread that is held up does not hold up the tasks it has not started") {
    // Task 1 belongs to thread 1 and waits until every other task is done. Thread 1's
    // other tasks (3, 5, 7, 9) can then only finish if another thread takes them.
    sn::detail::ThreadPool::forget_busy_machine();  // a split run, not one alone
    sn::detail::ThreadPool pool(2, false);
    std::atomic<int> done{0};
    std::atomic<bool> waited_out{false};
    auto task = [&](std::size_t i) {
        if (i == 1) {
            const auto start = std::chrono::steady_clock::now();
            while (done.load() < 9) {
                if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) {
                    waited_out = true;
                    break;
                }
                std::this_thread::yield();
            }
        }
        ++done;
    };
    pool.run(10, task);
    CHECK(done.load() == 10);
    CHECK_FALSE(waited_out.load());
}

TEST_CASE("a pool whose caller keeps waiting for a descheduled thread runs alone for a while") {
    sn::detail::ThreadPool::forget_busy_machine();
    sn::detail::ThreadPool pool(2, false);
    std::vector<int> hits(2, 0);
    // On thread 1 a task takes a millisecond, as if the machine had taken its core
    // away; on the caller a tenth of that, so the caller waits on every split run
    // in which thread 1 took a task.
    auto task = [&](std::size_t i, unsigned thread) {
        if (thread != 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } else {
            const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
            while (std::chrono::steady_clock::now() < until) {
            }
        }
        ++hits[i];
    };
    int rounds = 0;
    for (; rounds < 2000 && pool.solo_runs() == 0; ++rounds) pool.run(hits.size(), task);
    if (pool.tasks_run(1) == 0) {  // valgrind runs one thread at a time: the caller took every task
        MESSAGE("skipped: thread 1 never took a task, so the caller never waited");
        return;
    }
    CHECK(pool.solo_runs() > 0);
    const std::size_t before = pool.tasks_run(1);
    for (int more = 0; more < 20; ++more, ++rounds) pool.run(hits.size(), task);  // alone: thread 1 idle
    CHECK(pool.tasks_run(1) == before);
    CHECK(hits[0] == rounds);
    CHECK(hits[1] == rounds);
    // How busy the machine is, the pools share: a new pool (a new fit()) starts alone.
    sn::detail::ThreadPool fresh(2, false);
    fresh.run(hits.size(), task);
    CHECK(fresh.solo_runs() == 1);
    CHECK(fresh.tasks_run(1) == 0);
    sn::detail::ThreadPool::forget_busy_machine();
}

TEST_CASE("a pool's first runs are not judged, and on a quiet machine one late run needs a second") {
    // Task 1 sleeps 20 ms on thread 1, and task 0 holds the caller until task 1
    // has begun, so the caller cannot take it: every run keeps the caller waiting
    // for thread 1 far longer than it worked itself.
    sn::detail::ThreadPool::forget_busy_machine();
    sn::detail::ThreadPool pool(2, false);
    std::atomic<int> begun{0};
    std::atomic<bool> hold{true}, waited_out{false};
    int rounds = 0;
    auto task = [&](std::size_t i, unsigned thread) {
        if (i == 0) {
            const auto start = std::chrono::steady_clock::now();
            while (hold.load() && begun.load() <= rounds) {
                if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) {
                    waited_out = true;  // alone before its time: task 1 never began
                    break;
                }
                std::this_thread::yield();
            }
        } else {
            ++begun;
            if (thread != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    };
    // Runs 1-4 warm the pool up (a worker's first tasks touch its buffers for the
    // first time); run 5 is late, but one late run may be chance.
    for (; rounds < 5; ++rounds) pool.run(2, task);
    CHECK(pool.solo_runs() == 0);
    pool.run(2, task);  // late again, 1 run later: the machine is busy
    ++rounds;
    CHECK(pool.solo_runs() == 0);
    hold = false;  // alone, the caller runs task 0 before task 1
    pool.run(2, task);
    CHECK(pool.solo_runs() == 1);
    CHECK_FALSE(waited_out.load());
    sn::detail::ThreadPool::forget_busy_machine();
}

TEST_CASE("a pool whose calling thread gets too small a share of a processor runs alone for a while") {
    // The caller's tasks sleep: for the caller's clocks that is time without a
    // processor, as when it shares its core with a busy process. Its workers never
    // keep it waiting, so only the share it was given can tell; within a window of
    // split runs (32) and one more it must go alone.
    sn::detail::ThreadPool::forget_busy_machine();
    sn::detail::ThreadPool pool(2, false);
    std::vector<int> hits(2, 0);
    auto task = [&](std::size_t i, unsigned thread) {
        if (thread == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
        ++hits[i];
    };
    int rounds = 0;
    for (; rounds < 200 && pool.solo_runs() == 0; ++rounds) pool.run(hits.size(), task);
    CHECK(pool.solo_runs() == 1);
    CHECK(rounds <= 40);
    CHECK(hits[0] == rounds);
    CHECK(hits[1] == rounds);
    sn::detail::ThreadPool::forget_busy_machine();
}

TEST_CASE("the thread pool runs every task exactly once and rethrows a task's exception") {
    sn::detail::ThreadPool pool(3);
    std::vector<int> hits(50, 0);
    auto task = [&](std::size_t i) { ++hits[i]; };
    for (int round = 0; round < 20; ++round) pool.run(hits.size(), task);
    for (int h : hits) CHECK(h == 20);
    auto failing = [](std::size_t i) {
        if (i == 4) throw std::runtime_error("task 4 failed");
    };
    CHECK_THROWS_WITH_AS(pool.run(8, failing), "task 4 failed", std::runtime_error);
    pool.run(hits.size(), task);  // still usable afterwards
    CHECK(hits[0] == 21);
}

TEST_CASE("fit uses every processor by default and clamps larger requests, with the same results") {
    CHECK(sn::FitOptions{}.threads == 0);
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(256, X, y);
    fixtures::ThreeClassNet a(7), b(7), c(7);
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

namespace {
// An element-wise layer that takes half a millisecond per pass on any thread: the
// chunks take long enough that a worker the pool wakes is there before the
// caller has taken every one (a thread claims what is left; see thread_pool.hpp).
struct SlowEverywhere {
    static constexpr Eigen::Index inputs = 0, outputs = 0, parameter_count = 0;
    static constexpr bool elementwise = true;
    static const char* name() { return "SlowEverywhere"; }
    template <class T>
    static void forward(sn::Matrix<T>&) {
        usleep(500);
    }
    template <class T>
    static void backward(const sn::Matrix<T>&, sn::Matrix<T>&) {}
};
}  // namespace

TEST_CASE("fit with 2 threads runs chunks on both") {
    if (hardware_threads() < 2) return;  // clamped to 1 on a one-processor machine
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(512, X, y);
    sn::Network<sn::Dense<4, 16>, SlowEverywhere, sn::ReLU, sn::Dense<16, 3>, sn::Softmax, sn::CrossEntropy> net(1);
    sn::SGD sgd(0.1f);
    const sn::History h = sn::fit(net, sgd, X, y, {.epochs = 2, .batch_size = 256, .threads = 2, .chunk_size = 32});
    REQUIRE(h.tasks_per_thread.size() == 2);
    CHECK(h.tasks_per_thread[0] > 0);
    // Unless the machine was so busy that the pool ran alone (thread_pool.hpp).
    CHECK((h.tasks_per_thread[1] > 0 || h.solo_runs > 0));
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
        usleep(1000);  // long enough for the pool's other thread to take a range (see SlowEverywhere)
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
    const sn::History h = sn::fit(net, opt, X, y, {.epochs = 1, .batch_size = 128, .threads = 2, .chunk_size = 32});
    CHECK(opt.whole_steps == 0);
    CHECK(opt.ranges >= 2 * 2);  // 17,155 parameters: three blocks per step, two steps
    // Both threads update, unless the machine was so busy that the pool ran alone.
    if (hardware_threads() >= 2 && h.solo_runs == 0) CHECK(opt.threads.size() == 2);
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
    using Slow = sn::Network<sn::Dense<4, 16>, SlowOnWorkers, sn::ReLU, sn::Dense<16, 3>, sn::Softmax, sn::CrossEntropy>;
    Slow net(1);
    sn::Matrix<float> X;
    sn::Labels y;
    fixtures::three_classes(256, X, y);
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
