#pragma once
// BatchNorm: each channel of an image (over the samples and the H x W positions),
// or each feature of a flat vector (over the samples), normalised, then scaled and
// shifted by learned gamma and beta (Ioffe and Szegedy, 2015). Size taken from its
// input, like an activation. For channel c over its n values x in a pass:
//   mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),
//   y = gamma xhat + beta;
//   dL/dgamma = sum dy xhat,  dL/dbeta = sum dy,
//   dL/dx = gamma / (n sqrt(var + eps)) (n dy - sum dy - xhat sum(dy xhat)).
// Inference uses the running statistics instead, y = gamma (x - rm) / sqrt(rv + eps)
// + beta, and its backward is that function's.
//
// Training statistics are those of the pass: in fit, of each fixed chunk of a batch
// (FitOptions::chunk_size samples; "ghost" batch normalisation), so that 1 or N
// threads, 1 or N processes compute the same numbers. The chunk is part of the
// model: PyTorch normalises over the whole batch, so a PyTorch model trained with
// batch_size = chunk_size matches. After the batch, each chunk's mean and unbiased
// variance fold into the running statistics in chunk order (PyTorch's rule,
// r <- (1 - momentum) r + momentum x). A channel with one value in a pass (one
// flat sample) has no variance: it normalises to 0 (y = beta) and leaves the
// running statistics alone.
//
// Parameters: gamma (C), then beta (C). State: running mean (C), then running
// variance (C), starting at 0 and 1, as PyTorch's.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"
#include "scratchnet/tensors.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace scratchnet {

/// PyTorch's defaults. A policy of one's own names other values the same way:
/// struct Slow { static constexpr double momentum = 0.01, epsilon = 1e-3; };
/// BasicBatchNorm<Slow>. (A policy type rather than double template arguments,
/// which clang before 18 cannot take.)
struct BatchNormDefaults {
    static constexpr double momentum = 0.1;
    static constexpr double epsilon = 1e-5;
};

namespace detail {
template <class T, Index C, Index HW, class Policy>
class BatchNormLayer;
}

/// BatchNorm with its momentum and epsilon from Policy.
template <class Policy = BatchNormDefaults>
struct BasicBatchNorm {
    static constexpr double momentum = Policy::momentum, epsilon = Policy::epsilon;
    static_assert(momentum > 0 && momentum <= 1, "scratchnet::BatchNorm: the momentum must lie in (0, 1]");
    static_assert(epsilon > 0, "scratchnet::BatchNorm: epsilon must be positive");
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Shape output_shape(Shape in) { return in; }
    static constexpr Index parameter_count_for(Shape in) { return 2 * in.channels; }
    static constexpr Index state_count_for(Shape in) { return 2 * in.channels; }
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::BatchNormLayer<T, C, H * W, Policy>;
    static std::string name() {
        if (momentum == BatchNormDefaults::momentum && epsilon == BatchNormDefaults::epsilon) return "BatchNorm";
        return "BatchNorm<" + std::to_string(momentum) + "," + std::to_string(epsilon) + ">";
    }
};

/// PyTorch's defaults: momentum 0.1, epsilon 1e-5.
using BatchNorm = BasicBatchNorm<>;

namespace detail {

template <class T, Index C, Index HW, class Policy>
class BatchNormLayer : public BasicBatchNorm<Policy> {
    static constexpr double kMomentum = Policy::momentum, kEpsilon = Policy::epsilon;
    /// Channel c of a batch: HW x B, one column per sample, C * HW apart.
    using Channel = Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<>>;
    using ChannelOut = Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>;
    static Channel channel(const T* data, Index c, Index batch) {
        return Channel(data + c * HW, HW, batch, Eigen::OuterStride<>(C * HW));
    }
    static ChannelOut channel(T* data, Index c, Index batch) {
        return ChannelOut(data + c * HW, HW, batch, Eigen::OuterStride<>(C * HW));
    }

public:
    // xhat is not kept: backward recomputes it from the input, bit for bit, which
    // costs no more reading than a stored copy and saves its writing and memory.
    struct Scratch {
        Vector<T> mean, var, inv_std;  // of this pass (training), per channel
        bool training = false;
        Index values = 0;              // per channel in this pass
    };

    void attach(T* params) { p_ = params; }
    void initialize(Rng&, Init) {
        for (Index c = 0; c < C; ++c) p_[c] = T(1), p_[C + c] = T(0);
    }
    void attach_state(T* state) { s_ = state; }

