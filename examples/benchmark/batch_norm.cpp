// What BatchNorm costs in a training epoch.
#include "benchmark/benchmark.hpp"
#include "common/resnet.hpp"

#include <cstdint>

namespace bench {

// What BatchNorm costs: the README's ResNet with and without its BatchNorm layers,
// Adam at batch 128 on 2 threads, over the first samples the table times it on,
// in paired epochs (paired_epochs says how).
void batch_norm_cost(const sn::MnistSet<sn::ByteMatrix>& data, int reps, std::vector<Row>& rows) {
    using With = examples::MnistResNet<sn::Softmax, sn::CrossEntropy>;
    using Without = examples::MnistResNetWithoutBatchNorm<sn::Softmax, sn::CrossEntropy>;
    const sn::Index n = std::min(table_samples("resnet"), data.train.images.cols());
    const auto X = data.train.images.leftCols(n);
    const auto y = data.train.labels.head(n);
    const double scale = 60000.0 / static_cast<double>(n);
    With with(1);
    Without without(1);
    sn::Adam adam_with{1e-3f}, adam_without{1e-3f};
    const auto epoch = [&](auto& net, sn::Adam& adam, std::uint64_t seed) {
        const auto start = Clock::now();
        sn::fit(net, adam, X, y, {.epochs = 1, .batch_size = 128, .seed = seed, .threads = 2});
        return seconds_since(start) * scale;
    };
    const PairedEpochs p = paired_epochs(
        reps, [&](std::uint64_t seed) { return epoch(without, adam_without, seed); },
        [&](std::uint64_t seed) { return epoch(with, adam_with, seed); });
    const std::string timed_on = " (timed on " + std::to_string(n) + " samples)";
    rows.push_back({"resnet without BatchNorm: epoch, 2 threads" + timed_on, p.plain, "s"});
    rows.push_back({"resnet with BatchNorm: epoch, 2 threads" + timed_on, p.with, "s"});
    rows.push_back({"resnet: BatchNorm's cost (median of paired with / without - 1)", p.cost, "x"});
}

}  // namespace bench
