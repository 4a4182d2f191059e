#pragma once
// The optimizer contract, and what every library optimizer shares: the range
// update skeleton (RangeUpdate), per-scalar state, the check that state belongs to
// one network, the check of a rate. One file per optimizer beside this one.
//
// Optimizers act on a network's flat buffers: one vector of parameters theta, one of
// gradients g. State (velocity, moments) is sized on the first step and reused
// after, so steps allocate nothing.
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
#include <string_view>
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
    /// Both vectors to a checkpoint's visitor (the one a network does not use is empty).
    template <class Self, class Visit>
    static void visit(Self& self, const char* name, Visit& visit) {
        visit(name, self.f);
        visit((std::string(name) + "_double").c_str(), self.d);
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

/// Writes an optimizer's for_each_state once for both constnesses: Derived has a
/// static visit_state(self, visit) that names its fields.
template <class Derived>
class VisitsState {
public:
    template <class Visit>
    void for_each_state(Visit&& visit) {
        Derived::visit_state(static_cast<Derived&>(*this), visit);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const {
        Derived::visit_state(static_cast<const Derived&>(*this), visit);
    }
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

/// Checkpointable optimizer (save_checkpoint, load_checkpoint in checkpoint.hpp):
/// an optimizer says which state its steps carry from one to the next.
///   O::checkpoint_name          the update rule's name (a static string, or a
///   or o.checkpoint_name()      const member function for an optimizer chosen at
///                               run time); a checkpoint loads only into an
///                               optimizer of the same name
///   o.for_each_state(visit)     on a const and on a mutable optimizer: calls
///                               visit(name, field) once per piece of state, in an
///                               order that never varies; a field is a Vector<float>,
///                               a Vector<double> or an arithmetic value (a count)
///   requires: nothing else of the optimizer changes from step to step, apart from
///             the learning rate, which checkpoints keep through learning_rate()
///             and set_learning_rate() where the optimizer has them.
///   ensures:  an optimizer built with the same options whose fields are given the
///             visited values (vectors resized to them) takes the very steps the
///             visited one would have. A stateless optimizer visits nothing.
/// Options fixed at construction (momentum, betas) are the caller's: a checkpoint
/// holds what changes while training, as PyTorch's state_dict holds the moments.
template <class O>
concept CheckpointableOptimizer =
    requires(O& o, const O& c) {
        o.for_each_state([](const char*, auto&) {});
        c.for_each_state([](const char*, const auto&) {});
    } && (requires { { O::checkpoint_name } -> std::convertible_to<std::string_view>; } ||
          requires(const O& c) { { c.checkpoint_name() } -> std::convertible_to<std::string_view>; });

namespace detail {
/// An optimizer whose rate fit() can schedule and checkpoints keep.
template <class Opt>
concept HasLearningRate = requires(Opt& o, float lr) {
    { o.learning_rate() } -> std::convertible_to<double>;
    o.set_learning_rate(lr);
};

template <class O>
std::string_view checkpoint_name_of(const O& optimizer) {
    if constexpr (requires { optimizer.checkpoint_name(); }) return optimizer.checkpoint_name();
    else return O::checkpoint_name;
}
}  // namespace detail

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
namespace detail {
/// What the optimizers with an options struct share, written once: the options,
/// the learning rate as fit's schedules read and set it, and the checks of the
/// rate and the weight decay (`who` names the optimizer in the messages).
template <class Options>
class Tuned {
public:
    const Options& options() const { return o_; }
    float learning_rate() const { return o_.learning_rate; }
    void set_learning_rate(float lr) {
        check_rate(who_, lr, "learning rate");
        o_.learning_rate = lr;
    }

protected:
    Tuned(const char* who, const Options& options) : o_(options), who_(who) {
        check_rate(who, o_.learning_rate, "learning rate");
        check_rate(who, o_.weight_decay, "weight decay");
    }
    Options o_;

private:
    const char* who_;
};
}  // namespace detail

/// The update skeleton, written once: step(net) is begin_step(net) followed by
/// update(net, 0, parameter_count). An optimizer that offers the two parts
/// derives from RangeUpdate<ItsOwnName> (and names itself in range_update) and
/// writes only begin_step and update; a user's optimizer may do the same.
template <class Derived>
class RangeUpdate {
public:
    template <class Net>
    void step(Net& net) {
        auto& self = static_cast<Derived&>(*this);
        self.begin_step(net);
        self.update(net, 0, Net::parameter_count);
    }
};

}  // namespace scratchnet
