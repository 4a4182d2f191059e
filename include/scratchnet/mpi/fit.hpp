#pragma once
// mpi::fit: scratchnet::fit on every process of a session, with the same bits.

#include "scratchnet/core.hpp"
#include "scratchnet/mpi/agreement.hpp"
#include "scratchnet/mpi/distributed_gradient.hpp"
#include "scratchnet/mpi/session.hpp"
#include "scratchnet/training/fit.hpp"
#include "scratchnet/training/trainer.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet::mpi {

namespace detail {

template <class Net, class Opt, class Inputs, class Targets, class Validation>
History fit(const Session& session, Net& net, Opt& optimizer, const Inputs& X, const Targets& Y,
            const Validation& validation, const FitOptions& options, const FitCallbacks& callbacks) {
    static_assert(Optimizer<Opt, Net>, "scratchnet::mpi::fit: the optimizer needs a step(net) member");
    check_agreement<Net>(session, optimizer, X, Y, validation, options, callbacks);
    broadcast(session, net);
    GuardedCallbacks guarded(callbacks);
    FitOptions o = options;
    if (options.schedule) o.schedule = agreed_schedule(session, options.schedule);
    History h = scratchnet::detail::Trainer<Net, Opt, Inputs, Targets, Validation, DistributedGradient<Net>>(
                    net, optimizer, X, Y, validation, o, guarded.callbacks(), session)
                    .run();
    agree_on_callbacks(session, guarded.failure());
    agree_on_parameters(session, net);
    return h;
}

}  // namespace detail

/// scratchnet::fit on every process of the session: the same arguments and
/// History, and parameters bit-identical to fit in one process with the same
/// options, for any number of processes (see the top of this file). Every
/// process passes the same data; rank 0's initial parameters are broadcast first.
template <class Net, class Opt, class Inputs, class Targets>
History fit(const Session& session, Net& net, Opt& optimizer, const Inputs& X, const Targets& Y,
            const FitOptions& options = {}, const FitCallbacks& callbacks = {}) {
    const scratchnet::detail::NoValidation none;
    return detail::fit(session, net, optimizer, X, Y, none, options, callbacks);
}

/// As above, evaluating on `validation` after every epoch (on every process).
template <class Net, class Opt, class Inputs, class Targets, class VInputs, class VTargets>
History fit(const Session& session, Net& net, Opt& optimizer, const Inputs& X, const Targets& Y,
            const ValidationData<VInputs, VTargets>& validation, const FitOptions& options = {},
            const FitCallbacks& callbacks = {}) {
    return detail::fit(session, net, optimizer, X, Y, validation, options, callbacks);
}

}  // namespace scratchnet::mpi
