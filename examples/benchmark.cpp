// scratchnet's benchmark: training epochs against a hand-written Eigen loop of the
// same network in the same run, achieved GFLOP/s against the machine's GEMM rate,
// inference throughput, MNIST load times, 1 vs 2 threads and compile times.
// Prints a table and writes benchmark.csv and benchmark.json. Uses the real MNIST
// data when present, synthetic data of the same shape otherwise.
#include <scratchnet/scratchnet.hpp>

#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <thread>
#include <vector>

namespace sn = scratchnet;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Median wall time of f over `reps` runs (after one warm-up run).
double time_median(int reps, const std::function<void()>& f) {
    f();
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto start = Clock::now();
        f();
        t.push_back(seconds_since(start));
    }
    return median(t);
}

struct Row {
    std::string name;
    double value;
    std::string unit;
};

// ---------------------------------------------------------------------------
// The baseline: a plain hand-written Eigen training loop for an MLP with ReLU
// hidden layers, softmax output and cross-entropy, SGD. Everything preallocated,
// every product noalias(), batches gathered from bytes like fit() does.
class HandMlp {
public:
    HandMlp(const std::vector<int>& sizes, int batch) : sizes_(sizes) {
        const std::size_t L = sizes.size() - 1;
        W_.resize(L), b_.resize(L), dW_.resize(L), db_.resize(L), A_.resize(L + 1), D_.resize(L + 1);
        for (std::size_t l = 0; l < L; ++l) {
            W_[l] = Eigen::MatrixXf::Random(sizes[l + 1], sizes[l]) * std::sqrt(2.0f / static_cast<float>(sizes[l]));
            b_[l] = Eigen::VectorXf::Zero(sizes[l + 1]);
            dW_[l].resize(sizes[l + 1], sizes[l]);
            db_[l].resize(sizes[l + 1]);
        }
        for (std::size_t l = 0; l <= L; ++l) {
            A_[l].resize(sizes[l], batch);
            D_[l].resize(sizes[l], batch);
        }
    }

    void epoch(const sn::ByteMatrix& X, const sn::Labels& y, const std::vector<sn::Index>& order, int batch, float lr) {
        const auto n = static_cast<sn::Index>(order.size());
        const std::size_t L = W_.size();
        for (sn::Index begin = 0; begin < n; begin += batch) {
            const sn::Index m = std::min<sn::Index>(batch, n - begin);
            for (std::size_t l = 0; l <= L; ++l) {
                A_[l].resize(sizes_[l], m);
                D_[l].resize(sizes_[l], m);
            }
            for (sn::Index j = 0; j < m; ++j) A_[0].col(j) = X.col(order[begin + j]).cast<float>() * (1.0f / 255.0f);
            for (std::size_t l = 0; l < L; ++l) {
                A_[l + 1].noalias() = W_[l] * A_[l];
                A_[l + 1].colwise() += b_[l];
                if (l + 1 < L) A_[l + 1] = A_[l + 1].cwiseMax(0.0f);
            }
            Eigen::MatrixXf& P = A_[L];
            for (sn::Index j = 0; j < m; ++j) {
                P.col(j).array() = (P.col(j).array() - P.col(j).maxCoeff()).exp();
                P.col(j) /= P.col(j).sum();
            }
            D_[L] = P;
            for (sn::Index j = 0; j < m; ++j) D_[L](y[order[begin + j]], j) -= 1.0f;
            D_[L] *= 1.0f / static_cast<float>(m);
            for (std::size_t l = L; l-- > 0;) {
                dW_[l].noalias() = D_[l + 1] * A_[l].transpose();
                db_[l].noalias() = D_[l + 1].rowwise().sum();
                if (l > 0) {
                    D_[l].noalias() = W_[l].transpose() * D_[l + 1];
                    D_[l] = (A_[l].array() > 0.0f).select(D_[l], 0.0f);
                }
            }
            for (std::size_t l = 0; l < L; ++l) {
                W_[l].noalias() -= lr * dW_[l];
                b_[l].noalias() -= lr * db_[l];
            }
        }
    }

private:
    std::vector<int> sizes_;
    std::vector<Eigen::MatrixXf> W_, dW_, A_, D_;
    std::vector<Eigen::VectorXf> b_, db_;
};

