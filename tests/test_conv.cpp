// Convolutional layers: compile-time shapes, the fast path against plain loops,
// gradients against centred differences, pooling against hand computations, and
// training: learning, thread-count independence, model files.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace sn = scratchnet;

namespace {

using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                          sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                          sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax, sn::CrossEntropy>;

// The convolution written as its definition, one multiply-add at a time:
// Y(o, y, x) = b(o) + sum_{c, i, j} W(o, c, i, j) X(c, y S - P + i, x S - P + j),
// W(o, c, i, j) at row o, column (c K + i) K + j of the OutC x (InC K K) matrix.
struct LoopConv {
    int in_c, out_c, k, stride, pad, h, w;
    int out_h() const { return (h + 2 * pad - k) / stride + 1; }
    int out_w() const { return (w + 2 * pad - k) / stride + 1; }
    // Calls f(o, c, i, j, y, x, input index) for every product the convolution
    // takes, skipping the padding (whose inputs are zero).
    template <class F>
    void each(F f) const {
        for (int o = 0; o < out_c; ++o)
            for (int y = 0; y < out_h(); ++y)
                for (int x = 0; x < out_w(); ++x)
                    for (int c = 0; c < in_c; ++c)
                        for (int i = 0; i < k; ++i)
                            for (int j = 0; j < k; ++j) {
                                const int iy = y * stride - pad + i, ix = x * stride - pad + j;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                f(o, c, i, j, y, x, (c * h + iy) * w + ix);
                            }
    }
    int out_index(int o, int y, int x) const { return (o * out_h() + y) * out_w() + x; }
    int tap(int c, int i, int j) const { return (c * k + i) * k + j; }
};

/// The bound layer, fed through the layer contract, against LoopConv on n samples:
/// in double to `tolerance`, or in float (where rounding is all that differs) to
/// `tolerance` relative to the largest reference value.
template <sn::Index InC, sn::Index OutC, sn::Index K, sn::Index S, sn::Index P, sn::Index H, sn::Index W,
          class T = double>
void check_against_loops(sn::Index n = 3, double tolerance = 1e-12) {
    using Spec = sn::Conv2D<InC, OutC, K, S, P>;
    using Layer = typename Spec::template bind_image<T, InC, H, W>;
    const LoopConv ref{InC, OutC, K, S, P, H, W};
    const sn::Index in = InC * H * W, out = OutC * ref.out_h() * ref.out_w();
    REQUIRE(Spec::output_shape(sn::Shape{InC, H, W}) == sn::Shape{OutC, ref.out_h(), ref.out_w()});

    Eigen::VectorXd params = Eigen::VectorXd::Random(Spec::parameter_count);
    // The layer sees its own scalar; the reference below works from the same
    // values in double.
    Eigen::VectorX<T> params_t = params.cast<T>();
    const sn::Matrix<T> X_t = Eigen::MatrixXd::Random(in, n).cast<T>();
    const sn::Matrix<T> dY_t = Eigen::MatrixXd::Random(out, n).cast<T>();
    params = params_t.template cast<double>();
    const Eigen::MatrixXd X = X_t.template cast<double>(), dY = dY_t.template cast<double>();
    Layer layer;
    layer.attach(params_t.data());
    typename Layer::Scratch scratch;
    sn::Matrix<T> Y_t(out, n), dX_t(in, n);
    Eigen::VectorX<T> grad_t = Eigen::VectorX<T>::Constant(Spec::parameter_count, T(99));  // must be overwritten
    layer.forward(sn::BatchView<T>(X_t.data(), in, n), Y_t, scratch, sn::Pass{});
    layer.backward(sn::BatchView<T>(X_t.data(), in, n), dY_t, &dX_t, grad_t.data(), scratch, sn::Pass{});
    {  // again on the used scratch: the same bits
        sn::Matrix<T> Y2(out, n), dX2(in, n);
        Eigen::VectorX<T> grad2 = Eigen::VectorX<T>::Constant(Spec::parameter_count, T(99));
        layer.forward(sn::BatchView<T>(X_t.data(), in, n), Y2, scratch, sn::Pass{});
        layer.backward(sn::BatchView<T>(X_t.data(), in, n), dY_t, &dX2, grad2.data(), scratch, sn::Pass{});
        CHECK((Y2.array() == Y_t.array()).all());
        CHECK((dX2.array() == dX_t.array()).all());
        CHECK((grad2.array() == grad_t.array()).all());
    }
    const Eigen::MatrixXd Y = Y_t.template cast<double>(), dX = dX_t.template cast<double>();
    const Eigen::VectorXd grad = grad_t.template cast<double>();

    const auto Wt = [&](int o, int t) { return params[t * OutC + o]; };
    Eigen::MatrixXd Yr(out, n), dXr = Eigen::MatrixXd::Zero(in, n);
    Eigen::MatrixXd dWr = Eigen::MatrixXd::Zero(OutC, InC * K * K);
    Eigen::VectorXd dbr = Eigen::VectorXd::Zero(OutC);
    for (sn::Index s = 0; s < n; ++s) {
        for (int o = 0; o < OutC; ++o)
            for (int y = 0; y < ref.out_h(); ++y)
                for (int x = 0; x < ref.out_w(); ++x) {
                    Yr(ref.out_index(o, y, x), s) = params[OutC * InC * K * K + o];
                    dbr[o] += dY(ref.out_index(o, y, x), s);
                }
        ref.each([&](int o, int c, int i, int j, int y, int x, int idx) {
            const int q = ref.out_index(o, y, x), t = ref.tap(c, i, j);
            Yr(q, s) += Wt(o, t) * X(idx, s);
            dWr(o, t) += dY(q, s) * X(idx, s);
            dXr(idx, s) += Wt(o, t) * dY(q, s);
        });
    }
    const auto scale = [&](const auto& ref_values) {
        return std::is_same_v<T, double> ? 1.0 : std::max(1.0, ref_values.cwiseAbs().maxCoeff());
    };
    CHECK((Y - Yr).cwiseAbs().maxCoeff() < tolerance * scale(Yr));
    CHECK((dX - dXr).cwiseAbs().maxCoeff() < tolerance * scale(dXr));
    const Eigen::Map<const Eigen::MatrixXd> dW(grad.data(), OutC, InC * K * K);
    CHECK((dW - dWr).cwiseAbs().maxCoeff() < tolerance * scale(dWr));
    CHECK((grad.tail(OutC) - dbr).cwiseAbs().maxCoeff() < tolerance * scale(dbr));
}

template <class Net>
void check_gradients(std::uint64_t seed) {
    using D = typename Net::template rebind<double>;
    const D net(seed);
    std::srand(static_cast<unsigned>(seed));
    const Eigen::MatrixXd X = Eigen::MatrixXd::Random(D::input_size, 4);
    sn::Labels y(4);
    for (int j = 0; j < 4; ++j) y[j] = j % static_cast<int>(D::output_size);
    const auto report = sn::gradient_check(net, X, y);
    CAPTURE(report);
    CHECK(report);
    CHECK(report.checked == D::parameter_count - report.at_kinks);
    CHECK(report.at_kinks * 10 <= report.checked);
}

/// Images of 8 x 8 with one bright bar: label 0 horizontal, 1 vertical, at a random
/// place, on noise. A dense network must learn every place; a convolution one kernel.
void bars(int n, sn::Matrix<float>& X, sn::Labels& y, unsigned seed) {
    sn::Rng rng(seed);
    X.resize(64, n);
    y.resize(n);
    for (int s = 0; s < n; ++s) {
        for (int p = 0; p < 64; ++p) X(p, s) = static_cast<float>(sn::detail::uniform(rng, 0.0, 0.3));
        const int label = s % 2, at = static_cast<int>(rng() % 8), from = static_cast<int>(rng() % 4);
        for (int t = from; t < from + 4; ++t) X(label == 0 ? at * 8 + t : t * 8 + at, s) = 1.0f;
        y[s] = label;
    }
}

using BarNet = sn::Network<sn::Input<1, 8, 8>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU, sn::MaxPool2D<2>,
                           sn::Conv2D<4, 8, 3>, sn::ReLU, sn::Dropout<0.25>, sn::Flatten, sn::Dense<32, 2>,
                           sn::Softmax, sn::CrossEntropy>;

}  // namespace

