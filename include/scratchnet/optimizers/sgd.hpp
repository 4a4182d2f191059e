#pragma once
// Plain stochastic gradient descent.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

/// theta <- theta - lr (g + lambda theta).
class SGD : public RangeUpdate<SGD> {
public:
    using range_update = SGD;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "SGD";
    explicit SGD(float learning_rate, float weight_decay = 0.0f) : lr_(learning_rate), decay_(weight_decay) {
        detail::check_rate("SGD", lr_, "learning rate");
        detail::check_rate("SGD", decay_, "weight decay");
    }
    template <class Net>
    void begin_step(Net&) {}
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        auto theta = net.parameters().segment(begin, end - begin);
        const auto g = net.gradients().segment(begin, end - begin);
        if (decay_ != 0.0f)
            theta -= T(lr_) * (g + T(decay_) * theta);
        else
            theta -= T(lr_) * g;
    }
    /// None: each step reads only the rate (CheckpointableOptimizer).
    template <class Visit>
    void for_each_state(Visit&&) const {}
    float learning_rate() const { return lr_; }
    void set_learning_rate(float lr) { detail::check_rate("SGD", lr, "learning rate"); lr_ = lr; }

private:
    float lr_;
    float decay_;
};

}  // namespace scratchnet