/// GEMM FLOPs of one training epoch: forward 2 B In Out per Dense, backward the
/// weight gradient of every Dense and the input gradient of all but the first.
double epoch_flops(const std::vector<int>& sizes, double samples) {
    double per_sample = 0;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        const double io = 2.0 * sizes[l] * sizes[l + 1];
        per_sample += io /* forward */ + io /* dW */ + (l > 0 ? io : 0.0) /* dX */;
    }
    return per_sample * samples;
}

/// The machine's float GEMM rate: `threads` independent 1536^3 GEMMs at once,
/// through Eigen's product or through the kernel under scratchnet's layers
/// (detail::GemmSite: scratchnet's own on AVX-512, Eigen's otherwise).
class GemmRate {
public:
    explicit GemmRate(int threads)
        : threads_(threads), A_(threads), B_(threads), C_(threads), sites_(static_cast<std::size_t>(threads)) {
        for (int t = 0; t < threads; ++t) {
            A_[t] = Eigen::MatrixXf::Random(kN, kN);
            B_[t] = Eigen::MatrixXf::Random(kN, kN);
            C_[t].resize(kN, kN);
        }
    }
    /// GFLOP/s of one round (the first round of each kind also warms up).
    double measure(bool scratchnet_kernel) {
        const auto round = [&] {
            std::vector<std::thread> pool;
            for (int k = 1; k < threads_; ++k) pool.emplace_back([&, k] { product(k, scratchnet_kernel); });
            product(0, scratchnet_kernel);
            for (auto& th : pool) th.join();
        };
        if (!warm_[scratchnet_kernel ? 1 : 0]) {
            round();
            warm_[scratchnet_kernel ? 1 : 0] = true;
        }
        const auto start = Clock::now();
        round();
        return 2.0 * kN * kN * kN * threads_ / seconds_since(start) / 1e9;
    }
    /// The faster of the two kernels, one round each.
    double best() { return std::max(measure(false), measure(true)); }

private:
    static constexpr int kN = 1536;
    void product(int k, bool scratchnet_kernel) {
        if (scratchnet_kernel)
            sites_[static_cast<std::size_t>(k)].run(kN, kN, kN, A_[k].data(), kN, B_[k].data(), kN, C_[k].data(), kN,
                                                    1.0f, false);
        else
            C_[k].noalias() = A_[k] * B_[k];
    }
    int threads_;
    std::vector<Eigen::MatrixXf> A_, B_, C_;
    std::vector<sn::detail::GemmSite<float, Eigen::ColMajor, Eigen::ColMajor>> sites_;
    bool warm_[2] = {false, false};
};

double gemm_gflops(int threads, int reps, bool scratchnet_kernel) {
    GemmRate rate(threads);
    std::vector<double> r;
    for (int k = 0; k < reps; ++k) r.push_back(rate.measure(scratchnet_kernel));
    return median(r);
}

