#pragma once
// AdamW: Adam with decoupled weight decay.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/adam.hpp"
#include "scratchnet/optimizers/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scratchnet {

struct AdamWOptions {
    float learning_rate = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
    float weight_decay = 1e-2f;  ///< decoupled (PyTorch's default)
};

/// Adam with decoupled weight decay (Loshchilov and Hutter, 2019): the decay is
/// not part of the gradient the moments see, but shrinks the weights directly,
///   theta <- theta (1 - lr lambda),  then the Adam step with g alone.
/// With Adam's L2 (AdamOptions::weight_decay) a weight with large gradients is
/// hardly decayed; here every weight decays at the same rate.
class AdamW : public RangeUpdate<AdamW>, public detail::VisitsState<AdamW> {
public:
    using range_update = AdamW;  // see RangeOptimizer
    static constexpr std::string_view checkpoint_name = "AdamW";
    explicit AdamW(AdamWOptions options = {})
        : o_(options), adam_(AdamOptions{options.learning_rate, options.beta1, options.beta2, options.epsilon, 0.0f}) {
        detail::check_rate("AdamW", o_.weight_decay, "weight decay");
    }
    explicit AdamW(float learning_rate, float weight_decay = 1e-2f)
        : AdamW(AdamWOptions{.learning_rate = learning_rate, .weight_decay = weight_decay}) {}

    template <class Net>
    void begin_step(Net& net) {
        adam_.begin_step(net);
    }
    template <class Net>
    void update(Net& net, Index begin, Index end) {
        using T = typename Net::Scalar;
        if (o_.weight_decay != 0.0f)
            net.parameters().segment(begin, end - begin) *= T(1) - T(o_.learning_rate) * T(o_.weight_decay);
        adam_.update(net, begin, end);
    }
    /// Forgets the moments and the step count; the next step may be on any network.
    void reset() { adam_.reset(); }
    const AdamWOptions& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) {
        adam_.set_learning_rate(lr);  // checks it
        o_.learning_rate = lr;
    }

    /// Adam's moments and step count (CheckpointableOptimizer).
    template <class Self, class Visit>
    static void visit_state(Self& self, Visit& visit) {
        self.adam_.for_each_state(visit);
    }

private:
    AdamWOptions o_;
    Adam adam_;
};

}  // namespace scratchnet
