// The products under every Dense layer: detail::GemmSite computes
// C += alpha * op(A) * op(B) for the four storage orders a layer uses. Every
// instruction-set path the CPU runs (isa.hpp: Eigen's kernel, scratchnet's AVX2
// and AVX-512 kernels) is held to the same reference, and so are the unpacked
// products of Winograd's layers (kernels/unpacked_gemm.hpp) where AVX2 runs.
#include <doctest/doctest.h>
#include <scratchnet/kernels/gemm.hpp>
#include <scratchnet/kernels/unpacked_gemm.hpp>

#include "support/isa.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>

namespace sn = scratchnet;

namespace {

struct Shape {
    sn::Index m, n, k;
};

/// Runs one product through a GemmSite and compares every element of C, padding
/// rows included, with a double-precision reference. Without `accumulate` C
/// starts as NaN, which must not leak into the result. The bound is the classic
/// one for a dot product of length k, |error| <= k u sum|a||b| (u the unit
/// roundoff), doubled for the final addition into C.
template <class T, int OrderA, int OrderB>
void check_product(sn::detail::GemmSite<T, OrderA, OrderB>& site, Shape s, std::mt19937& gen, bool accumulate) {
    constexpr bool ta = OrderA == Eigen::RowMajor;
    constexpr bool tb = OrderB == Eigen::RowMajor;
    // Stored shapes, with leading dimensions a little larger than needed.
    const sn::Index a_rows = ta ? s.k : s.m, a_cols = ta ? s.m : s.k;
    const sn::Index b_rows = tb ? s.n : s.k, b_cols = tb ? s.k : s.n;
    const sn::Index lda = a_rows + static_cast<sn::Index>(gen() % 3);
    const sn::Index ldb = b_rows + static_cast<sn::Index>(gen() % 3);
    const sn::Index ldc = s.m + static_cast<sn::Index>(gen() % 3);
    const sn::Matrix<T> A = sn::Matrix<T>::Random(lda, a_cols);
    const sn::Matrix<T> B = sn::Matrix<T>::Random(ldb, b_cols);
    sn::Matrix<T> C = sn::Matrix<T>::Random(ldc, s.n);
    if (!accumulate) C.topRows(s.m).setConstant(std::numeric_limits<T>::quiet_NaN());
    const T alpha = T(0.75);

    const Eigen::MatrixXd Aop = ta ? Eigen::MatrixXd(A.topRows(a_rows).template cast<double>().transpose())
                                   : Eigen::MatrixXd(A.topRows(a_rows).template cast<double>());
    const Eigen::MatrixXd Bop = tb ? Eigen::MatrixXd(B.topRows(b_rows).template cast<double>().transpose())
                                   : Eigen::MatrixXd(B.topRows(b_rows).template cast<double>());
    Eigen::MatrixXd expected = C.template cast<double>();
    if (!accumulate) expected.topRows(s.m).setZero();
    expected.topRows(s.m) += double(alpha) * Aop * Bop;
    const Eigen::MatrixXd magnitude = Aop.cwiseAbs() * Bop.cwiseAbs();

    site.run(s.m, s.n, s.k, A.data(), lda, B.data(), ldb, C.data(), ldc, alpha, accumulate);

    const double u = std::numeric_limits<T>::epsilon() / 2;
    for (sn::Index j = 0; j < s.n; ++j)
        for (sn::Index i = 0; i < ldc; ++i) {
            const double got = double(C(i, j));
            if (i >= s.m) {
                REQUIRE(got == expected(i, j));  // rows past m are not C's: untouched
                continue;
            }
            const double bound = 2 * double(s.k + 1) * u * (double(alpha) * magnitude(i, j) + std::abs(expected(i, j)));
            INFO("m " << s.m << " n " << s.n << " k " << s.k << " accumulate " << accumulate << " at (" << i << ", "
                      << j << ")");
            REQUIRE(std::abs(got - expected(i, j)) <= bound);
        }
}

template <class T, int OrderA, int OrderB>
void check_orders() {
    std::mt19937 gen(7);
    sn::detail::GemmSite<T, OrderA, OrderB> site;  // one site, shapes changing under it
    // Tails of every kind: m around the 16/32-row panels, n around 12-column panels.
    for (sn::Index m : {1, 10, 15, 16, 17, 31, 32, 33, 48, 50})
        for (sn::Index n : {1, 11, 12, 13, 30})
            for (sn::Index k : {1, 7, 16, 17, 40}) check_product(site, {m, n, k}, gen, (m + n + k) % 2 == 0);
    // An empty inner dimension: C stays, or becomes zero.
    for (bool accumulate : {true, false}) check_product(site, {20, 5, 0}, gen, accumulate);
    // The shapes of the course network's layers, chunk of 64.
    for (Shape s : {Shape{128, 64, 784}, Shape{128, 784, 64}, Shape{784, 64, 128}, Shape{10, 64, 128}})
        for (bool accumulate : {true, false}) check_product(site, s, gen, accumulate);
}

}  // namespace