/// Microseconds to read `bytes` that the other core has just written, and that
/// this core has just written itself: what data-parallel training pays each
/// batch to move weights and gradients between the two cores.
std::pair<double, double> transfer_micros(std::size_t bytes, int reps) {
    // Integers, so that the compiler vectorises both loops: the reads then run
    // at the memory system's speed, not at the latency of a chain of float adds.
    std::vector<std::uint32_t> buffer(bytes / sizeof(std::uint32_t), 1u);
    std::atomic<int> turn{0};
    volatile std::uint32_t sink = 0;
    const auto write = [&] {
        for (std::uint32_t& x : buffer) x += 1u;
    };
    const auto read = [&] {
        std::uint32_t s = 0;
        for (std::uint32_t x : buffer) s += x;
        sink = s;
    };
    constexpr int rounds = 200;
    // Remote: the other thread writes, this one reads; alternate turns.
    std::vector<double> remote, local;
    for (int r = 0; r < reps; ++r) {
        double spent = 0;
        std::thread writer([&] {
            for (int i = 0; i < rounds; ++i) {
                while (turn.load(std::memory_order_acquire) != 2 * i) {
                }
                write();
                turn.store(2 * i + 1, std::memory_order_release);
            }
        });
        for (int i = 0; i < rounds; ++i) {
            while (turn.load(std::memory_order_acquire) != 2 * i + 1) {
            }
            const auto start = Clock::now();
            read();
            spent += seconds_since(start);
            turn.store(2 * i + 2, std::memory_order_release);
        }
        writer.join();
        turn.store(0);
        remote.push_back(spent / rounds * 1e6);
        spent = 0;
        for (int i = 0; i < rounds; ++i) {
            write();
            const auto start = Clock::now();
            read();
            spent += seconds_since(start);
        }
        local.push_back(spent / rounds * 1e6);
    }
    return {median(remote), median(local)};
}

template <class Net>
void bench_network(const char* label, const std::vector<int>& sizes, const sn::MnistSet<sn::ByteMatrix>& data, int reps,
                   std::vector<Row>& rows) {
    const auto& X = data.train.images;
    const auto& y = data.train.labels;
    const double samples = static_cast<double>(X.cols());
    const double flops = epoch_flops(sizes, samples);
    // Five contenders, measured in turn within each repetition (after one warm-up
    // round) so that the machine's drift hits them alike and their ratios hold:
    // the library at 1 thread with the NaN/inf guard off (to price the guard), at
    // 1 thread, at 2 threads split by samples (fit's default) and by rows, and
    // the hand-written loop.
    enum { kNoGuard, kOne, kTwoSamples, kTwoRows, kHand, kContenders };
    Net nets[kHand] = {Net(1), Net(1), Net(1), Net(1)};
    sn::SGD sgd[kHand] = {sn::SGD{0.01f}, sn::SGD{0.01f}, sn::SGD{0.01f}, sn::SGD{0.01f}};
    HandMlp hand(sizes, 128);
    std::vector<sn::Index> order(static_cast<std::size_t>(X.cols()));
    std::iota(order.begin(), order.end(), sn::Index{0});
    sn::Rng rng(1);
    std::vector<double> times[kContenders];
    const auto run = [&](int contender, bool keep) {
        const auto start = Clock::now();
        if (contender == kHand) {
            sn::detail::shuffle(order.begin(), order.end(), rng);
            hand.epoch(X, y, order, 128, 0.01f);
        } else {
            const bool two = contender == kTwoSamples || contender == kTwoRows;
            const sn::BatchSplit split = contender == kTwoSamples ? sn::BatchSplit::by_samples
                                         : contender == kTwoRows  ? sn::BatchSplit::by_rows
                                                                  : sn::BatchSplit::automatic;
            sn::fit(nets[contender], sgd[contender], X, y,
                    {.epochs = 1, .batch_size = 128, .seed = static_cast<std::uint64_t>(times[contender].size() + 1),
                     .threads = two ? 2u : 1u, .check_finite = contender != kNoGuard, .split = split});
        }
        if (keep) times[contender].push_back(seconds_since(start));
    };
    // The order rotates from round to round: whichever runs first after another
    // program's epoch was seen to pay for it.
    for (int round = 0; round <= reps; ++round)
        for (int k = 0; k < kContenders; ++k) run((round + k) % kContenders, round > 0);
    double t[kContenders];
    for (int k = 0; k < kContenders; ++k) t[k] = median(times[k]);
    const double two = t[kTwoSamples];  // BatchSplit::automatic
    const double hand_t = t[kHand];
    const std::string p = std::string(label) + ": ";
    rows.push_back({p + "epoch, scratchnet, 1 thread", t[kOne], "s"});
    rows.push_back({p + "epoch, scratchnet, 2 threads", two, "s"});
    rows.push_back({p + "epoch, hand-written Eigen loop", hand_t, "s"});
    rows.push_back({p + "ratio scratchnet 1 thread / hand-written", t[kOne] / hand_t, "x"});
    rows.push_back({p + "ratio scratchnet 2 threads / hand-written", two / hand_t, "x"});
    rows.push_back({p + "2 threads, batch split by samples", t[kTwoSamples], "s"});
    rows.push_back({p + "2 threads, layer 0 split by rows", t[kTwoRows], "s"});
    rows.push_back({p + "row split / sample split (< 1: rows faster)", t[kTwoRows] / t[kTwoSamples], "x"});
    rows.push_back({p + "epoch, scratchnet, 1 thread, NaN guard off", t[kNoGuard], "s"});
    rows.push_back({p + "cost of the NaN guard (1 thread)", t[kOne] / t[kNoGuard] - 1.0, "x"});
    rows.push_back({p + "GEMM work per epoch", flops / 1e9, "GFLOP"});
    rows.push_back({p + "achieved, 1 thread", flops / t[kOne] / 1e9, "GFLOP/s"});
    rows.push_back({p + "achieved, 2 threads", flops / two / 1e9, "GFLOP/s"});

    // Inference: predict() over the test set, serial and from 2 threads sharing one const network.
    const Net net(1);
    const sn::Matrix<float> T = data.test.images.cast<float>() / 255.0f;
    const double serial = time_median(reps, [&] {
        const sn::Labels p1 = net.predict(T);
        if (p1.size() != T.cols()) std::abort();
    });
    const double parallel = time_median(reps, [&] {
        const sn::Index half = T.cols() / 2;
        std::thread other([&] {
            typename Net::Workspace ws;
            sn::Labels out;
            net.predict(typename Net::Batch(T.data() + half * T.rows(), T.rows(), T.cols() - half), ws, out);
        });
        typename Net::Workspace ws;
        sn::Labels out;
        net.predict(typename Net::Batch(T.data(), T.rows(), half), ws, out);
        other.join();
    });
    rows.push_back({p + "predict, 1 thread", static_cast<double>(T.cols()) / serial, "samples/s"});
    rows.push_back({p + "predict, 2 threads", static_cast<double>(T.cols()) / parallel, "samples/s"});
}

