// Concurrency: a trained const network is safe to share between threads, each
// with its own workspace; parallel training is deterministic. CI runs these
// under ThreadSanitizer as well.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <thread>
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