TEST_CASE_TEMPLATE("GemmSite computes C += alpha op(A) op(B) within the dot-product error bound", T, float, double) {
    SUBCASE("A B") { fixtures::on_every_isa([](sn::Isa) { check_orders<T, Eigen::ColMajor, Eigen::ColMajor>(); }); }
    SUBCASE("A B^T") { fixtures::on_every_isa([](sn::Isa) { check_orders<T, Eigen::ColMajor, Eigen::RowMajor>(); }); }
    SUBCASE("A^T B") { fixtures::on_every_isa([](sn::Isa) { check_orders<T, Eigen::RowMajor, Eigen::ColMajor>(); }); }
    SUBCASE("A^T B^T") {
        fixtures::on_every_isa([](sn::Isa) { check_orders<T, Eigen::RowMajor, Eigen::RowMajor>(); });
    }
}

TEST_CASE("a float product does not depend on how its columns are split into calls") {
    // What makes a batch's chunks add up to the same bits however they are
    // scheduled: column j of C depends on column j of op(B) alone.
    fixtures::on_every_isa([](sn::Isa) {
        const sn::Index m = 50, n = 100, k = 70;
        const sn::Matrix<float> A = sn::Matrix<float>::Random(m, k);
        const sn::Matrix<float> B = sn::Matrix<float>::Random(k, n);
        sn::detail::GemmSite<float, Eigen::ColMajor, Eigen::ColMajor> site;
        sn::Matrix<float> whole = sn::Matrix<float>::Zero(m, n);
        site.run(m, n, k, A.data(), m, B.data(), k, whole.data(), m);
        sn::Matrix<float> split = sn::Matrix<float>::Zero(m, n);
        site.run(m, 64, k, A.data(), m, B.data(), k, split.data(), m);
        site.run(m, n - 64, k, A.data(), m, B.data() + 64 * k, k, split.data() + 64 * m, m);
        CHECK((whole.array() == split.array()).all());
    });
}

