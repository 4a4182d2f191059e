#pragma once
// Optimizers act on a network's flat buffers: one vector of parameters theta, one of
// gradients g. Each is a small type; state (velocity, moments) is sized on the
// first step and reused after, so steps allocate nothing.
//
// Weight decay is L2 regularisation added to the gradient, g <- g + lambda theta,
// except in AdamW, which decays the weights apart from the gradient.
// (It decays biases too; for these small networks that is harmless and keeps the
// update one vector expression.)

#include "scratchnet/core.hpp"

#include <cmath>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace scratchnet {

namespace detail {
/// State vectors for whichever scalar type the network uses.
struct ScalarState {
    Vector<float> f;
    Vector<double> d;
    template <class T>
    Vector<T>& get(Index size) {
        Vector<T>* v = nullptr;
        if constexpr (std::is_same_v<T, float>) v = &f; else v = &d;
        if (v->size() != size) *v = Vector<T>::Zero(size);
        return *v;
    }
};

/// Which network an optimizer's state belongs to. The first step binds it; a step
/// on another network (another id(), also a copy of the first) throws rather than
/// apply the first network's velocity or moments to it. reset() unbinds.
class StateOwner {
public:
    template <class Net>
    void bind(const Net& net, const char* who) {
        if constexpr (requires { net.id(); }) {
            if (id_ != 0 && id_ != net.id())
                throw std::logic_error(std::string("scratchnet::") + who +
                                       ": this optimizer holds the state of another network; use one optimizer per "
                                       "network, or call reset() to start afresh");
            id_ = net.id();
        }
    }
    void reset() { id_ = 0; }

private:
    std::uint64_t id_ = 0;
};

inline void check_rate(const char* who, double value, const char* what) {
    if (!std::isfinite(value) || value < 0)
        throw std::invalid_argument(std::string("scratchnet::") + who + ": " + what + " must be finite and >= 0, got " +
                                    std::to_string(value));
}
}  // namespace detail

/// Optimizer: updates net.parameters() from net.gradients() in step(net).
///   requires: backward() (or fit's batch gradient) has filled net.gradients().
///   ensures:  the parameters moved; state, if any, sized on the first step.
template <class O, class Net>
concept Optimizer = requires(O& optimizer, Net& net) { optimizer.step(net); };

/// An optimizer whose update of a parameter reads only that parameter, its
/// gradient and its own state can also offer the step in two parts:
///   begin_step(net)         once per step: sizes state, counts steps;
///   update(net, begin, end) parameters [begin, end), for ranges that together
///                           cover the network once, in any order, on any thread.
/// step(net) must equal begin_step(net) followed by update(net, 0, n). fit() uses
/// the parts to spread the update over its threads, in the same pass that sums the
/// chunk gradients. All of scratchnet's optimizers offer them.
///
/// A class opts in by naming itself: `using range_update = ItsOwnName;`. A class
/// derived from one of these (say, to clip gradients in its own step()) inherits
/// the other class's name, so fit() keeps calling its step().
template <class O, class Net>
concept RangeOptimizer = Optimizer<O, Net> && requires(O& optimizer, Net& net, Index begin, Index end) {
    requires std::same_as<typename O::range_update, O>;
    optimizer.begin_step(net);
    optimizer.update(net, begin, end);
};

/// theta <- theta - lr (g + lambda theta).
class SGD {
public:
    using range_update = SGD;  // see RangeOptimizer
    explicit SGD(float learning_rate, float weight_decay = 0.0f) : lr_(learning_rate), decay_(weight_decay) {
        detail::check_rate("SGD", lr_, "learning rate");
        detail::check_rate("SGD", decay_, "weight decay");
    }
    template <class Net>
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
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
    float learning_rate() const { return lr_; }
    void set_learning_rate(float lr) { detail::check_rate("SGD", lr, "learning rate"); lr_ = lr; }

private:
    float lr_;
    float decay_;
};

struct MomentumOptions {
    float learning_rate = 0.01f;
    float momentum = 0.9f;
    bool nesterov = false;
    float weight_decay = 0.0f;
};

/// Classical:  v <- mu v + g,  theta <- theta - lr v.
/// Nesterov:   v <- mu v + g,  theta <- theta - lr (g + mu v)  (the look-ahead
/// form used by PyTorch and Keras, with g including weight decay).
class Momentum {
public:
    using range_update = Momentum;  // see RangeOptimizer
    explicit Momentum(MomentumOptions options) : o_(options) {
        detail::check_rate("Momentum", o_.learning_rate, "learning rate");
        detail::check_rate("Momentum", o_.weight_decay, "weight decay");
        if (!(o_.momentum >= 0 && o_.momentum < 1))  // at 1 and above the velocity never decays: it diverges
            throw std::invalid_argument("scratchnet::Momentum: momentum must lie in [0, 1), got " +
                                        std::to_string(o_.momentum));
    }
    explicit Momentum(float learning_rate, float momentum = 0.9f, bool nesterov = false)
        : Momentum(MomentumOptions{learning_rate, momentum, nesterov, 0.0f}) {}

