// Every extension point's contract, met from outside namespace scratchnet with no
// library edit: a loss (layer contract's partner, losses.hpp), an output layer
// that declares probabilities and a layer that opts into the row split
// (layer.hpp), an optimizer on the shared skeleton (optimizers/optimizer.hpp) and
// a gradient engine (training/trainer.hpp). Behaviour follows from what each type
// declares, never from a list of library types.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <atomic>
#include <cmath>
#include <string>

namespace user {

namespace sn = scratchnet;

/// Per sample  l = (1/n) sum_i |p_i - y_i|;  dl/dp_i = sign(p_i - y_i) / n.
/// Declares nothing about classes, so a network trained with it is a regression.
struct MeanAbsoluteError {
    static constexpr const char* name() { return "MeanAbsoluteError"; }
    template <class DP, class DY>
    static typename DP::Scalar sum(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y) {
        return (P - Y).cwiseAbs().sum() / static_cast<typename DP::Scalar>(P.rows());
    }
    template <class DP, class DY, class S>
    static void gradient(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, S scale, sn::Matrix<S>& dP) {
        dP = ((P - Y).array().sign() * (scale / static_cast<S>(P.rows()))).matrix();
    }
};

/// f(z) = (1 + z / (1 + |z|)) / 2, in (0, 1): a probability, and it says so.
/// With u = 2 f - 1 = z / (1 + |z|):  f'(z) = (1 - |u|)^2 / 2, written from the output.
struct Softsign01 {
    static constexpr sn::Index inputs = 0, outputs = 0, parameter_count = 0;
    static constexpr bool elementwise = true;
    static constexpr bool gives_probabilities = true;
    static std::string name() { return "Softsign01"; }
    template <class T>
    static void forward(sn::Matrix<T>& A) {
        A = ((T(1) + (A.array() / (T(1) + A.array().abs()))) * T(0.5)).matrix();
    }
    template <class T>
    static void backward(const sn::Matrix<T>& A, sn::Matrix<T>& dA) {
        const auto u = (T(2) * A.array() - T(1)).abs();
        dA.array() *= (T(1) - u).square() * T(0.5);
    }
};

/// y = w .* x + b, unit by unit: row i of the output depends on w_i and b_i only,
/// so the layer offers the row split. Parameters: w (N), then b (N).
inline std::atomic<long> rows_computed{0};  // shows that the scheduler took the row path

template <sn::Index N, class T>
class DiagonalLayer {
public:
    static constexpr sn::Index inputs = N, outputs = N, parameter_count = 2 * N;
    static std::string name() { return "Diagonal<" + std::to_string(N) + ">"; }

    void attach(T* params) { p_ = params; }
    void initialize(sn::Rng& rng, sn::Init) {
        for (sn::Index i = 0; i < N; ++i) p_[i] = T(0.5) + static_cast<T>(sn::detail::uniform01(rng));
        for (sn::Index i = 0; i < N; ++i) p_[N + i] = T(0);
    }
    void forward(const sn::BatchView<T>& X, sn::Matrix<T>& Y, sn::NoScratch&, const sn::Pass&) const {
        compute_rows(X, Y, 0, N);
    }
    void backward(const sn::BatchView<T>& X, const sn::Matrix<T>& dY, sn::Matrix<T>* dX, T* grad, sn::NoScratch&,
                  const sn::Pass&) const {
        RowScratch s;
        weight_gradient_rows(X, dY, grad, 0, N, s);
        if (dX != nullptr)
            for (sn::Index j = 0; j < X.cols(); ++j)
                for (sn::Index i = 0; i < N; ++i) (*dX)(i, j) = p_[i] * dY(i, j);
    }