TEST_CASE("where a site says so, a product does not depend on how its rows are split into calls") {
    // What lets fit() split the first layer's products by rows across threads at
    // any place: row i of C depends on row i of op(A) alone, computed the same way
    // whichever panel it falls in. Where the site cannot promise it (Eigen's
    // kernel), fit() cuts at fixed rows instead.
    const auto split_equals_whole = [](auto site, bool a_transposed, bool b_transposed) {
        const sn::Index m = 160, n = 37, k = 70;
        const sn::Matrix<float> A = a_transposed ? sn::Matrix<float>(sn::Matrix<float>::Random(k, m))
                                                 : sn::Matrix<float>(sn::Matrix<float>::Random(m, k));
        const sn::Matrix<float> B = b_transposed ? sn::Matrix<float>(sn::Matrix<float>::Random(n, k))
                                                 : sn::Matrix<float>(sn::Matrix<float>::Random(k, n));
        sn::Matrix<float> whole = sn::Matrix<float>::Random(m, n), split = whole;
        site.run(m, n, k, A.data(), A.rows(), B.data(), B.rows(), whole.data(), m);
        for (const auto& [r0, r1] : {std::pair<sn::Index, sn::Index>{0, 16}, {16, 80}, {80, 83}, {83, 160}}) {
            const float* a = a_transposed ? A.data() + r0 * k : A.data() + r0;
            site.run(r1 - r0, n, k, a, A.rows(), B.data(), B.rows(), split.data() + r0, m);
        }
        return (whole.array() == split.array()).all();
    };
    using Plain = sn::detail::GemmSite<float, Eigen::ColMajor, Eigen::ColMajor>;
    using Weight = sn::detail::GemmSite<float, Eigen::ColMajor, Eigen::RowMajor>;
    using Input = sn::detail::GemmSite<float, Eigen::RowMajor, Eigen::ColMajor>;
    fixtures::on_every_isa([&](sn::Isa isa) {
        CHECK(Plain::rows_split_exactly() == (isa != sn::Isa::portable));
        CHECK(sn::detail::GemmSite<double, Eigen::ColMajor, Eigen::ColMajor>::rows_split_exactly() == false);
        if (!Plain::rows_split_exactly()) return;
        CHECK(Weight::rows_split_exactly());
        CHECK(Input::rows_split_exactly());
        CHECK(split_equals_whole(Plain{}, false, false));
        CHECK(split_equals_whole(Weight{}, false, true));
        CHECK(split_equals_whole(Input{}, true, false));
    });
}

TEST_CASE("the AVX2 and AVX-512 products give the same bits") {
    // Both compute each element as one FMA chain over the depth and scale it the
    // same way (isa.hpp); this is the README's promise for the two paths.
    if (!sn::cpu_supports(sn::Isa::avx512)) {
        MESSAGE("skipped: this CPU has no AVX-512");
        return;
    }
    std::mt19937 gen(5);
    for (Shape s : {Shape{128, 64, 784}, Shape{784, 64, 128}, Shape{10, 37, 128}, Shape{33, 13, 17}})
        for (bool accumulate : {false, true}) {
            const sn::Matrix<float> A = sn::Matrix<float>::Random(s.k, s.m), B = sn::Matrix<float>::Random(s.k, s.n);
            const sn::Matrix<float> C0 = sn::Matrix<float>::Random(s.m, s.n);
            sn::Matrix<float> on_avx2 = C0, on_avx512 = C0;
            sn::detail::GemmSite<float, Eigen::RowMajor, Eigen::ColMajor> site;
            {
                const fixtures::UsingIsa avx2(sn::Isa::avx2);
                site.run(s.m, s.n, s.k, A.data(), s.k, B.data(), s.k, on_avx2.data(), s.m, 0.5f, accumulate);
            }
            {
                const fixtures::UsingIsa avx512(sn::Isa::avx512);
                site.run(s.m, s.n, s.k, A.data(), s.k, B.data(), s.k, on_avx512.data(), s.m, 0.5f, accumulate);
            }
            CHECK((on_avx2.array() == on_avx512.array()).all());
        }
    (void)gen;
}