TEST_CASE("shapes propagate at compile time and architecture() shows them") {
    static_assert(LeNet::input_size == 784 && LeNet::output_size == 10);
    static_assert(LeNet::input_shape == sn::Shape{1, 28, 28});
    static_assert(LeNet::output_shape(0) == sn::Shape{6, 28, 28});
    static_assert(LeNet::output_shape(2) == sn::Shape{6, 14, 14});
    static_assert(LeNet::output_shape(3) == sn::Shape{16, 10, 10});
    static_assert(LeNet::output_shape(5) == sn::Shape{16, 5, 5});
    static_assert(LeNet::output_shape(6) == sn::Shape{400, 1, 1});
    // 6*25+6 + 16*150+16 + 400*120+120 + 120*84+84 + 84*10+10: LeNet-5's 61,706.
    static_assert(LeNet::parameter_count == 61706);
    CHECK(LeNet::architecture() ==
          "Input<1,28,28>,Conv2D<1,6,5,1,2>:6x28x28,ReLU:6x28x28,MaxPool2D<2,2>:6x14x14,Conv2D<6,16,5,1,0>:16x10x10,"
          "ReLU:16x10x10,MaxPool2D<2,2>:16x5x5,Flatten:400,Dense<400,120>:120,ReLU:120,Dense<120,84>:84,ReLU:84,"
          "Dense<84,10>:10,Softmax:10,CrossEntropy");
    CHECK(LeNet::layer_name(0) == "Conv2D<1,6,5,1,2>");
    // Strides, padding and non-square images.
    using Odd = sn::Network<sn::Input<3, 9, 13>, sn::Conv2D<3, 2, 3, 2, 1>, sn::AvgPool2D<3, 2>, sn::Flatten,
                            sn::Dense<12, 2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(Odd::output_shape(0) == sn::Shape{2, 5, 7});
    static_assert(Odd::output_shape(1) == sn::Shape{2, 2, 3});
    // A network without Input keeps its flat shapes and its old architecture string.
    using Flat = sn::Network<sn::Dense<4, 3>, sn::ReLU, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(Flat::input_shape == sn::Shape{4, 1, 1});
    CHECK(Flat::architecture() == "Dense<4,3>,ReLU,Dense<3,2>,Softmax,CrossEntropy");
    CHECK(sn::to_string(sn::Shape{16, 5, 5}) == "16x5x5");
}