    // The row split.
    struct RowScratch {};
    template <class D>
    void forward_rows(const Eigen::MatrixBase<D>& X, sn::Matrix<T>& Y, sn::Index r0, sn::Index r1, RowScratch&) const {
        rows_computed += static_cast<long>(r1 - r0);
        compute_rows(X, Y, r0, r1);
    }
    template <class D>
    void weight_gradient_rows(const Eigen::MatrixBase<D>& X, const sn::Matrix<T>& dY, T* grad, sn::Index r0,
                              sn::Index r1, RowScratch&) const {
        for (sn::Index i = r0; i < r1; ++i) {
            T dw = 0, db = 0;
            for (sn::Index j = 0; j < X.cols(); ++j) {
                dw += dY(i, j) * X(i, j);
                db += dY(i, j);
            }
            grad[i] = dw;
            grad[N + i] = db;
        }
    }
    template <class F>
    static void for_each_row_parameter_range(sn::Index r0, sn::Index r1, F f) {
        f(r0, r1);
        f(N + r0, N + r1);
    }

private:
    template <class D>
    void compute_rows(const Eigen::MatrixBase<D>& X, sn::Matrix<T>& Y, sn::Index r0, sn::Index r1) const {
        for (sn::Index j = 0; j < X.cols(); ++j)
            for (sn::Index i = r0; i < r1; ++i) Y(i, j) = p_[i] * X(i, j) + p_[N + i];
    }

    T* p_ = nullptr;
};

template <sn::Index N>
struct Diagonal {
    static constexpr sn::Index inputs = N, outputs = N, parameter_count = 2 * N;
    static std::string name() { return "Diagonal<" + std::to_string(N) + ">"; }
    template <class T>
    using bind = DiagonalLayer<N, T>;
};

/// theta <- theta - lr sign(g), on the library's skeleton: only begin_step and update.
class SignDescent : public sn::RangeUpdate<SignDescent> {
public:
    using range_update = SignDescent;
    explicit SignDescent(float lr) : lr_(lr) {}
    template <class Net>
    void begin_step(Net&) {
        ++steps;
    }
    template <class Net>
    void update(Net& net, sn::Index begin, sn::Index end) {
        using T = typename Net::Scalar;
        net.parameters().segment(begin, end - begin) -= T(lr_) * net.gradients().segment(begin, end - begin).cwiseSign();
    }
    int steps = 0;

private:
    float lr_;
};

/// The simplest gradient engine: the whole batch in one pass, one thread.
template <class Net>
class WholeBatch {
    using T = typename Net::Scalar;

public:
    struct Result {
        T loss_sum = 0;
        sn::Index correct = 0;
        int nonfinite_layer = -1;
    };
    using Gather = sn::detail::FunctionRef<void(sn::Index, sn::Index, sn::Matrix<T>&)>;
    using Done = sn::detail::FunctionRef<void(sn::Index, sn::Index)>;

    // What the trainer passes: the options' threads, chunk size, NaN check, split.
    WholeBatch(unsigned, sn::Index, bool check_finite, bool) { ws_.check_finite = check_finite; }

    Result compute(Net& net, sn::Index batch, Gather inputs, Gather targets, const sn::Pass& pass) {
        inputs(0, batch, X_);
        targets(0, batch, Y_);
        ws_.pass = pass;
        const typename Net::Batch X(X_.data(), X_.rows(), batch), Y(Y_.data(), Y_.rows(), batch);
        const sn::Matrix<T>& P = net.forward(X, ws_);
        Result r{net.loss_sum(Y, ws_), 0, ws_.nonfinite_layer};
        for (sn::Index j = 0; j < batch; ++j) r.correct += sn::detail::hits<Net::task>(P, Y_, j);
        net.backward(X, Y, ws_, net.gradients().data(), T(1) / static_cast<T>(batch));
        ++batches;
        return r;
    }
    void sum(Net&, Done done) { done(0, Net::parameter_count); }
    void for_each_block(Done done) { done(0, Net::parameter_count); }
    bool agree(bool answer) const { return answer; }
    template <class F>
    void agreed(F&& f) const { f(); }
    double communication_seconds() const { return 0; }
    sn::detail::ThreadPool& pool() { return pool_; }

