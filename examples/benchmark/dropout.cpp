// What Dropout costs in a training epoch.
#include "benchmark/benchmark.hpp"

#include <cstdint>

namespace bench {

// What Dropout costs: Keras' mnist_mlp (784-512-512-10, RMSprop, batch 128) with
// and without its two Dropout<0.2> layers, in paired epochs at 2 threads
// (paired_epochs says how).
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
    const PairedEpochs p = paired_epochs(
        reps, [&](std::uint64_t seed) { return epoch(plain, rms_plain, seed); },
        [&](std::uint64_t seed) { return epoch(dropped, rms_dropped, seed); });
    rows.push_back({"784-512-512-10 RMSprop: epoch, 2 threads", p.plain, "s"});
    rows.push_back({"784-512-512-10 RMSprop: epoch with Dropout 0.2 x2, 2 threads", p.with, "s"});
    rows.push_back({"784-512-512-10 RMSprop: Dropout's cost (median of paired with / without - 1)", p.cost, "x"});
}

}  // namespace bench
