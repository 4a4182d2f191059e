// The dense networks' training epochs: the course network (784-128-10) and a wider
// MLP (784-512-256-10), SGD at batch 128 over the 60,000 training samples, against
// the hand-written Eigen loop of hand_mlp.hpp in the same run; their GFLOP/s, what
// the NaN/inf guard and each way of splitting a batch over 2 threads cost,
// predict's throughput on the test set, and the course network's epoch on a
// machine shared with one busy process.
#include "benchmark/benchmark.hpp"
#include "benchmark/hand_mlp.hpp"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <sched.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bench {
namespace {

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

    // Inference: predict() over the test set on 1 and 2 threads (blocks of samples).
    const Net net(1);
    const sn::Matrix<float> T = data.test.images.cast<float>() / 255.0f;
    const auto predict_on = [&](unsigned threads) {
        return time_median(reps, [&] {
            const sn::Labels p1 = net.predict(T, threads);
            if (p1.size() != T.cols()) std::abort();
        });
    };
    const double serial = predict_on(1), parallel = predict_on(2);
    rows.push_back({p + "predict, 1 thread", static_cast<double>(T.cols()) / serial, "samples/s"});
    rows.push_back({p + "predict, 2 threads", static_cast<double>(T.cols()) / parallel, "samples/s"});
}

/// A process that keeps one processor busy (the last one) until destroyed: the
/// other work a shared machine runs beside training.
class BusyProcess {
public:
    BusyProcess() {
        pid_ = ::fork();
        if (pid_ == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(std::max(1u, std::thread::hardware_concurrency()) - 1, &one);
            ::sched_setaffinity(0, sizeof(one), &one);
            for (std::uint64_t spin = 0;; ++spin) asm volatile("" : "+r"(spin));  // a loop the compiler keeps
        }
    }
    ~BusyProcess() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    BusyProcess(const BusyProcess&) = delete;
    BusyProcess& operator=(const BusyProcess&) = delete;
    bool running() const { return pid_ > 0; }

private:
    pid_t pid_ = -1;
};

/// The course network beside one busy process pinned to a processor: fit on its
/// default threads (every processor) against one thread, in turn.
template <class Net>
void bench_busy_machine(const char* label, const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    if (std::thread::hardware_concurrency() < 2) return;
    const BusyProcess busy;
    if (!busy.running()) return;
    std::vector<double> times[2];
    for (int round = 0; round <= reps; ++round)
        for (int k = 0; k < 2; ++k) {
            const int which = (round + k) % 2;
            Net net(1);
            sn::SGD sgd(0.01f);
            const auto start = Clock::now();
            sn::fit(net, sgd, data.train.images, data.train.labels,
                    {.epochs = 1, .batch_size = 128, .seed = 1, .threads = which == 0 ? 1u : 0u});
            if (round > 0) times[which].push_back(seconds_since(start));
        }
    const std::string p = std::string(label) + ": ";
    rows.push_back({p + "epoch beside one busy process, 1 thread", median(times[0]), "s"});
    rows.push_back({p + "epoch beside one busy process, default threads", median(times[1]), "s"});
    rows.push_back({p + "beside one busy process, default threads / 1 thread", median(times[1]) / median(times[0]),
                    "x"});
}

}  // namespace

void dense_epochs(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    using Large = sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 256>, sn::ReLU, sn::Dense<256, 10>,
                              sn::Softmax, sn::CrossEntropy>;
    bench_network<Course>("784-128-10", {784, 128, 10}, data, reps, rows);
    bench_busy_machine<Course>("784-128-10", data, reps, rows);
    bench_network<Large>("784-512-256-10", {784, 512, 256, 10}, data, reps, rows);
}

}  // namespace bench
