// The data every suite trains on: MNIST's four files, timed as they load (raw,
// then gzip'd into a temporary directory), or, when they cannot be read, synthetic
// data of the same shape, so that every other row is still measured.
#include "benchmark/benchmark.hpp"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <utility>

namespace bench {
namespace {

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

}  // namespace

Data load_data(const fs::path& dir, int reps, std::vector<Row>& rows) {
    sn::MnistSet<sn::ByteMatrix> data;
    std::string source = "MNIST " + dir.string();
    try {
        const double raw = time_median(reps, [&] { data = sn::load_mnist_bytes(dir); });
        rows.push_back({"load the four MNIST files, raw", raw, "s"});
        const fs::path gz = fs::temp_directory_path() / "scratchnet-bench-gz";
        fs::create_directories(gz);
        const std::pair<const char*, const char*> files[] = {
            {"train-images", "idx3"}, {"train-labels", "idx1"}, {"t10k-images", "idx3"}, {"t10k-labels", "idx1"}};
        for (const auto& [stem, idx] : files)
            gzip_file(fs::path(sn::detail::find_mnist_file(dir, stem, idx).string()),
                      gz / (std::string(stem) + "-" + idx + "-ubyte.gz"));
        rows.push_back({"load the four MNIST files, gzip", time_median(reps, [&] { (void)sn::load_mnist_bytes(gz); }), "s"});
        fs::remove_all(gz);
    } catch (const std::exception& e) {
        source = std::string("synthetic data (") + e.what() + ")";
        data = synthetic();
    }
    return {std::move(data), std::move(source)};
}

}  // namespace bench
