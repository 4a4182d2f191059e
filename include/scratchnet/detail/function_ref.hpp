#pragma once
// FunctionRef<R(A...)>: a non-owning reference to a callable, two pointers wide.
// The scheduler takes its callbacks (gathering a batch, an optimizer's update)
// through it rather than as template parameters, so its code is compiled once
// per network, not once per network, optimizer and data type. The callable must
// outlive the reference: pass it straight to the call that uses it.

#include <type_traits>
#include <utility>

namespace scratchnet::detail {

template <class Signature>
class FunctionRef;

template <class R, class... A>
class FunctionRef<R(A...)> {
public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && std::is_invocable_r_v<R, F&, A...>)
    FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): a lambda converts in place
        : object_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* object, A... args) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<A>(args)...);
          }) {}

    R operator()(A... args) const { return call_(object_, std::forward<A>(args)...); }

private:
    void* object_;
    R (*call_)(void*, A...);
};

}  // namespace scratchnet::detail
