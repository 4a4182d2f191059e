// The instruction-set paths (isa.hpp): chosen at run time, forced through
// SCRATCHNET_ISA or use_isa(), refused where the CPU lacks them; each gives the
// same bits for any thread count, AVX2 and AVX-512 give the same bits, and the
// portable path the same maths to rounding.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"
#include "support/isa.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>
#include <map>

namespace sn = scratchnet;

TEST_CASE("use_isa refuses a path this CPU lacks and names it") {
    const sn::Isa best = sn::cpu_isa();
    CHECK(sn::cpu_supports(sn::Isa::portable));
    CHECK(sn::cpu_supports(best));
    if (best != sn::Isa::avx512) {
        CHECK_THROWS_WITH_AS(sn::use_isa(sn::Isa::avx512),
                             doctest::Contains("does not run avx512"), std::invalid_argument);
    }
    if (best != sn::Isa::avx512) CHECK(sn::active_isa() != sn::Isa::avx512);
}

TEST_CASE("SCRATCHNET_ISA picks a path, and a value that is not one is an error naming it") {
    ::setenv("SCRATCHNET_ISA", "portable", 1);
    CHECK(sn::detail::isa_from_environment() == sn::Isa::portable);
    ::setenv("SCRATCHNET_ISA", "sse9", 1);
    CHECK_THROWS_WITH_AS(sn::detail::isa_from_environment(), doctest::Contains("SCRATCHNET_ISA=sse9"),
                         std::runtime_error);
    if (!sn::cpu_supports(sn::Isa::avx512)) {
        ::setenv("SCRATCHNET_ISA", "avx512", 1);
        CHECK_THROWS_WITH_AS(sn::detail::isa_from_environment(), doctest::Contains("this CPU runs"),
                             std::runtime_error);
    }
    ::unsetenv("SCRATCHNET_ISA");
    CHECK(sn::detail::isa_from_environment() == sn::cpu_isa());
}

TEST_CASE("bytes become scaled scalars with the same bits on every path, every tail length") {
    std::vector<std::uint8_t> bytes(300);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    fixtures::on_every_isa([&](sn::Isa) {
        for (sn::Index n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 300}) {
            std::vector<float> got(static_cast<std::size_t>(n) + 1, -1.0f);
            sn::detail::bytes_to_scalars(bytes.data(), n, 1.0f / 255.0f, got.data());
            for (sn::Index i = 0; i < n; ++i)
                REQUIRE(got[static_cast<std::size_t>(i)] == static_cast<float>(bytes[static_cast<std::size_t>(i)]) *
                                                               (1.0f / 255.0f));
            CHECK(got[static_cast<std::size_t>(n)] == -1.0f);  // nothing written past n
        }
    });
}

TEST_CASE_TEMPLATE("loops over SIMD vectors give the scalar loop's bits on every path, every tail length", T, float,
                   double) {
    fixtures::on_every_isa([&](sn::Isa) {
        for (sn::Index n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48, 337}) {
            CAPTURE(n);
            const auto count = static_cast<std::size_t>(n) + 1;
            std::vector<T> a(count), b(count), out(count, T(-7));
            for (std::size_t i = 0; i < count; ++i) {
                a[i] = static_cast<T>(static_cast<int>(i % 7) - 3) / T(3);  // negatives, zeros, positives
                b[i] = T(0.1) * static_cast<T>(i) + T(1);
            }
            // A select on a comparison, a difference, a product and a broadcast.
            sn::detail::for_each_packet<T>(n, [&]<class P>(sn::Index i) {
                P x, y, half;
                sn::detail::simd_load(x, a.data() + i);
                sn::detail::simd_load(y, b.data() + i);
                sn::detail::simd_splat(half, T(0.5));
                const P zero{};
                sn::detail::simd_store(out.data() + i, P(zero < x ? P(x - y) : P(half * y)));
            });
            for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
                REQUIRE(out[i] == (T(0) < a[i] ? a[i] - b[i] : T(0.5) * b[i]));
            CHECK(out[static_cast<std::size_t>(n)] == T(-7));  // nothing written past n
        }
    });
}

namespace {

using Mlp = sn::Network<sn::Dense<64, 96>, sn::ReLU, sn::Dense<96, 10>, sn::Softmax, sn::CrossEntropy>;
// The 4 -> 8 channel 3 x 3 convolution runs Winograd's products, transforms and
// row shuffles, the 4 x 4 stride-2 one im2col on the packed GEMM (kernels/);
// ReLU's mask, the pool and Dropout's mask run as loops compiled per path
// (kernels/dispatch.hpp, kernels/packet_loop.hpp).
#ifdef SCRATCHNET_HAS_DOUBLE_TEMPLATE_ARGS
using Cnn = sn::Network<sn::Input<1, 12, 12>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU, sn::Conv2D<4, 8, 3, 1, 1>, sn::ReLU,
                        sn::MaxPool2D<2>, sn::Conv2D<8, 8, 4, 2, 1>, sn::ReLU, sn::Dropout<0.25>, sn::Flatten,
                        sn::Dense<72, 10>, sn::Softmax, sn::CrossEntropy>;
#else
using Cnn = sn::Network<sn::Input<1, 12, 12>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU, sn::Conv2D<4, 8, 3, 1, 1>, sn::ReLU,
                        sn::MaxPool2D<2>, sn::Conv2D<8, 8, 4, 2, 1>, sn::ReLU, sn::Flatten, sn::Dense<72, 10>,
                        sn::Softmax, sn::CrossEntropy>;
#endif
static_assert(sn::Conv2D<4, 8, 3, 1, 1>::bind_image<float, 4, 12, 12>::winograd);

template <class Net>
sn::Vector<float> trained(unsigned threads) {
    sn::Rng rng(5);
    sn::Matrix<float> X(Net::input_size, 300);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<float>(sn::detail::uniform01(rng));
    sn::Labels y(300);
    for (Eigen::Index j = 0; j < 300; ++j) y[j] = static_cast<int>(X.col(j).head(10).maxCoeff() * 9.99f);
    Net net(3);
    sn::Adam adam(0.01f);
    sn::fit(net, adam, X, y, {.epochs = 2, .batch_size = 64, .seed = 2, .threads = threads, .chunk_size = 16});
    return net.parameters();
}

}  // namespace

TEST_CASE_TEMPLATE("every path trains with the same bits on 1 and 2 threads; AVX2 and AVX-512 agree", Net, Mlp,
                   Cnn) {
    std::map<sn::Isa, sn::Vector<float>> by_path;
    fixtures::on_every_isa([&](sn::Isa isa) {
        const sn::Vector<float> one = trained<Net>(1);
        CHECK(trained<Net>(2) == one);
        by_path[isa] = one;
    });
    if (by_path.count(sn::Isa::avx2) && by_path.count(sn::Isa::avx512))
        CHECK(by_path[sn::Isa::avx2] == by_path[sn::Isa::avx512]);
    // Portable (Eigen's kernels, FMA or not) does the same maths in another order:
    // after 10 steps of Adam the parameters agree to a few units in the 4th digit.
    const sn::Vector<float>& portable = by_path.at(sn::Isa::portable);
    for (const auto& [isa, theta] : by_path) {
        CAPTURE(sn::isa_name(isa));
        CHECK((theta - portable).cwiseAbs().maxCoeff() <= 1e-3f * portable.cwiseAbs().maxCoeff());
    }
}
