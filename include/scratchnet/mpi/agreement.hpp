#pragma once
// What the processes of mpi::fit must agree on, checked: the same data, options,
// network and callbacks before training (by fingerprints), the same schedule
// factors and callback outcomes while it runs, the same parameters after.

#include "scratchnet/core.hpp"
#include "scratchnet/mpi/session.hpp"
#include "scratchnet/training/history.hpp"
#include "scratchnet/training/options.hpp"
#include "scratchnet/training/trainer.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet::mpi::detail {

/// 64-bit FNV-1a, folded through mix64: a cheap fingerprint of a process's
/// data, options and network, to tell processes that disagree.
class Fingerprint {
public:
    void add(const void* data, std::size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < bytes; ++i) h_ = (h_ ^ p[i]) * 0x100000001B3ULL;
    }
    template <class V>
    void add_value(const V& v) {
        static_assert(std::is_trivially_copyable_v<V>);
        add(&v, sizeof v);
    }
    template <class D>
    void add_matrix(const Eigen::DenseBase<D>& m) {
        add_value(m.rows());
        add_value(m.cols());
        using S = typename D::Scalar;
        for (Index j = 0; j < m.cols(); ++j)
            for (Index i = 0; i < m.rows(); ++i) {
                const S v = m(i, j);
                add_value(v);
            }
    }
    std::uint64_t value() const { return scratchnet::detail::mix64(h_); }

private:
    std::uint64_t h_ = 0xCBF29CE484222325ULL;
};

/// The ranks whose value differs from rank 0's, as "1, 3".
inline std::string ranks_differing(const std::vector<std::uint64_t>& values) {
    std::string out;
    for (std::size_t r = 1; r < values.size(); ++r)
        if (values[r] != values[0]) out += (out.empty() ? "" : ", ") + std::to_string(r);
    return out;
}

/// Adds every field of FitOptions (through its field list, so a new option is
/// never left out) but `threads`, which changes no result and may differ between
/// processes. A schedule is a function: only whether it is set counts here, and
/// its factors are compared each epoch (agreed_schedule). A History to resume
/// from counts by the epochs it holds.
inline void add_options(Fingerprint& f, const FitOptions& o) {
    auto add = [&f](const char* name, const auto& value) {
        using V = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<V, std::function<double(int)>>) {
            f.add_value(static_cast<bool>(value));
        } else if constexpr (std::is_same_v<V, std::optional<std::uint64_t>>) {
            f.add_value(value.has_value());
            f.add_value(value.value_or(0));
        } else if constexpr (std::is_same_v<V, const History*>) {  // resume: the epochs it holds
            f.add_value(value != nullptr);
            f.add_value(value != nullptr ? static_cast<std::uint64_t>(value->size()) : std::uint64_t{0});
        } else if constexpr (requires { value.for_each_field([](const char*, const auto&) {}); }) {
            value.for_each_field([&f](const char*, const auto& v) { f.add_value(v); });  // EarlyStopping, ReduceOnPlateau
        } else {
            static_assert(std::is_arithmetic_v<V> || std::is_enum_v<V>,
                          "scratchnet::mpi: a FitOptions field of a new kind: say here how processes compare it");
            if (std::string_view(name) != "threads") f.add_value(value);
        }
    };
    o.for_each_field(add);
}

/// Refuses to train when the processes' data, options, networks, callbacks or
/// learning rates differ (a schedule and a callback only in whether they are
/// set: they are functions, and the schedule's factors are compared each epoch;
/// the thread count changes nothing and may differ).
template <class Net, class Opt, class Inputs, class Targets, class Validation>
void check_agreement(const Session& session, const Opt& optimizer, const Inputs& X, const Targets& Y,
                     const Validation& validation, const FitOptions& o, const FitCallbacks& callbacks) {
    Fingerprint data, setup;
    data.add_matrix(X.derived());
    data.add_matrix(Y.derived());
    if constexpr (!std::is_same_v<Validation, scratchnet::detail::NoValidation>) {
        data.add_matrix(validation.inputs.derived());
        data.add_matrix(validation.targets.derived());
    }
    const std::string architecture = Net::architecture();
    setup.add(architecture.data(), architecture.size());
    add_options(setup, o);
    if constexpr (requires { optimizer.learning_rate(); }) setup.add_value(static_cast<double>(optimizer.learning_rate()));
    // A callback's answer is agreed on after every batch or epoch where it is set:
    // set on some processes only, the processes would wait for each other forever.
    setup.add_value(static_cast<bool>(callbacks.on_batch));
    setup.add_value(static_cast<bool>(callbacks.on_epoch));
    const std::uint64_t mine[2] = {data.value(), setup.value()};
    std::vector<std::uint64_t> all(2 * static_cast<std::size_t>(session.size()));
    check(MPI_Allgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, session.communicator()),
          "MPI_Allgather of the fingerprints");
    std::vector<std::uint64_t> d, s;
    for (int r = 0; r < session.size(); ++r) {
        d.push_back(all[2 * static_cast<std::size_t>(r)]);
        s.push_back(all[2 * static_cast<std::size_t>(r) + 1]);
    }
    if (const std::string bad = ranks_differing(d); !bad.empty())
        throw Error("scratchnet::mpi::fit: the training data of rank(s) " + bad +
                    " differ from rank 0's (sizes or values): every process must pass the same data set");
    if (const std::string bad = ranks_differing(s); !bad.empty())
        throw Error("scratchnet::mpi::fit: the network, FitOptions, callbacks or learning rate of rank(s) " + bad +
                    " differ from rank 0's: every process must train alike (set the same callbacks everywhere)");
}