TEST_CASE("Conv2D forward and backward equal a plain loop convolution, for each stride and padding") {
    check_against_loops<1, 2, 3, 1, 0, 5, 5>();
    check_against_loops<2, 3, 3, 1, 1, 6, 5>();
    check_against_loops<2, 3, 3, 2, 0, 7, 9>();
    check_against_loops<3, 2, 3, 2, 1, 7, 5>();
    check_against_loops<2, 2, 5, 1, 2, 6, 6>();
    check_against_loops<1, 3, 2, 2, 1, 6, 4>();
    check_against_loops<4, 1, 1, 1, 0, 3, 3>();  // a 1 x 1 convolution mixes channels only
    // Strided layers unfold through the rows' phases: the README ResNet's 4 x 4 and
    // 2 x 2 stride-2 shapes (odd and even padding), stride 3, and float.
    check_against_loops<3, 2, 4, 2, 1, 8, 10>(2);
    check_against_loops<2, 3, 2, 2, 0, 6, 8>(2);
    check_against_loops<2, 2, 4, 2, 2, 6, 8>(2);
    check_against_loops<2, 2, 3, 3, 2, 11, 8>(2);
    check_against_loops<16, 8, 4, 2, 1, 14, 14, float>(3, 2e-6);
}

TEST_CASE("Winograd's F(2x2, 3x3) layers equal a plain loop convolution, for any output size and group") {
    // 3 x 3, stride 1 and at least 4 input channels take the Winograd path.
    using Even = sn::Conv2D<4, 3, 3>::bind_image<double, 4, 6, 6>;       // output 4 x 4
    using Odd = sn::Conv2D<5, 2, 3, 1, 1>::bind_image<double, 5, 7, 5>;  // output 7 x 5: half-used tiles
    using Wide = sn::Conv2D<4, 5, 3, 1, 2>::bind_image<double, 4, 5, 4>; // output 7 x 6
    static_assert(Even::winograd && Odd::winograd && Wide::winograd);
    static_assert(!sn::Conv2D<3, 2, 3>::bind_image<double, 3, 6, 6>::winograd);  // too few channels for it
    static_assert(!sn::Conv2D<4, 2, 3, 2>::bind_image<double, 4, 7, 7>::winograd);
    // An im2col layer does not instantiate the Winograd engine, whose tile counts
    // would be 0 for a 1 x 1 kernel on a 1 x 1 image.
    using Tiny = sn::Conv2D<4, 3, 1>::bind_image<double, 4, 1, 1>;
    static_assert(!Tiny::winograd && std::is_same_v<decltype(Tiny::Scratch::unfolded), sn::Matrix<double>>);
    // Samples run in groups of Winograd::kGroup, the last group smaller: one
    // sample, one full group, and two full groups and a part.
    static_assert(Even::Winograd::kGroup == Odd::Winograd::kGroup && Even::Winograd::kGroup == Wide::Winograd::kGroup);
    static_assert(Even::Winograd::kGroup > 1 && Even::Winograd::kSpans == 1);
    for (const sn::Index n : {sn::Index{1}, Even::Winograd::kGroup, 2 * Even::Winograd::kGroup + 3}) {
        CAPTURE(n);
        check_against_loops<4, 3, 3, 1, 0, 6, 6>(n);
        check_against_loops<5, 2, 3, 1, 1, 7, 5>(n);
        check_against_loops<4, 5, 3, 1, 2, 5, 4>(n);
    }
    // Larger layers run in bands of tile rows, each band's rows shared with the
    // next: here 3 bands of 5 tile rows, the last tile row and column half used.
    using Banded = sn::Conv2D<16, 4, 3, 1, 1>::bind_image<double, 16, 29, 23>;
    static_assert(Banded::Winograd::kSpans == 3 && Banded::Winograd::kGroup == 1);
    check_against_loops<16, 4, 3, 1, 1, 29, 23>(2);
    // In float, the shape of Keras' mnist_cnn's second layer: the transforms'
    // rounding stays within 2e-6 (17 float epsilons) of the outputs' size.
    static_assert(sn::Conv2D<32, 8, 3>::bind_image<float, 32, 26, 26>::Winograd::kSpans > 1);
    check_against_loops<32, 8, 3, 1, 0, 26, 26, float>(3, 2e-6);
    // Float layers run their products unpacked where AVX2 is enabled: groups whose
    // tile counts are no multiple of 8 (4 tiles a sample) or are (12), odd channel
    // counts for the tile edges, one sample and two groups and a part.
    for (const sn::Index n : {sn::Index{1}, 2 * Even::Winograd::kGroup + 3}) {
        CAPTURE(n);
        check_against_loops<4, 3, 3, 1, 0, 6, 6, float>(n, 2e-6);
        check_against_loops<5, 7, 3, 1, 1, 7, 5, float>(n, 2e-6);
    }
}