    /// PyTorch's nn.BatchNorm1d / nn.BatchNorm2d: weight and bias (gamma, beta),
    /// running_mean and running_var, and its int64 num_batches_tracked (tensors.hpp).
    static std::vector<TensorLayout> tensors() {
        return {{"weight", {C}, TensorRole::parameter, 0, false},
                {"bias", {C}, TensorRole::parameter, C, false},
                {"running_mean", {C}, TensorRole::state, 0, false},
                {"running_var", {C}, TensorRole::state, C, false},
                {"num_batches_tracked", {}, TensorRole::counter, 0, false}};
    }
    void initialize_state() {
        for (Index c = 0; c < C; ++c) s_[c] = T(0), s_[C + c] = T(1);
    }

    void forward(const BatchView<T>& X, Matrix<T>& Y, Scratch& s, const Pass& pass) const {
        const Index batch = X.cols(), n = batch * HW;
        s.training = pass.training();
        s.values = n;
        s.mean.resize(C);
        s.var.resize(C);
        s.inv_std.resize(C);
        for (Index c = 0; c < C; ++c) {
            const Channel x = channel(X.data(), c, batch);
            T mu, var;
            if (s.training) {
                mu = x.sum() / static_cast<T>(n);
                var = (x.array() - mu).square().sum() / static_cast<T>(n);
            } else {
                mu = s_[c];
                var = s_[C + c];
            }
            const T inv_std = T(1) / std::sqrt(var + static_cast<T>(kEpsilon));
            s.mean[c] = mu;
            s.var[c] = n > 1 ? var * static_cast<T>(n) / static_cast<T>(n - 1) : T(0);  // unbiased, for the state
            s.inv_std[c] = inv_std;
            channel(Y.data(), c, batch) = ((normalized(x, mu, inv_std) * p_[c]) + p_[C + c]).matrix();
        }
    }

    void backward(const BatchView<T>& X, const Matrix<T>& dY, Matrix<T>* dX, T* grad, Scratch& s,
                  const Pass&) const {
        const Index batch = dY.cols();
        const auto n = static_cast<T>(s.values);
        for (Index c = 0; c < C; ++c) {
            const Channel dy = channel(dY.data(), c, batch);
            const Channel x = channel(X.data(), c, batch);  // named: the expression below refers to it
            const auto xhat = normalized(x, s.mean[c], s.inv_std[c]);
            const T dgamma = (dy.array() * xhat).sum(), dbeta = dy.sum();
            grad[c] = dgamma;
            grad[C + c] = dbeta;
            if (dX == nullptr) continue;
            const T scale = p_[c] * s.inv_std[c];
            if (s.training)
                channel(dX->data(), c, batch) = ((dy.array() * n - dbeta - xhat * dgamma) * (scale / n)).matrix();
            else
                channel(dX->data(), c, batch) = (dy.array() * scale).matrix();
        }
    }

    /// The pass's mean and unbiased variance per channel; NaN where the pass measured
    /// nothing (inference, or one value per channel), which fold_state skips.
    void measure_state(const Scratch& s, T* out) const {
        const bool measured = s.training && s.values >= 2;
        for (Index c = 0; c < C; ++c) {
            out[c] = measured ? s.mean[c] : std::numeric_limits<T>::quiet_NaN();
            out[C + c] = measured ? s.var[c] : std::numeric_limits<T>::quiet_NaN();
        }
    }
    void fold_state(const T* measured) {
        if (std::isnan(measured[0])) return;
        const auto m = static_cast<T>(kMomentum);
        for (Index c = 0; c < C; ++c) {
            s_[c] = (T(1) - m) * s_[c] + m * measured[c];
            s_[C + c] = (T(1) - m) * s_[C + c] + m * measured[C + c];
        }
    }

    /// gamma and beta, per channel.
    Eigen::Map<Vector<T>> gamma() { return {p_, C}; }
    Eigen::Map<Vector<T>> beta() { return {p_ + C, C}; }
    Eigen::Map<const Vector<T>> gamma() const { return {p_, C}; }
    Eigen::Map<const Vector<T>> beta() const { return {p_ + C, C}; }
    /// The running statistics, per channel.
    Eigen::Map<const Vector<T>> running_mean() const { return {s_, C}; }
    Eigen::Map<const Vector<T>> running_var() const { return {s_ + C, C}; }

private:
    /// xhat = (x - mu) / sqrt(var + eps) of a channel, as an expression.
    static auto normalized(const Channel& x, T mu, T inv_std) { return (x.array() - mu) * inv_std; }

    T* p_ = nullptr;
    T* s_ = nullptr;
};

}  // namespace detail
}  // namespace scratchnet
