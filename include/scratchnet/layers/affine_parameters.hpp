#pragma once
// The parameters of a layer that computes W x + b (Dense; Conv2D, per position):
// W, Rows x Cols, and b, Rows, as views into the network's flat buffer (W
// column-major, then b), with their initialisation and max-norm constraint.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/tensors.hpp"

#include <cmath>
#include <new>

namespace scratchnet::detail {

template <class T, Index Rows, Index Cols>
class AffineParameters {
public:
    using WeightsView = Eigen::Map<Matrix<T>>;
    using BiasView = Eigen::Map<Vector<T>>;

    /// Rows x Cols view into the network's parameters; writable.
    WeightsView& weights() { return weights_; }
    const WeightsView& weights() const { return weights_; }
    /// Rows-vector view into the network's parameters; writable.
    BiasView& bias() { return bias_; }
    const BiasView& bias() const { return bias_; }

    /// Points the views at `params` (Rows*Cols weights, then Rows biases). Maps
    /// cannot be reseated by assignment (that would copy values), hence placement
    /// new, which is how Eigen documents it.
    void attach(T* params) {
        new (&weights_) WeightsView(params, Rows, Cols);
        new (&bias_) BiasView(params + Rows * Cols, Rows);
    }

    /// Init::he: N(0, 2 / fan_in), for a ReLU-like layer next (it halves the
    /// variance); Init::glorot: U(-r, r) with r = sqrt(6 / (fan_in + fan_out)).
    /// Biases start at 0.
    void initialize(Rng& rng, Init init, Index fan_in, Index fan_out) {
        if (init == Init::he) {
            const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
            for (Index k = 0; k < weights_.size(); ++k) weights_.data()[k] = static_cast<T>(sd * normal(rng));
        } else {
            const double r = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
            for (Index k = 0; k < weights_.size(); ++k) weights_.data()[k] = static_cast<T>(uniform(rng, -r, r));
        }
        bias_.setZero();
    }

    /// Max-norm constraint (Srivastava et al. 2014): scales each unit's incoming
    /// weights, a row of W, down to an L2 norm of at most c. Rows within it are
    /// left alone; the bias is not constrained.
    void constrain_max_norm(T c) {
        for (Index i = 0; i < Rows; ++i) {
            const T norm = weights_.row(i).norm();
            if (norm > c) weights_.row(i) *= c / norm;
        }
    }

protected:
    WeightsView weights_{nullptr, Rows, Cols};
    BiasView bias_{nullptr, Rows};
};

}  // namespace scratchnet::detail