// Multiply-adds x 2 of one sample's training pass through a layer: forward, weight
// gradient, and (unless it is the first layer) input gradient.
double pass_flops(double forward_flops, bool first) { return forward_flops * (first ? 2.0 : 3.0); }
double conv_flops(int in_c, int out_c, int k, int out_h, int out_w, bool first) {
    return pass_flops(2.0 * out_c * out_h * out_w * in_c * k * k, first);
}
double dense_flops(int in, int out) { return pass_flops(2.0 * in * out, false); }
// mnist_cnn's second convolution runs Winograd's F(2x2, 3x3): 16 products over
// channels per 2 x 2 block of outputs (its first, with one input channel, im2col).
using MnistCnnConv2 = sn::Conv2D<32, 64, 3>::bind_image<float, 32, 26, 26>;
static_assert(MnistCnnConv2::winograd && !sn::Conv2D<1, 32, 3>::bind_image<float, 1, 28, 28>::winograd,
              "mnist_cnn's work below counts its second convolution as Winograd's, its first as im2col's");
double mnist_cnn_conv2_flops() {
    return pass_flops(2.0 * 16 * static_cast<double>(MnistCnnConv2::Winograd::kTiles) * 32 * 64, false);
}

// Convolutional networks: epoch time with Adam at batch 128 on 1 and 2 threads,
// measured in turn after a warm-up, over the first `samples` training images and
// scaled to 60,000 (a whole epoch of mnist_cnn takes most of a minute here); the
// GFLOP/s of the products the network runs (for mnist_cnn's second convolution,
// Winograd's; its first, with one input channel, runs im2col).
template <class Net>
void bench_cnn(const char* label, double flops_per_sample, sn::Index samples, const sn::MnistSet<sn::ByteMatrix>& data,
               int reps, std::vector<Row>& rows) {
    const sn::Index n = std::min(samples, data.train.images.cols());
    const auto X = data.train.images.leftCols(n);
    const auto y = data.train.labels.head(n);
    const double scale = 60000.0 / static_cast<double>(n);
    std::vector<double> times[2];
    for (int round = 0; round <= reps; ++round)
        for (int k = 0; k < 2; ++k) {
            const int which = (round + k) % 2;
            Net net(1);
            sn::Adam adam(1e-3f);
            const auto start = Clock::now();
            sn::fit(net, adam, X, y, {.epochs = 1, .batch_size = 128, .seed = 1, .threads = which == 0 ? 1u : 2u});
            if (round > 0) times[which].push_back(seconds_since(start) * scale);
        }
    const std::string p = std::string(label) + ": ";
    const double one = median(times[0]), two = median(times[1]);
    rows.push_back({p + "epoch, 1 thread (timed on " + std::to_string(n) + " samples)", one, "s"});
    rows.push_back({p + "epoch, 2 threads (timed on " + std::to_string(n) + " samples)", two, "s"});
    rows.push_back({p + "GEMM work per epoch", flops_per_sample * 60000.0 / 1e9, "GFLOP"});
    rows.push_back({p + "achieved, 1 thread", flops_per_sample * 60000.0 / one / 1e9, "GFLOP/s"});
    rows.push_back({p + "achieved, 2 threads", flops_per_sample * 60000.0 / two / 1e9, "GFLOP/s"});
}