    template <class Net>
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
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
    const MomentumOptions& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) { detail::check_rate("Momentum", lr, "learning rate"); o_.learning_rate = lr; }

private:
    MomentumOptions o_;
    detail::ScalarState state_;
    detail::StateOwner owner_;
};

struct AdamOptions {
    float learning_rate = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
    float weight_decay = 0.0f;
};

/// m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g^2,
/// theta <- theta - lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
class Adam {
public:
    using range_update = Adam;  // see RangeOptimizer
    explicit Adam(AdamOptions options = {}) : o_(options) {
        detail::check_rate("Adam", o_.learning_rate, "learning rate");
        detail::check_rate("Adam", o_.weight_decay, "weight decay");
        if (!(o_.beta1 >= 0 && o_.beta1 < 1 && o_.beta2 >= 0 && o_.beta2 < 1))
            throw std::invalid_argument("scratchnet::Adam: beta1 and beta2 must lie in [0, 1)");
        // epsilon keeps m / sqrt(v) finite where a gradient is exactly zero (dead
        // units, MNIST's blank border pixels): 0 / 0 would be NaN.
        if (!(o_.epsilon > 0) || !std::isfinite(o_.epsilon))
            throw std::invalid_argument("scratchnet::Adam: epsilon must be finite and > 0");
    }
    explicit Adam(float learning_rate) : Adam(AdamOptions{.learning_rate = learning_rate}) {}

    template <class Net>
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
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
    const AdamOptions& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) { detail::check_rate("Adam", lr, "learning rate"); o_.learning_rate = lr; }

private:
    AdamOptions o_;
    detail::ScalarState m_, v_;
    detail::StateOwner owner_;
    Index size_ = -1;
    double step_rate_ = 0, step_epsilon_ = 0;  // this step's rate and epsilon (begin_step)
    long t_ = 0;
};

struct RMSpropOptions {
    float learning_rate = 1e-3f;  ///< Keras' defaults
    float rho = 0.9f;
    float epsilon = 1e-7f;
    float momentum = 0.0f;
    float weight_decay = 0.0f;    ///< L2, added to the gradient as for SGD
};

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
class Adadelta {
public:
    using range_update = Adadelta;  // see RangeOptimizer
    explicit Adadelta(AdadeltaOptions options = {}) : o_(options) {
        detail::check_rate("Adadelta", o_.learning_rate, "learning rate");
        detail::check_rate("Adadelta", o_.weight_decay, "weight decay");
        if (!(o_.rho >= 0 && o_.rho < 1))
            throw std::invalid_argument("scratchnet::Adadelta: rho must lie in [0, 1), got " + std::to_string(o_.rho));
        if (!(o_.epsilon > 0) || !std::isfinite(o_.epsilon))  // the first step is sqrt(eps / (v + eps)) g
            throw std::invalid_argument("scratchnet::Adadelta: epsilon must be finite and > 0");
    }
    explicit Adadelta(float learning_rate) : Adadelta(AdadeltaOptions{.learning_rate = learning_rate}) {}

    template <class Net>
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
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
    const AdadeltaOptions& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) {
        detail::check_rate("Adadelta", lr, "learning rate");
        o_.learning_rate = lr;
    }

private:
    AdadeltaOptions o_;
    detail::ScalarState v_, u_;
    detail::StateOwner owner_;
};

/// RMSprop (Hinton's lecture 6e; the form Keras and TensorFlow use, epsilon
/// inside the root):
///   v <- rho v + (1 - rho) g^2,
///   without momentum:  theta <- theta - lr g / sqrt(v + eps),
///   with momentum mu:  m <- mu m + lr g / sqrt(v + eps),  theta <- theta - m.
class RMSprop {
public:
    using range_update = RMSprop;  // see RangeOptimizer
    explicit RMSprop(RMSpropOptions options = {}) : o_(options) {
        detail::check_rate("RMSprop", o_.learning_rate, "learning rate");
        detail::check_rate("RMSprop", o_.weight_decay, "weight decay");
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
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
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
    const RMSpropOptions& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) { detail::check_rate("RMSprop", lr, "learning rate"); o_.learning_rate = lr; }

private:
    RMSpropOptions o_;
    detail::ScalarState v_, m_;
    detail::StateOwner owner_;
};

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
class AdamW {
public:
    using range_update = AdamW;  // see RangeOptimizer
    explicit AdamW(AdamWOptions options = {})
        : o_(options), adam_(AdamOptions{options.learning_rate, options.beta1, options.beta2, options.epsilon, 0.0f}) {
        detail::check_rate("AdamW", o_.weight_decay, "weight decay");
    }
    explicit AdamW(float learning_rate, float weight_decay = 1e-2f)
        : AdamW(AdamWOptions{.learning_rate = learning_rate, .weight_decay = weight_decay}) {}

    template <class Net>
    void step(Net& net) {
        begin_step(net);
        update(net, 0, Net::parameter_count);
    }
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

private:
    AdamWOptions o_;
    Adam adam_;
};

}  // namespace scratchnet