TEST_CASE("rows split into even and odd entries and joined again, for every length") {
    // Winograd's row shuffles: in the native suite, float takes the AVX2 path
    // (16 entries a step, then 8, then one by one); every length up to 40 crosses
    // each of its boundaries. Entries past the row must stay untouched.
    for (sn::Index n = 1; n <= 40; ++n) {
        CAPTURE(n);
        std::vector<float> row(static_cast<std::size_t>(n) + 4), even(24, -1.0f), odd(24, -1.0f);
        for (std::size_t i = 0; i < row.size(); ++i) row[i] = static_cast<float>(i) + 0.5f;
        sn::detail::split_even_odd(row.data(), n, even.data(), odd.data());
        for (sn::Index k = 0; k < 24; ++k) {
            const std::size_t u = static_cast<std::size_t>(k);
            CHECK(even[u] == (2 * k < n ? row[2 * u] : -1.0f));
            CHECK(odd[u] == (2 * k + 1 < n ? row[2 * u + 1] : -1.0f));
        }
        std::vector<float> joined(row.size(), -1.0f), added(row.size(), 10.0f);
        sn::detail::join_even_odd<false>(even.data(), odd.data(), n, joined.data());
        sn::detail::join_even_odd<true>(even.data(), odd.data(), n, added.data());
        for (std::size_t i = 0; i < row.size(); ++i) {
            const bool in_row = static_cast<sn::Index>(i) < n;
            CHECK(joined[i] == (in_row ? row[i] : -1.0f));
            CHECK(added[i] == (in_row ? row[i] + 10.0f : 10.0f));
        }
    }
}

