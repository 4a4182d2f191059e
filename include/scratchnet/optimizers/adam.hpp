#pragma once
// Adam (Kingma and Ba, 2015), with L2 weight decay in the gradient.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

struct AdamOptions {
    float learning_rate = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
    float weight_decay = 0.0f;
};

/// m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g^2,
/// theta <- theta - lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
class Adam : public RangeUpdate<Adam>, public detail::Tuned<AdamOptions>, public detail::VisitsState<Adam> {
public:
    using range_update = Adam;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "Adam";
    explicit Adam(AdamOptions options = {}) : Tuned("Adam", options) {
        if (!(o_.beta1 >= 0 && o_.beta1 < 1 && o_.beta2 >= 0 && o_.beta2 < 1))
            throw std::invalid_argument("scratchnet::Adam: beta1 and beta2 must lie in [0, 1)");
        // epsilon keeps m / sqrt(v) finite where a gradient is exactly zero (dead
        // units, MNIST's blank border pixels): 0 / 0 would be NaN.
        if (!(o_.epsilon > 0) || !std::isfinite(o_.epsilon))
            throw std::invalid_argument("scratchnet::Adam: epsilon must be finite and > 0");
    }
    explicit Adam(float learning_rate) : Adam(AdamOptions{.learning_rate = learning_rate}) {}

    template <class Net>
    void begin_step(Net& net) {
        using T = typename Net::Scalar;
        owner_.bind(net, "Adam");
        if (Net::parameter_count != size_) {  // the first step (or one after reset())
            size_ = Net::parameter_count;
            t_ = 0;
        }
        m_.get<T>(size_);
        v_.get<T>(size_);
        ++t_;
        // Once per step, not per update() range: fit() may update in ~1000 ranges.
        // Kept as double, which holds any T value exactly.
        const T b1(o_.beta1), b2(o_.beta2);
        const T c1 = T(1) - std::pow(b1, T(t_));
        const T c2 = T(1) - std::pow(b2, T(t_));
        step_rate_ = T(o_.learning_rate) * std::sqrt(c2) / c1;  // bias corrections folded into the rate
        step_epsilon_ = T(o_.epsilon) * std::sqrt(c2);
    }
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        const Index n = end - begin;
        auto theta = net.parameters().segment(begin, n);
        const auto g = net.gradients().segment(begin, n);
        auto m = m_.get<T>(size_).segment(begin, n);  // sized by begin_step: get() only reads
        auto v = v_.get<T>(size_).segment(begin, n);
        const T b1(o_.beta1), b2(o_.beta2), lambda(o_.weight_decay);
        const auto lr = static_cast<T>(step_rate_), eps = static_cast<T>(step_epsilon_);
        m = b1 * m + (T(1) - b1) * (g + lambda * theta);
        v = b2 * v + (T(1) - b2) * (g + lambda * theta).cwiseAbs2();
        theta.array() -= lr * m.array() / (v.array().sqrt() + eps);
    }
    /// Forgets the moments and the step count; the next step may be on any network.
    void reset() {
        m_ = {};
        v_ = {};
        size_ = -1;
        t_ = 0;
        owner_.reset();
    }

    /// The moments and the step count (CheckpointableOptimizer).
    template <class Self, class Visit>
    static void visit_state(Self& self, Visit& visit) {
        detail::ScalarState::visit(self.m_, "m", visit);
        detail::ScalarState::visit(self.v_, "v", visit);
        visit("size", self.size_);
        visit("steps", self.t_);
    }

private:
    detail::ScalarState m_, v_;
    detail::StateOwner owner_;
    Index size_ = -1;
    double step_rate_ = 0, step_epsilon_ = 0;  // this step's rate and epsilon (begin_step)
    long t_ = 0;
};

}  // namespace scratchnet
