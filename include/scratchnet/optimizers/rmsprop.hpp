#pragma once
// RMSprop, optionally with momentum.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

struct RMSpropOptions {
    float learning_rate = 1e-3f;  ///< Keras' defaults
    float rho = 0.9f;
    float epsilon = 1e-7f;
    float momentum = 0.0f;
    float weight_decay = 0.0f;    ///< L2, added to the gradient as for SGD
};

/// RMSprop (Hinton's lecture 6e; the form Keras and TensorFlow use, epsilon
/// inside the root):
///   v <- rho v + (1 - rho) g^2,
///   without momentum:  theta <- theta - lr g / sqrt(v + eps),
///   with momentum mu:  m <- mu m + lr g / sqrt(v + eps),  theta <- theta - m.
class RMSprop : public RangeUpdate<RMSprop>, public detail::Tuned<RMSpropOptions>,
                public detail::VisitsState<RMSprop> {
public:
    using range_update = RMSprop;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "RMSprop";
    explicit RMSprop(RMSpropOptions options = {}) : Tuned("RMSprop", options) {
        if (!(o_.rho >= 0 && o_.rho < 1))
            throw std::invalid_argument("scratchnet::RMSprop: rho must lie in [0, 1), got " + std::to_string(o_.rho));
        if (!(o_.momentum >= 0 && o_.momentum < 1))
            throw std::invalid_argument("scratchnet::RMSprop: momentum must lie in [0, 1), got " +
                                        std::to_string(o_.momentum));
        if (!(o_.epsilon > 0) || !std::isfinite(o_.epsilon))  // g / sqrt(v) is 0 / 0 where g stays 0
            throw std::invalid_argument("scratchnet::RMSprop: epsilon must be finite and > 0");
    }
    explicit RMSprop(float learning_rate) : RMSprop(RMSpropOptions{.learning_rate = learning_rate}) {}

    template <class Net>
    void begin_step(Net& net) {
        using T = typename Net::Scalar;
        owner_.bind(net, "RMSprop");
        v_.get<T>(Net::parameter_count);
        if (o_.momentum > 0) m_.get<T>(Net::parameter_count);
    }
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        const Index n = end - begin;
        auto theta = net.parameters().segment(begin, n);
        const auto g = net.gradients().segment(begin, n);
        auto v = v_.get<T>(Net::parameter_count).segment(begin, n);  // sized by begin_step: get() only reads
        const T lr(o_.learning_rate), rho(o_.rho), eps(o_.epsilon), lambda(o_.weight_decay);
        // g + lambda theta costs one multiply-add beside a square root and a division.
        v = rho * v + (T(1) - rho) * (g + lambda * theta).cwiseAbs2();
        if (o_.momentum > 0) {
            auto m = m_.get<T>(Net::parameter_count).segment(begin, n);
            m.array() = T(o_.momentum) * m.array() + lr * (g + lambda * theta).array() / (v.array() + eps).sqrt();
            theta -= m;
        } else {
            theta.array() -= lr * (g + lambda * theta).array() / (v.array() + eps).sqrt();
        }
    }
    /// Forgets the mean squares and the velocity; the next step may be on any network.
    void reset() {
        v_ = {};
        m_ = {};
        owner_.reset();
    }

    /// The mean squares and the velocity (CheckpointableOptimizer).
    template <class Self, class Visit>
    static void visit_state(Self& self, Visit& visit) {
        detail::ScalarState::visit(self.v_, "v", visit);
        detail::ScalarState::visit(self.m_, "m", visit);
    }

private:
    detail::ScalarState v_, m_;
    detail::StateOwner owner_;
};

}  // namespace scratchnet