TEST_CASE("MaxPool2D and AvgPool2D match a hand computation, forward and backward") {
    // One channel, 4 x 4, windows 2 x 2 by 2:
    //   1 5 | 2 0        max: 5 3     mean: 2.5  1.25
    //   3 1 | 3 0             9 8           6.5  5
    //   ----+----
    //   9 2 | 4 8
    //   7 8 | 0 8   (the first of two equal maxima, 8 at (2,3), takes the gradient)
    Eigen::VectorXd x(16);
    x << 1, 5, 2, 0, 3, 1, 3, 0, 9, 2, 4, 8, 7, 8, 0, 8;
    const sn::BatchView<double> X(x.data(), 16, 1);
    Eigen::MatrixXd dY(4, 1);
    dY << 1, 2, 3, 4;
    {
        using L = sn::MaxPool2D<2>::bind_image<double, 1, 4, 4>;
        const L pool;
        L::Scratch s;
        // dX starts as NaN: every input's gradient must be written, zeros included.
        Eigen::MatrixXd Y(4, 1), dX = Eigen::MatrixXd::Constant(16, 1, std::numeric_limits<double>::quiet_NaN());
        pool.forward(X, Y, s, sn::Pass{});
        CHECK(Y(0) == 5);
        CHECK(Y(1) == 3);
        CHECK(Y(2) == 9);
        CHECK(Y(3) == 8);
        pool.backward(X, dY, &dX, nullptr, s, sn::Pass{});
        Eigen::VectorXd expect = Eigen::VectorXd::Zero(16);
        expect[1] = 1;   // 5
        expect[6] = 2;   // 3 at (1,2)
        expect[8] = 3;   // 9
        expect[11] = 4;  // 8 at (2,3)
        CHECK(dX.col(0) == expect);
    }
    {
        using L = sn::AvgPool2D<2>::bind_image<double, 1, 4, 4>;
        const L pool;
        sn::NoScratch s;
        Eigen::MatrixXd Y(4, 1), dX = Eigen::MatrixXd::Constant(16, 1, std::numeric_limits<double>::quiet_NaN());
        pool.forward(X, Y, s, sn::Pass{});
        CHECK(Y(0) == 2.5);
        CHECK(Y(1) == 1.25);
        CHECK(Y(2) == 6.5);
        CHECK(Y(3) == 5);
        pool.backward(X, dY, &dX, nullptr, s, sn::Pass{});
        CHECK(dX(0) == 0.25);
        CHECK(dX(5) == 0.25);
        CHECK(dX(2) == 0.5);
        CHECK(dX(15) == 1.0);
        CHECK(dX.sum() == 10);  // every input written: a quarter of its window's gradient
    }
    {
        // A NaN wins its window wherever it lies, and stays against larger inputs
        // after it, so that it reaches the output; its input takes the gradient.
        using L = sn::MaxPool2D<2>::bind_image<double, 1, 4, 4>;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        Eigen::VectorXd z = Eigen::VectorXd::Ones(16);
        z[4] = 7;    // window 0: 1 1 / 7 NaN
        z[5] = nan;
        z[2] = nan;  // window 1: NaN 1 / 1 9
        z[7] = 9;
        const L pool;
        L::Scratch s;
        Eigen::MatrixXd Y(4, 1), dX(16, 1);
        pool.forward(sn::BatchView<double>(z.data(), 16, 1), Y, s, sn::Pass{});
        CHECK(std::isnan(Y(0)));
        CHECK(std::isnan(Y(1)));
        CHECK(Y(2) == 1);
        pool.backward(X, dY, &dX, nullptr, s, sn::Pass{});
        CHECK(dX(5) == 1);
        CHECK(dX(2) == 2);
        CHECK(dX(4) == 0);
        CHECK(dX(7) == 0);
    }
    {
        // Overlapping windows (3 x 3 by 1 on 4 x 4): an input that is the maximum of
        // two windows gets both gradients.
        using L = sn::MaxPool2D<3, 1>::bind_image<double, 1, 4, 4>;
        const L pool;
        L::Scratch s;
        Eigen::MatrixXd Y(4, 1), dX(16, 1);
        pool.forward(X, Y, s, sn::Pass{});
        CHECK(Y(0) == 9);  // rows 0-2, columns 0-2
        CHECK(Y(1) == 8);  // rows 0-2, columns 1-3: the 8 at (2,3)
        CHECK(Y(2) == 9);  // rows 1-3, columns 0-2
        CHECK(Y(3) == 8);  // rows 1-3, columns 1-3: (2,3) comes before (3,1) and (3,3)
        pool.backward(X, dY, &dX, nullptr, s, sn::Pass{});
        CHECK(dX(8) == 1 + 3);
        CHECK(dX(11) == 2 + 4);
        CHECK(dX.sum() == 10);
    }
}

