#pragma once
// Adadelta: steps in units of the parameters, no learning rate to tune.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

struct AdadeltaOptions {
    float learning_rate = 1.0f;  ///< Zeiler's method has none; 1.0 is the paper's and Keras' mnist_cnn's
    float rho = 0.95f;
    float epsilon = 1e-7f;       ///< Keras' default
    float weight_decay = 0.0f;   ///< L2, added to the gradient as for SGD
};

/// Adadelta (Zeiler 2012; the form Keras and PyTorch use): steps in units of the
/// parameters, from running means of squared gradients and squared steps:
///   v <- rho v + (1 - rho) g^2,   d = sqrt(u + eps) / sqrt(v + eps) g,
///   u <- rho u + (1 - rho) d^2,   theta <- theta - lr d.
class Adadelta : public RangeUpdate<Adadelta>, public detail::Tuned<AdadeltaOptions>,
                 public detail::VisitsState<Adadelta> {
public:
    using range_update = Adadelta;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "Adadelta";
    explicit Adadelta(AdadeltaOptions options = {}) : Tuned("Adadelta", options) {
        if (!(o_.rho >= 0 && o_.rho < 1))
            throw std::invalid_argument("scratchnet::Adadelta: rho must lie in [0, 1), got " + std::to_string(o_.rho));
        if (!(o_.epsilon > 0) || !std::isfinite(o_.epsilon))  // the first step is sqrt(eps / (v + eps)) g
            throw std::invalid_argument("scratchnet::Adadelta: epsilon must be finite and > 0");
    }
    explicit Adadelta(float learning_rate) : Adadelta(AdadeltaOptions{.learning_rate = learning_rate}) {}

    template <class Net>
    void begin_step(Net& net) {
        using T = typename Net::Scalar;
        owner_.bind(net, "Adadelta");
        v_.get<T>(Net::parameter_count);
        u_.get<T>(Net::parameter_count);
    }
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        const Index n = end - begin;
        auto theta = net.parameters().segment(begin, n);
        const auto g = net.gradients().segment(begin, n);
        auto v = v_.get<T>(Net::parameter_count).segment(begin, n);  // sized by begin_step: get() only reads
        auto u = u_.get<T>(Net::parameter_count).segment(begin, n);
        const T lr(o_.learning_rate), rho(o_.rho), eps(o_.epsilon), lambda(o_.weight_decay);
        for (Index k = 0; k < n; ++k) {
            const T gk = g[k] + lambda * theta[k];
            v[k] = rho * v[k] + (T(1) - rho) * gk * gk;
            const T d = std::sqrt(u[k] + eps) / std::sqrt(v[k] + eps) * gk;
            u[k] = rho * u[k] + (T(1) - rho) * d * d;
            theta[k] -= lr * d;
        }
    }
    /// Forgets both running means; the next step may be on any network.
    void reset() {
        v_ = {};
        u_ = {};
        owner_.reset();
    }

    /// Both running means (CheckpointableOptimizer).
    template <class Self, class Visit>
    static void visit_state(Self& self, Visit& visit) {
        detail::ScalarState::visit(self.v_, "v", visit);
        detail::ScalarState::visit(self.u_, "u", visit);
    }

private:
    detail::ScalarState v_, u_;
    detail::StateOwner owner_;
};

}  // namespace scratchnet