/// The caller's callbacks, with an exception in one turned into "stop" on this
/// process (every process then stops) and kept to be rethrown after training.
class GuardedCallbacks {
public:
    explicit GuardedCallbacks(const FitCallbacks& user) : user_(user) {
        if (user_.on_batch)
            guarded_.on_batch = [this](const BatchProgress& p) { return call(user_.on_batch, p); };
        if (user_.on_epoch)
            guarded_.on_epoch = [this](const EpochRecord& r) { return call(user_.on_epoch, r); };
    }
    GuardedCallbacks(const GuardedCallbacks&) = delete;
    GuardedCallbacks& operator=(const GuardedCallbacks&) = delete;

    const FitCallbacks& callbacks() const { return guarded_; }
    const std::string& failure() const { return failure_; }

private:
    template <class F, class A>
    bool call(const F& f, const A& a) {
        if (!failure_.empty()) return false;
        try {
            return f(a);
        } catch (const std::exception& e) {
            failure_ = std::string("a callback threw: ") + e.what();
        } catch (...) {
            failure_ = "a callback threw";
        }
        return false;
    }

    const FitCallbacks& user_;
    FitCallbacks guarded_;
    std::string failure_;
};

/// After training: if a callback failed on some process, every process throws.
inline void agree_on_callbacks(const Session& session, const std::string& failure) {
    const int mine = failure.empty() ? session.size() : session.rank();
    int first = 0;
    check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, session.communicator()), "MPI_Allreduce");
    if (first == session.size()) return;
    int length = session.rank() == first ? static_cast<int>(failure.size()) : 0;
    MPI_Bcast(&length, 1, MPI_INT, first, session.communicator());
    std::string text = session.rank() == first ? failure : std::string(static_cast<std::size_t>(length), '\0');
    MPI_Bcast(text.data(), length, MPI_CHAR, first, session.communicator());
    throw Error("scratchnet::mpi::fit: rank " + std::to_string(first) + " failed: " + text);
}

/// The caller's schedule, called on every process and its factor compared: a
/// schedule that throws on one process, or gives another factor there, stops all
/// of them with the same error (the processes would otherwise drift apart, or
/// one would leave while the others wait).
inline std::function<double(int)> agreed_schedule(const Session& session, std::function<double(int)> schedule) {
    return [&session, schedule = std::move(schedule)](int epoch) {
        double factor = 0;
        std::string failure;
        try {
            factor = schedule(epoch);
        } catch (const std::exception& e) {
            failure = std::string("the schedule threw: ") + e.what();
        } catch (...) {
            failure = "the schedule threw";
        }
        const double mine[2] = {failure.empty() ? 0.0 : 1.0, factor};
        std::vector<double> all(2 * static_cast<std::size_t>(session.size()));
        check(MPI_Allgather(mine, 2, MPI_DOUBLE, all.data(), 2, MPI_DOUBLE, session.communicator()),
              "MPI_Allgather of the schedule's factors");
        agree_on_callbacks(session, failure);
        std::string differ;
        for (int r = 1; r < session.size(); ++r)
            if (std::memcmp(&all[2 * static_cast<std::size_t>(r) + 1], &all[1], sizeof(double)) != 0)
                differ += (differ.empty() ? "" : ", ") + std::to_string(r);
        if (!differ.empty())
            throw Error("scratchnet::mpi::fit: the schedule of rank(s) " + differ + " gives another factor than rank "
                        "0's for epoch " + std::to_string(epoch));
        return factor;
    };
}

/// After training: the parameters agree on every process, or every process
/// throws (an optimizer that came with other state on some process, say).
template <class Net>
void agree_on_parameters(const Session& session, const Net& net) {
    Fingerprint f;
    f.add(net.parameters().data(), sizeof(typename Net::Scalar) * static_cast<std::size_t>(Net::parameter_count));
    f.add(net.state().data(), sizeof(typename Net::Scalar) * static_cast<std::size_t>(Net::state_count));
    const std::uint64_t mine = f.value();
    std::vector<std::uint64_t> all(static_cast<std::size_t>(session.size()));
    check(MPI_Allgather(&mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, session.communicator()),
          "MPI_Allgather of the parameters' fingerprints");
    if (const std::string bad = ranks_differing(all); !bad.empty())
        throw Error("scratchnet::mpi::fit: after training, the parameters of rank(s) " + bad + " differ from rank 0's "
                    "(did the optimizer come with other state there? use a fresh or reset() optimizer everywhere)");
}

}  // namespace scratchnet::mpi::detail