TEST_CASE("pooling layers name their window and stride") {
    CHECK(sn::MaxPool2D<2>::name() == "MaxPool2D<2,2>");
    CHECK(sn::AvgPool2D<3, 1>::name() == "AvgPool2D<3,1>");
    CHECK(sn::MaxPool2D<12, 10>::name() == "MaxPool2D<12,10>");
}

TEST_CASE("gradient_check passes on small conv nets for each stride, padding and pool") {
    check_gradients<sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 3, 3>, sn::Tanh, sn::MaxPool2D<2>, sn::Flatten,
                                sn::Dense<12, 3>, sn::Softmax, sn::CrossEntropy>>(1);
    check_gradients<sn::Network<sn::Input<2, 5, 5>, sn::Conv2D<2, 3, 3, 1, 1>, sn::ReLU, sn::AvgPool2D<3, 1>,
                                sn::Flatten, sn::Dense<27, 2>, sn::Softmax, sn::CrossEntropy>>(2);
    check_gradients<sn::Network<sn::Input<2, 7, 7>, sn::Conv2D<2, 4, 3, 2, 1>, sn::ReLU, sn::MaxPool2D<2, 1>,
                                sn::Conv2D<4, 2, 2>, sn::Sigmoid, sn::Flatten, sn::Dense<8, 3>, sn::Softmax,
                                sn::CrossEntropy>>(3);
    check_gradients<sn::Network<sn::Input<1, 8, 8>, sn::Conv2D<1, 2, 5, 1, 2>, sn::Tanh, sn::AvgPool2D<2>,
                                sn::Conv2D<2, 3, 3, 1, 0>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<3, 2>,
                                sn::Softmax, sn::CrossEntropy>>(4);
    // A convolution as the last layer, under MSE: no Dense at all.
    check_gradients<sn::Network<sn::Input<2, 4, 4>, sn::Conv2D<2, 1, 3, 1, 1>, sn::MaxPool2D<2>, sn::Flatten,
                                sn::Softmax, sn::CrossEntropy>>(5);
    // Two Winograd layers, the first without an input gradient to pass back.
    using WinogradNet = sn::Network<sn::Input<4, 6, 5>, sn::Conv2D<4, 4, 3, 1, 1>, sn::Tanh, sn::Conv2D<4, 2, 3>,
                                    sn::Tanh, sn::Flatten, sn::Dense<24, 3>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::Conv2D<4, 4, 3, 1, 1>::bind_image<double, 4, 6, 5>::winograd &&
                  sn::Conv2D<4, 2, 3>::bind_image<double, 4, 6, 5>::winograd);
    check_gradients<WinogradNet>(6);
}

TEST_CASE("gradient_check rechecks with a smaller step where a step would move MaxPool2D's choice") {
    // A 2 x 2 kernel of 1 0 / 0 0 passes each window's top-left input, so the pool
    // sees 0.3, 0.3001, -1, -1 and picks the second. A step of 1e-3 on the kernel's
    // top-right weight adds 0.3001 h to the first and -h to the second: the maximum
    // moves. A step of 1e-5 leaves it where it is.
    using Net = sn::BasicNetwork<double, sn::Input<1, 3, 3>, sn::Conv2D<1, 1, 2>, sn::MaxPool2D<2>, sn::Flatten,
                                 sn::Dense<1, 2>, sn::Softmax, sn::CrossEntropy>;
    Net net(1);
    net.parameters().head(5) << 1, 0, 0, 0, 0;  // kernel taps (0,0), (0,1), (1,0), (1,1); bias
    Eigen::MatrixXd X(9, 1);
    X << 0.3, 0.3001, -1, -1, -1, -1, -1, -1, -1;
    sn::Labels y(1);
    y << 1;
    const auto report = sn::gradient_check(net, X, y);
    CAPTURE(report);
    CHECK(report);
    CHECK(report.rechecked >= 1);
}