    int batches = 0;

private:
    typename Net::Workspace ws_;
    sn::Matrix<T> X_, Y_;
    sn::detail::ThreadPool pool_{1};
};

/// The library's engine behind the required members only: no measure(), so fit
/// measures an averaged network's state with compute().
template <class Net>
class ContractOnly {
    using Engine = sn::detail::BatchGradient<Net>;

public:
    using Result = typename Engine::Result;
    using Gather = typename Engine::Gather;
    using Done = typename Engine::Done;
    ContractOnly(unsigned threads, sn::Index chunk, bool check_finite, bool split_rows)
        : engine_(threads, chunk, check_finite, split_rows) {}
    Result compute(Net& net, sn::Index batch, Gather inputs, Gather targets, const sn::Pass& pass) {
        return engine_.compute(net, batch, inputs, targets, pass);
    }
    void sum(Net& net, Done done) { engine_.sum(net, done); }
    void for_each_block(Done done) { engine_.for_each_block(done); }
    bool agree(bool answer) const { return answer; }
    template <class F>
    void agreed(F&& f) const { f(); }
    double communication_seconds() const { return 0; }
    sn::detail::ThreadPool& pool() { return engine_.pool(); }

private:
    Engine engine_;
};

}  // namespace user

namespace sn = scratchnet;

namespace {

// Inputs in [-1, 1]^4 and a target that is a linear map of them.
template <class T>
void linear_data(sn::Index n, sn::Matrix<T>& X, sn::Matrix<T>& Y) {
    sn::Rng rng(11);
    X.resize(4, n);
    for (sn::Index j = 0; j < n; ++j)
        for (sn::Index i = 0; i < 4; ++i) X(i, j) = static_cast<T>(sn::detail::uniform(rng, -1, 1));
    sn::Matrix<T> A(3, 4);
    A << 1, -2, 0.5, 0, 0, 1, 1, -1, 0.25, 0, 0, 2;
    Y = A * X;
}

}  // namespace

TEST_CASE("a user's loss that declares nothing about classes makes a regression network") {
    using Mae = sn::BasicNetwork<double, sn::Dense<4, 3>, sn::Identity, user::MeanAbsoluteError>;
    static_assert(Mae::task == sn::Task::regression && Mae::class_count == 0);
    static_assert(std::is_same_v<sn::EvaluationOf<Mae>, sn::RegressionEvaluation>);
    Eigen::MatrixXd X, Y;
    linear_data(256, X, Y);
    Mae net(3);
    CHECK(sn::gradient_check(net, X.leftCols(8), Y.leftCols(8)).max_relative_error < 1e-6);

    sn::Adam adam(0.02f);
    const sn::History h = sn::fit(net, adam, X, Y, {.epochs = 200, .batch_size = 32, .seed = 1});
    CHECK(std::isnan(h.back().accuracy));
    const sn::RegressionEvaluation e = sn::evaluate(net, X, Y);
    // The loss is the user's MAE, and evaluate's mae is computed apart: they agree.
    CHECK(e.loss == doctest::Approx(e.mae).epsilon(1e-9));
    CHECK(e.r2 > 0.99);
}

TEST_CASE("a user's output layer that declares gives_probabilities may feed BinaryCrossEntropy") {
    using Net = sn::BasicNetwork<double, sn::Dense<2, 1>, user::Softsign01, sn::BinaryCrossEntropy>;
    static_assert(Net::task == sn::Task::binary);
    Eigen::MatrixXd X(2, 200);
    sn::Labels y(200);
    sn::Rng rng(5);
    for (sn::Index j = 0; j < 200; ++j) {
        y[j] = static_cast<int>(j % 2);
        const double c = y[j] == 0 ? -2.0 : 2.0;
        X(0, j) = c + sn::detail::normal(rng);
        X(1, j) = c + sn::detail::normal(rng);
    }
    Net net(1);
    Eigen::MatrixXd Y = y.cast<double>().transpose();
    CHECK(sn::gradient_check(net, X.leftCols(10), Y.leftCols(10)).max_relative_error < 1e-6);
    sn::SGD sgd(0.5f);
    sn::fit(net, sgd, X, y, {.epochs = 20, .batch_size = 16, .seed = 2});
    CHECK(sn::accuracy(net, X, y) > 0.95);
}

