#pragma once
// Gradient descent with momentum, classical or Nesterov's.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

struct MomentumOptions {
    float learning_rate = 0.01f;
    float momentum = 0.9f;
    bool nesterov = false;
    float weight_decay = 0.0f;
};

/// Classical:  v <- mu v + g,  theta <- theta - lr v.
/// Nesterov:   v <- mu v + g,  theta <- theta - lr (g + mu v)  (the look-ahead
/// form used by PyTorch and Keras, with g including weight decay).
class Momentum : public RangeUpdate<Momentum>, public detail::Tuned<MomentumOptions>,
                 public detail::VisitsState<Momentum> {
public:
    using range_update = Momentum;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "Momentum";
    explicit Momentum(MomentumOptions options) : Tuned("Momentum", options) {
        if (!(o_.momentum >= 0 && o_.momentum < 1))  // at 1 and above the velocity never decays: it diverges
            throw std::invalid_argument("scratchnet::Momentum: momentum must lie in [0, 1), got " +
                                        std::to_string(o_.momentum));
    }
    explicit Momentum(float learning_rate, float momentum = 0.9f, bool nesterov = false)
        : Momentum(MomentumOptions{learning_rate, momentum, nesterov, 0.0f}) {}

    template <class Net>
    void begin_step(Net& net) {
        owner_.bind(net, "Momentum");
        state_.get<typename Net::Scalar>(Net::parameter_count);
    }
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        const Index n = end - begin;
        auto theta = net.parameters().segment(begin, n);
        const auto g = net.gradients().segment(begin, n);
        auto v = state_.get<T>(Net::parameter_count).segment(begin, n);  // sized by begin_step: get() only reads
        const T lr(o_.learning_rate), mu(o_.momentum), lambda(o_.weight_decay);
        v = mu * v + g + lambda * theta;
        if (o_.nesterov)
            theta -= lr * (g + lambda * theta + mu * v);
        else
            theta -= lr * v;
    }
    /// Forgets the velocity; the next step may be on any network.
    void reset() {
        state_ = {};
        owner_.reset();
    }

    /// The velocity (CheckpointableOptimizer).
    template <class Self, class Visit>
    static void visit_state(Self& self, Visit& visit) {
        detail::ScalarState::visit(self.state_, "velocity", visit);
    }

private:
    detail::ScalarState state_;
    detail::StateOwner owner_;
};

}  // namespace scratchnet