// The convolutions of mnist_cnn alone (conv 32@3x3, ReLU, conv 64@3x3, ReLU, under
// MSE): a batch gradient of 128 samples on 2 threads, as fit computes it.
void bench_conv_layers(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using Convs = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                              sn::MeanSquaredError>;
    Convs net(1);
    const sn::Matrix<float> X = data.train.images.leftCols(128).cast<float>() / 255.0f;
    const sn::Matrix<float> Y = sn::Matrix<float>::Zero(Convs::output_size, 128);
    sn::detail::BatchGradient<Convs> gradient(2, 64);
    const int batches = 20;
    gradient.run(net, X, Y);
    // Each repetition times the convolutions and then the machine's GEMM rate, so
    // that the share compares two rates of the same moment: this machine's second
    // core comes and goes within a run.
    GemmRate gemm(2);
    std::vector<double> times, shares;
    const double flops = (conv_flops(1, 32, 3, 26, 26, true) + mnist_cnn_conv2_flops()) * 128 * batches;
    const double direct = (conv_flops(1, 32, 3, 26, 26, true) + conv_flops(32, 64, 3, 24, 24, false)) * 128 * batches;
    for (int r = 0; r < std::max(reps, 3); ++r) {
        const auto start = Clock::now();
        for (int b = 0; b < batches; ++b) gradient.run(net, X, Y);
        const double t = seconds_since(start);
        times.push_back(t);
        shares.push_back(flops / t / 1e9 / gemm.best());
    }
    const double t = median(times);
    rows.push_back({"mnist_cnn convolutions alone: achieved, 2 threads", flops / t / 1e9, "GFLOP/s"});
    rows.push_back(
        {"mnist_cnn convolutions alone: direct-convolution work per second, 2 threads", direct / t / 1e9, "GFLOP/s"});
    rows.push_back({"mnist_cnn convolutions alone: share of the GEMM rate timed beside them, 2 threads",
                    median(shares), "x"});
}