TEST_CASE("a user's layer that offers the row split is split by rows, same bits for any thread count") {
    using Net = sn::Network<user::Diagonal<16>, sn::Tanh, sn::Dense<16, 3>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::detail::BatchGradient<Net>::kCanSplitRows);
    static_assert(sn::RowSplitLayer<user::DiagonalLayer<16, float>, float>);
    sn::Matrix<float> X(16, 300);
    sn::Labels y(300);
    sn::Rng rng(9);
    for (sn::Index j = 0; j < 300; ++j) {
        for (sn::Index i = 0; i < 16; ++i) X(i, j) = static_cast<float>(sn::detail::uniform(rng, -1, 1));
        y[j] = X(0, j) + X(1, j) > 0.3f ? 2 : X(0, j) - X(2, j) > 0 ? 1 : 0;
    }
    auto train = [&](unsigned threads, sn::BatchSplit split) {
        Net net(4);
        sn::Adam adam(0.01f);
        sn::FitOptions o{.epochs = 3, .batch_size = 64, .seed = 1, .threads = threads, .chunk_size = 16};
        o.split = split;
        const sn::History h = sn::fit(net, adam, X, y, o);
        CHECK(h.threads == threads);
        return sn::Vector<float>(net.parameters());
    };
    user::rows_computed = 0;
    const sn::Vector<float> one = train(1, sn::BatchSplit::by_rows);
    CHECK(user::rows_computed > 0);  // the row path ran, not the sample path
    const sn::Vector<float> two = train(2, sn::BatchSplit::by_rows);
    CHECK(one == two);
    const long rows_before = user::rows_computed;
    const sn::Vector<float> by_samples = train(2, sn::BatchSplit::by_samples);
    CHECK(user::rows_computed == rows_before);  // split by samples, no row was computed apart
    // The splits add layer 0's gradient in different orders: equal but for rounding.
    CHECK((one - by_samples).cwiseAbs().maxCoeff() < 1e-4f);
}

TEST_CASE("a user's optimizer on the shared skeleton: step is begin_step, update; fit uses its ranges") {
    using Net = sn::BasicNetwork<double, sn::Dense<3, 2>, sn::Identity, sn::MeanSquaredError>;
    Net net(2);
    Eigen::MatrixXd X(3, 2), Y(2, 2);
    X << 1, 2, 0, -1, 3, 1;
    Y << 1, 0, 0, 1;
    net.loss(X, Y);
    net.backward(Y);
    const Eigen::VectorXd before = net.parameters(), g = net.gradients();
    user::SignDescent opt(0.1f);
    opt.step(net);
    CHECK(opt.steps == 1);
    for (Eigen::Index i = 0; i < before.size(); ++i)
        CHECK(net.parameters()[i] == doctest::Approx(before[i] - 0.1 * (g[i] > 0 ? 1 : g[i] < 0 ? -1 : 0)));
    static_assert(sn::RangeOptimizer<user::SignDescent, Net>);
    const sn::History h = sn::fit(net, opt, X, Y, {.epochs = 3, .batch_size = 2});
    CHECK(opt.steps == 4);
    CHECK(h.size() == 3);
}