#ifdef SCRATCHNET_X86_KERNELS
TEST_CASE("unpacked products equal a double reference for every tile edge, strides and accumulation") {
    // C = A B (+ C), A column-major with a leading dimension past m, B read at
    // strides (bp, bj): as Winograd's forward (bp = n, bj = 1), input (bp = 1,
    // bj = k) and weight products use it. Rows past m must stay untouched, and a
    // C of NaNs must not leak into a product that does not accumulate. The AVX-512
    // kernel (16-row vectors, tiles of 32 and 16 rows) must give the AVX2 kernel's
    // bits exactly.
    if (!sn::cpu_supports(sn::Isa::avx2)) return;  // AVX2 code: it would not run
    const bool wide = sn::cpu_supports(sn::Isa::avx512);
    std::mt19937 gen(11);
    const double u = std::numeric_limits<float>::epsilon() / 2;
    for (sn::Index m : {1, 5, 8, 13, 16, 17, 23, 24, 31, 32, 33, 41, 48, 49, 98})
        for (sn::Index n : {1, 3, 4, 7, 12, 13, 16, 25, 64})
            for (sn::Index k : {1, 9, 32}) {
                const bool accumulate = (m + n + k) % 2 == 1, b_by_rows = (m + n) % 2 == 0;
                const sn::Index lda = m + static_cast<sn::Index>(gen() % 3), ldc = m + 2;
                const sn::Matrix<float> A = sn::Matrix<float>::Random(lda, k);
                const sn::Vector<float> b = sn::Vector<float>::Random(k * n);
                const sn::Index bp = b_by_rows ? n : 1, bj = b_by_rows ? 1 : k;
                Eigen::MatrixXd B(k, n);
                for (sn::Index p = 0; p < k; ++p)
                    for (sn::Index j = 0; j < n; ++j) B(p, j) = double(b[p * bp + j * bj]);
                sn::Matrix<float> C = sn::Matrix<float>::Random(ldc, n);
                if (!accumulate) C.topRows(m).setConstant(std::numeric_limits<float>::quiet_NaN());
                Eigen::MatrixXd expected = C.cast<double>();
                if (!accumulate) expected.topRows(m).setZero();
                const Eigen::MatrixXd Aop = A.topRows(m).cast<double>();
                expected.topRows(m) += Aop * B;
                const Eigen::MatrixXd magnitude = Aop.cwiseAbs() * B.cwiseAbs();
                sn::Matrix<float> C_wide = C;
                sn::detail::unpacked::gemm_nn(m, n, k, A.data(), lda, b.data(), bp, bj, C.data(), ldc, accumulate);
                for (sn::Index j = 0; j < n; ++j)
                    for (sn::Index i = 0; i < ldc; ++i) {
                        INFO("m " << m << " n " << n << " k " << k << " accumulate " << accumulate << " at (" << i
                                  << ", " << j << ")");
                        if (i >= m) {
                            REQUIRE(double(C(i, j)) == expected(i, j));
                            continue;
                        }
                        const double bound = 2 * double(k + 1) * u * (magnitude(i, j) + std::abs(expected(i, j)));
                        REQUIRE(std::abs(double(C(i, j)) - expected(i, j)) <= bound);
                    }
                if (wide) {
                    INFO("AVX-512: m " << m << " n " << n << " k " << k << " accumulate " << accumulate);
                    sn::detail::unpacked::wide::gemm_nn(m, n, k, A.data(), lda, b.data(), bp, bj, C_wide.data(), ldc,
                                                        accumulate);
                    // Bit for bit, rows past m (untouched) included.
                    REQUIRE(std::memcmp(C_wide.data(), C.data(), sizeof(float) * std::size_t(ldc * n)) == 0);
                }
                // The same operands in a call of other columns give the same bits.
                if (n > 4 && !accumulate) {
                    sn::Matrix<float> split = sn::Matrix<float>::Zero(ldc, n);
                    sn::detail::unpacked::gemm_nn(m, 3, k, A.data(), lda, b.data(), bp, bj, split.data(), ldc, false);
                    sn::detail::unpacked::gemm_nn(m, n - 3, k, A.data(), lda, b.data() + 3 * bj, bp, bj,
                                                  split.data() + 3 * ldc, ldc, false);
                    CHECK((split.topRows(m).array() == C.topRows(m).array()).all());
                }
            }
}

TEST_CASE("the unpacked transpose moves every element, the 8 x 8 blocks and the edges") {
    if (!sn::cpu_supports(sn::Isa::avx2)) return;  // AVX2 code: it would not run
    for (sn::Index rows : {1, 7, 8, 9, 16, 48, 50})
        for (sn::Index cols : {1, 5, 8, 12, 32}) {
            const sn::Index lds = rows + 1, ldd = cols + 3;
            const sn::Matrix<float> src = sn::Matrix<float>::Random(lds, cols);
            sn::Matrix<float> dst = sn::Matrix<float>::Constant(ldd, rows, -7.0f);
            sn::detail::unpacked::transpose(rows, cols, src.data(), lds, dst.data(), ldd);
            INFO("rows " << rows << " cols " << cols);
            CHECK(dst.topRows(cols) == src.topRows(rows).transpose());
            CHECK((dst.bottomRows(ldd - cols).array() == -7.0f).all());
        }
}
#endif