TEST_CASE("a small CNN learns bars that a position-blind feature cannot tell apart") {
    sn::Matrix<float> X, Xt;
    sn::Labels y, yt;
    bars(800, X, y, 1);
    bars(400, Xt, yt, 2);
    BarNet net(3);
    sn::Adam adam(0.01f);
    const auto history = sn::fit(net, adam, X, y, {.epochs = 15, .batch_size = 32, .seed = 1});
    CHECK(history.back().loss < history.front().loss);
    CHECK(sn::accuracy(net, Xt, yt) >= 0.97);
}

TEST_CASE("CNN training gives the same bits for 1, 2 and 3 threads, with Dropout, for every optimizer") {
    sn::Matrix<float> X;
    sn::Labels y;
    bars(300, X, y, 4);
    const auto run = [&](unsigned threads, int which) {
        BarNet net(5);
        const sn::FitOptions o{.epochs = 2, .batch_size = 100, .seed = 6, .threads = threads, .chunk_size = 16};
        if (which == 0) {
            sn::SGD opt{0.05f};
            sn::fit(net, opt, X, y, o);
        } else if (which == 1) {
            sn::Momentum opt{0.05f, 0.9f};
            sn::fit(net, opt, X, y, o);
        } else {
            sn::Adam opt{0.01f};
            sn::fit(net, opt, X, y, o);
        }
        return Eigen::VectorXf(net.parameters());
    };
    for (int which = 0; which < 3; ++which) {
        CAPTURE(which);
        const Eigen::VectorXf one = run(1, which);
        CHECK(run(2, which) == one);
        CHECK(run(3, which) == one);
        CHECK(one != Eigen::VectorXf(BarNet(5).parameters()));
    }
}

TEST_CASE("a CNN's model file round-trips; another CNN refuses it") {
    BarNet net(7);
    std::stringstream file;
    sn::save(net, file);
    BarNet loaded(8);
    sn::load(loaded, file);
    CHECK(loaded.parameters() == net.parameters());
    const sn::Matrix<float> X = sn::Matrix<float>::Random(64, 5);
    CHECK(loaded.outputs(X) == net.outputs(X));

    using Other = sn::Network<sn::Input<1, 8, 8>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU, sn::AvgPool2D<2>,
                              sn::Conv2D<4, 8, 3>, sn::ReLU, sn::Dropout<0.25>, sn::Flatten, sn::Dense<32, 2>,
                              sn::Softmax, sn::CrossEntropy>;
    static_assert(Other::parameter_count == BarNet::parameter_count);
    Other other(1);
    std::stringstream again;
    sn::save(net, again);
    CHECK_THROWS_WITH_AS(sn::load(other, again), doctest::Contains("MaxPool2D<2,2>:4x4x4"), sn::ModelError);
}

TEST_CASE("predict on a const CNN is safe from several threads at once") {
    const LeNet net(3);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 40);
    const sn::Labels expect = net.predict(X);
    std::vector<sn::Labels> got(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < got.size(); ++t)
        threads.emplace_back([&, t] {
            for (int r = 0; r < 5; ++r) got[t] = net.predict(X);
        });
    for (auto& t : threads) t.join();
    for (const auto& g : got) CHECK(g == expect);
}

TEST_CASE("Flatten moves no data: the Dense after it reads the pooling layer's output in place") {
    using Net = sn::Network<sn::Input<1, 4, 4>, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<4, 2>, sn::Softmax,
                            sn::CrossEntropy>;
    Net net(1);
    Net::Workspace ws;
    const sn::Matrix<float> X = sn::Matrix<float>::Random(16, 3);
    net.forward(Net::Batch(X.data(), 16, 3), ws);
    // Buffers: the pool's output (shared by Flatten) and the Dense's (shared by Softmax).
    CHECK(ws.out.size() == 2);
    CHECK(ws.out[0].rows() == 4);
}