TEST_CASE("a user's gradient engine drives the trainer and gives fit's bits when fit runs one chunk") {
    using Net = sn::Network<sn::Dense<4, 8>, sn::ReLU, sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::GradientEngine<user::WholeBatch<Net>, Net>);
    static_assert(sn::GradientEngine<sn::detail::BatchGradient<Net>, Net>);
    // measure() is optional: the library's engine offers it, this one does not
    // (fit then measures an average's state with compute()).
    static_assert(sn::HasStateMeasurement<sn::detail::BatchGradient<Net>, Net>);
    static_assert(!sn::HasStateMeasurement<user::WholeBatch<Net>, Net>);
    sn::Matrix<float> X, Yv;
    linear_data(120, X, Yv);
    sn::Labels y(120);
    for (sn::Index j = 0; j < 120; ++j) y[j] = Yv(0, j) > 0.5f ? 0 : Yv(1, j) > 0 ? 1 : 2;

    const sn::FitOptions o{.epochs = 4, .batch_size = 32, .seed = 3, .threads = 1, .chunk_size = 32};
    Net a(1), b(1);
    sn::Momentum ma(0.1f), mb(0.1f);
    const sn::History ha = sn::fit(a, ma, X, y, o);
    const sn::detail::NoValidation none;
    const sn::FitCallbacks callbacks;
    sn::detail::Trainer<Net, sn::Momentum, sn::Matrix<float>, sn::Labels, sn::detail::NoValidation,
                        user::WholeBatch<Net>>
        trainer(b, mb, X, y, none, o, callbacks);
    const sn::History hb = trainer.run();
    CHECK(a.parameters() == b.parameters());
    REQUIRE(hb.size() == 4);
    CHECK(ha.back().loss == hb.back().loss);
    CHECK(ha.back().accuracy == hb.back().accuracy);
}

TEST_CASE("a user's engine without measure() gives an averaged BatchNorm network fit's statistics through compute()") {
    using Net = sn::Network<sn::Input<1, 4, 4>, sn::Conv2D<1, 3, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                            sn::GlobalAvgPool2D, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(sn::GradientEngine<user::ContractOnly<Net>, Net>);
    static_assert(!sn::HasStateMeasurement<user::ContractOnly<Net>, Net>);
    sn::Matrix<float> X(16, 60);
    sn::Labels y(60);
    sn::Rng rng(4);
    for (sn::Index j = 0; j < 60; ++j) {
        y[j] = static_cast<int>(j % 2);
        for (sn::Index p = 0; p < 16; ++p)
            X(p, j) = static_cast<float>(sn::detail::uniform(rng, -1, 1)) + (p < 8 && y[j] == 1 ? 0.5f : 0.0f);
    }
    sn::FitOptions o{.epochs = 3, .batch_size = 20, .seed = 2, .threads = 1, .chunk_size = 8};
    o.average_from = 2;
    Net a(1), b(1), plain(1);
    sn::Momentum ma(0.1f), mb(0.1f), mp(0.1f);
    sn::fit(a, ma, X, y, o);
    const sn::detail::NoValidation none;
    const sn::FitCallbacks callbacks;
    sn::detail::Trainer<Net, sn::Momentum, sn::Matrix<float>, sn::Labels, sn::detail::NoValidation,
                        user::ContractOnly<Net>>(b, mb, X, y, none, o, callbacks)
        .run();
    CHECK(a.parameters() == b.parameters());
    CHECK(a.state() == b.state());  // compute()'s forward passes measure what measure()'s do
    o.average_from = 0;
    sn::fit(plain, mp, X, y, o);
    CHECK(a.state() != plain.state());  // the average's own statistics, not training's
}

TEST_CASE("max_norm on a network whose layers offer no max-norm constraint is refused, naming the network") {
    // The trait is the layer's own member (constrain_max_norm), so a user's layer
    // declares it as the library's do; Diagonal offers none.
    using Plain = sn::Network<user::Diagonal<2>, sn::Softmax, sn::CrossEntropy>;
    static_assert(!Plain::has_max_norm_constraint);
    static_assert(sn::Network<sn::Dense<2, 2>, sn::Softmax, sn::CrossEntropy>::has_max_norm_constraint);
    Plain net(1);
    sn::SGD sgd{0.1f};
    sn::Matrix<float> X = sn::Matrix<float>::Ones(2, 4);
    sn::Labels y = sn::Labels::Zero(4);
    sn::FitOptions o{.epochs = 1, .batch_size = 4};
    o.max_norm = 3.0;
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o),
                         doctest::Contains("max_norm is set but no layer of Diagonal<2>,Softmax,CrossEntropy applies one"),
                         std::invalid_argument);
}