// What Dropout costs: Keras' mnist_mlp (784-512-512-10, RMSprop, batch 128) with
// and without its two Dropout<0.2> layers, one epoch each at 2 threads, after one
// warm-up epoch each. The cost is a difference of a few per cent between two
// epochs of seconds on a machine whose speed drifts by more within a minute, so
// the two run back to back in pairs (order alternating), three pairs per
// repetition, and the cost is the median of the pairs' ratios.
void bench_dropout(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using Plain = sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 512>, sn::ReLU, sn::Dense<512, 10>,
                              sn::Softmax, sn::CrossEntropy>;
    using Dropped = sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dropout<0.2>, sn::Dense<512, 512>, sn::ReLU,
                                sn::Dropout<0.2>, sn::Dense<512, 10>, sn::Softmax, sn::CrossEntropy>;
    Plain plain(1);
    Dropped dropped(1);
    sn::RMSprop rms_plain{1e-3f}, rms_dropped{1e-3f};
    const auto epoch = [&](auto& net, sn::RMSprop& rms, std::uint64_t seed) {
        const auto start = Clock::now();
        sn::fit(net, rms, data.train.images, data.train.labels,
                {.epochs = 1, .batch_size = 128, .seed = seed, .threads = 2});
        return seconds_since(start);
    };
    epoch(plain, rms_plain, 0);
    epoch(dropped, rms_dropped, 0);
    std::vector<double> t_plain, t_dropped, ratios;
    for (int r = 0; r < 3 * reps; ++r) {
        const auto seed = static_cast<std::uint64_t>(r + 1);
        double a = 0, b = 0;
        if (r % 2 == 0) {
            a = epoch(plain, rms_plain, seed);
            b = epoch(dropped, rms_dropped, seed);
        } else {
            b = epoch(dropped, rms_dropped, seed);
            a = epoch(plain, rms_plain, seed);
        }
        t_plain.push_back(a);
        t_dropped.push_back(b);
        ratios.push_back(b / a);
    }
    rows.push_back({"784-512-512-10 RMSprop: epoch, 2 threads", median(t_plain), "s"});
    rows.push_back({"784-512-512-10 RMSprop: epoch with Dropout 0.2 x2, 2 threads", median(t_dropped), "s"});
    rows.push_back({"784-512-512-10 RMSprop: Dropout's cost (median of paired with / without - 1)",
                    median(ratios) - 1.0, "x"});
}

sn::MnistSet<sn::ByteMatrix> synthetic() {
    sn::MnistSet<sn::ByteMatrix> s;
    sn::Rng rng(7);
    auto fill = [&](sn::MnistSplit<sn::ByteMatrix>& split, sn::Index n) {
        split.images.resize(784, n);
        for (sn::Index i = 0; i < split.images.size(); ++i) split.images.data()[i] = static_cast<std::uint8_t>(rng() % 256);
        split.labels.resize(n);
        for (sn::Index i = 0; i < n; ++i) split.labels[i] = static_cast<int>(rng() % 10);
    };
    fill(s.train, 60000);
    fill(s.test, 10000);
    return s;
}

void gzip_file(const fs::path& from, const fs::path& to) {
    std::ifstream in(from, std::ios::binary);
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gzFile out = gzopen(to.c_str(), "wb6");
    gzwrite(out, raw.data(), static_cast<unsigned>(raw.size()));
    gzclose(out);
}

/// CPU time (user + system) of the compiler: on a shared machine it varies less
/// than the wall time, which also counts waiting for a core.
double compile_seconds(const std::string& command) {
    const auto children_cpu = [] {
        rusage u{};
        getrusage(RUSAGE_CHILDREN, &u);
        const auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
        return sec(u.ru_utime) + sec(u.ru_stime);
    };
    const double before = children_cpu();
    const int rc = std::system(command.c_str());
    return rc == 0 ? children_cpu() - before : -1.0;
}

