// What Dropout costs in a training epoch.
#include "benchmark/benchmark.hpp"

#include <cstdint>

namespace bench {

// What Dropout costs: Keras' mnist_mlp (784-512-512-10, RMSprop, batch 128) with
// and without its two Dropout<0.2> layers, one epoch each at 2 threads, after one
// warm-up epoch each. The cost is a difference of a few per cent between two
// epochs of seconds on a machine whose speed drifts by more within a minute, so
// the two run back to back in pairs (order alternating), three pairs per
// repetition, and the cost is the median of the pairs' ratios.
void dropout_cost(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
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

}  // namespace bench