// Prints the rows and writes them to out/benchmark.csv and out/benchmark.json.
void report(const std::vector<Row>& rows, const std::string& source, int reps, const fs::path& out) {
    std::cout << "\n";
    for (const auto& r : rows)
        std::cout << std::left << std::setw(62) << r.name << std::right << std::setw(12) << std::setprecision(4)
                  << r.value << " " << r.unit << "\n";
    fs::create_directories(out);
    std::ofstream csv(out / "benchmark.csv");
    csv << "measurement,value,unit\n";
    for (const auto& r : rows) csv << '"' << r.name << "\"," << r.value << "," << r.unit << "\n";
    std::ofstream json(out / "benchmark.json");
    json << "{\n  \"data\": \"" << (source.find("synthetic") == 0 ? "synthetic" : "mnist") << "\",\n  \"reps\": " << reps
         << ",\n  \"results\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i)
        json << "    {\"name\": \"" << rows[i].name << "\", \"value\": " << rows[i].value << ", \"unit\": \""
             << rows[i].unit << "\"}" << (i + 1 < rows.size() ? ",\n" : "\n");
    json << "  ]\n}\n";
    std::cout << "\nwrote " << (out / "benchmark.csv").string() << " and " << (out / "benchmark.json").string() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 5;
    fs::path data_dir = SCRATCHNET_DEFAULT_MNIST_DIR;
    if (const char* env = std::getenv("SCRATCHNET_MNIST_DIR"); env != nullptr && *env != '\0') data_dir = env;
    fs::path out = ".";
    bool compile = true;
    bool dropout_only = false;
    CLI::App app{"scratchnet benchmark"};
    app.add_option("--reps", reps, "repetitions per measurement (the median is reported)")->capture_default_str();
    app.add_option("--data", data_dir, "MNIST directory (synthetic data when missing)")->capture_default_str();
    app.add_option("--out", out, "directory for benchmark.csv and benchmark.json")->capture_default_str();
    app.add_flag("!--no-compile", compile, "skip the compile-time measurements");
    app.add_flag("--dropout-only", dropout_only, "measure only what Dropout costs (3 x --reps pairs of epochs)");
    CLI11_PARSE(app, argc, argv);

    std::vector<Row> rows;
    sn::MnistSet<sn::ByteMatrix> data;
    std::string source = "MNIST " + data_dir.string();
    try {
        const double raw = time_median(reps, [&] { data = sn::load_mnist_bytes(data_dir); });
        rows.push_back({"load the four MNIST files, raw", raw, "s"});
        const fs::path gz = fs::temp_directory_path() / "scratchnet-bench-gz";
        fs::create_directories(gz);
        const std::pair<const char*, const char*> files[] = {
            {"train-images", "idx3"}, {"train-labels", "idx1"}, {"t10k-images", "idx3"}, {"t10k-labels", "idx1"}};
        for (const auto& [stem, idx] : files)
            gzip_file(fs::path(sn::detail::find_mnist_file(data_dir, stem, idx).string()),
                      gz / (std::string(stem) + "-" + idx + "-ubyte.gz"));
        rows.push_back({"load the four MNIST files, gzip", time_median(reps, [&] { (void)sn::load_mnist_bytes(gz); }), "s"});
        fs::remove_all(gz);
    } catch (const std::exception& e) {
        source = std::string("synthetic data (") + e.what() + ")";
        data = synthetic();
    }
    std::cout << "data: " << source << "\nreps: " << reps << " (medians)\n" << std::flush;
    if (dropout_only) {
        bench_dropout(data, reps, rows);
        report(rows, source, reps, out);
        return 0;
    }

    using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    using Large = sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 256>, sn::ReLU, sn::Dense<256, 10>,
                              sn::Softmax, sn::CrossEntropy>;
    bench_network<Course>("784-128-10", {784, 128, 10}, data, reps, rows);
    bench_network<Large>("784-512-256-10", {784, 512, 256, 10}, data, reps, rows);
    bench_dropout(data, reps, rows);
    using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                              sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                              sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax, sn::CrossEntropy>;
    using MnistCnn = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                                 sn::MaxPool2D<2>, sn::Dropout<0.25>, sn::Flatten, sn::Dense<9216, 128>, sn::ReLU,
                                 sn::Dropout<0.5>, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    bench_cnn<LeNet>("lenet", conv_flops(1, 6, 5, 28, 28, true) + conv_flops(6, 16, 5, 10, 10, false) +
                                   dense_flops(400, 120) + dense_flops(120, 84) + dense_flops(84, 10),
                     60000, data, reps, rows);
    bench_cnn<MnistCnn>("mnist_cnn", conv_flops(1, 32, 3, 26, 26, true) + mnist_cnn_conv2_flops() +
                                         dense_flops(9216, 128) + dense_flops(128, 10),
                        7680, data, reps, rows);
    bench_conv_layers(data, reps, rows);
    const double e1 = gemm_gflops(1, reps, false), e2 = gemm_gflops(2, reps, false);
    const double s1 = gemm_gflops(1, reps, true), s2 = gemm_gflops(2, reps, true);
    rows.push_back({"machine: Eigen float GEMM 1536^3, 1 thread", e1, "GFLOP/s"});
    rows.push_back({"machine: Eigen float GEMM 1536^3, 2 threads", e2, "GFLOP/s"});
    rows.push_back({"machine: scratchnet's GEMM kernel 1536^3, 1 thread", s1, "GFLOP/s"});
    rows.push_back({"machine: scratchnet's GEMM kernel 1536^3, 2 threads", s2, "GFLOP/s"});
    // The machine's GEMM rate: the faster of the two.
    const double g1 = std::max(e1, s1), g2 = std::max(e2, s2);
    const auto [remote, local] = transfer_micros(400 * 1024, reps);
    rows.push_back({"machine: read 400 KB the other core just wrote", remote, "us"});
    rows.push_back({"machine: read 400 KB this core just wrote", local, "us"});
    rows.push_back({"mnist_cnn convolutions alone: share of the machine's best GEMM rate, 2 threads",
                    [&] {
                        for (const auto& r : rows)
                            if (r.name == "mnist_cnn convolutions alone: achieved, 2 threads") return r.value / g2;
                        return 0.0;
                    }(),
                    "x"});
    for (const char* label : {"784-128-10", "784-512-256-10", "lenet", "mnist_cnn"}) {
        const auto find = [&](const std::string& name) {
            for (const auto& r : rows)
                if (r.name == name) return r.value;
            return 0.0;
        };
        const std::string p = std::string(label) + ": ";
        rows.push_back({p + "share of the machine's best GEMM rate, 1 thread", find(p + "achieved, 1 thread") / g1, "x"});
        rows.push_back({p + "share of the machine's best GEMM rate, 2 threads", find(p + "achieved, 2 threads") / g2, "x"});
    }
    if (compile) {
        const std::string cxx = std::string(SCRATCHNET_BENCH_CXX) + " -std=c++20 -O3 -march=native " + SCRATCHNET_BENCH_INCLUDES;
        const fs::path tu = fs::temp_directory_path() / "scratchnet-include-only.cpp";
        const fs::path eigen_tu = fs::temp_directory_path() / "scratchnet-eigen-only.cpp";
        std::ofstream(tu) << "#include <scratchnet/scratchnet.hpp>\nint main() {}\n";
        std::ofstream(eigen_tu) << "#include <Eigen/Core>\nint main() {}\n";
        // Medians of three: a single compile on a shared machine varies by 20 %.
        const auto compile3 = [&](const fs::path& file) {
            std::vector<double> t;
            for (int r = 0; r < 3; ++r) t.push_back(compile_seconds(cxx + " -c " + file.string() + " -o /dev/null"));
            return median(t);
        };
        rows.push_back({"compile: a file that includes scratchnet.hpp (-O3, CPU)", compile3(tu), "s"});
        rows.push_back({"compile: a file that includes <Eigen/Core> (-O3, CPU), for scale", compile3(eigen_tu), "s"});
        // The mnist example is two translation units, built in parallel: the
        // network code, and its command line (CLI11).
        const std::string examples = std::string(SCRATCHNET_BENCH_SOURCE) + "/examples/";
        const double network_code = compile_seconds(cxx + " -c " + examples + "mnist.cpp -o /dev/null");
        const double command_line = compile_seconds(cxx + " -c " + examples + "mnist_options.cpp -o /dev/null");
        rows.push_back({"compile: examples/mnist.cpp (-O3, CPU)", network_code, "s"});
        rows.push_back({"compile: examples/mnist_options.cpp (CLI11; -O3, CPU)", command_line, "s"});
        fs::remove(eigen_tu);
        fs::remove(tu);
    }
    report(rows, source, reps, out);
}
