#pragma once
// Data-parallel training over MPI: scratchnet::mpi::fit trains one network on many
// processes, and its parameters come out bit-identical to scratchnet::fit in one
// process with the same options, for any number of processes and threads.
//
// Not included by scratchnet.hpp: the core needs only Eigen and zlib. Link
// scratchnet::mpi (find_package(scratchnet CONFIG REQUIRED COMPONENTS mpi)).
//
// How a step runs on P processes. Every process holds the whole data set and the
// same shuffle (fit's seed), so all agree on each batch. fit cuts a batch into
// fixed chunks of FitOptions::chunk_size samples; process q computes chunks
// [q C / P, (q + 1) C / P) of the C chunks, each into a gradient buffer of its own.
// Then a reduce-scatter in the library's own order: process r owns parameters
// [r N / P, (r + 1) N / P), receives every chunk's part of them (one
// MPI_Alltoallv) and adds the chunks up in chunk order, exactly as fit adds them
// in one process; an MPI_Allgatherv gives every process the whole summed
// gradient, and each applies the same optimizer update (in fit's fixed blocks), so
// parameters and optimizer state stay identical everywhere. MPI_Allreduce would
// not do: its summation order depends on P and on the algorithm Open MPI picks.
// Per step, a process that computed c of the C chunks sends c N (P - 1) / P
// scalars and receives (C - c) N / P in the reduce-scatter, then sends N / P and
// receives N (P - 1) / P in the allgather, plus a few numbers per chunk (loss,
// hits, NaN finds).
//
// Faults: every process learns every chunk's loss, hits and NaN finds, and
// whether some process failed (computing, gathering its samples, allocating),
// before anyone moves on, so such a failure on one stops all of them with the
// same error instead of a hang; a throwing callback or schedule likewise. An MPI
// error itself (a dead node) is MPI's to report. Data, options or networks
// that differ between processes are refused before training, naming the ranks.
// Callbacks run on every process; training stops on all of them when any one's
// callback says stop. Print and write files on rank 0 only (session.rank() == 0).

#include "scratchnet/scratchnet.hpp"

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

/// An MPI error, a process that failed, or processes that disagree.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
inline void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string("scratchnet::mpi: ") + what + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, float>)
        return MPI_FLOAT;
    else
        return MPI_DOUBLE;
}
}  // namespace detail

/// MPI for the lifetime of this object: MPI_Init_thread (funneled: only the
/// thread that made the session calls MPI; fit's worker threads never do) and
/// MPI_Finalize. Where the application already initialised MPI, the session
/// adopts it and leaves finalising to the application. Its own communicator
/// (a duplicate of MPI_COMM_WORLD) keeps the library's messages apart from the
/// application's.
class Session {
public:
    Session(int& argc, char**& argv) : Session(&argc, &argv) {}
    /// For a program that has no argc/argv at hand (or already called MPI_Init).
    Session() : Session(nullptr, nullptr) {}

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() {
        if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
        if (owns_) MPI_Finalize();
    }

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// The library's communicator: the processes of MPI_COMM_WORLD.
    MPI_Comm communicator() const { return comm_; }

private:
    Session(int* argc, char*** argv) {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (!initialised) {
            int provided = 0;
            detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_ = true;
        }
        detail::check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
        // Errors come back as codes (turned into exceptions) rather than aborting.
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    bool owns_ = false;
};

/// Gives every process rank 0's parameters.
template <class Net>
void broadcast(const Session& session, Net& net) {
    using T = typename Net::Scalar;
    detail::check(MPI_Bcast(net.parameters().data(), static_cast<int>(Net::parameter_count), detail::datatype<T>(), 0,
                            session.communicator()),
                  "MPI_Bcast of the parameters");
}

namespace detail {

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

/// BatchGradient's interface to fit, with the batch's chunks spread over the
/// processes and their gradients added up in chunk order across them. All the
/// collectives of a step run in compute(); the step's local work then runs
/// through agreed(), so that the processes never wait in different calls.
template <class Net>
class DistributedGradient {
    using T = typename Net::Scalar;
    using Local = scratchnet::detail::BatchGradient<Net>;

public:
    using Result = typename Local::Result;
    using Gather = typename Local::Gather;
    using Done = typename Local::Done;

    DistributedGradient(const Session& session, unsigned threads, Index chunk_size, bool check_finite, bool split_rows)
        : comm_(session.communicator()), rank_(session.rank()), size_(session.size()),
          local_(threads, chunk_size, check_finite, false) {
        if (split_rows)
            throw std::invalid_argument("scratchnet::mpi::fit: BatchSplit::by_rows is for one process; the processes "
                                        "split each batch by samples");
        constexpr Index n = Net::parameter_count;
        owned_begin_ = n * rank_ / size_;
        owned_end_ = n * (rank_ + 1) / size_;
        counts_.resize(static_cast<std::size_t>(size_));
        displacements_.resize(static_cast<std::size_t>(size_));
        for (int r = 0; r < size_; ++r) {
            const Index begin = n * r / size_, end = n * (r + 1) / size_;
            counts_[static_cast<std::size_t>(r)] = static_cast<int>(end - begin);
            displacements_[static_cast<std::size_t>(r)] = static_cast<int>(begin);
        }
    }

    /// Computes this process's chunks, then shares every chunk's figures and any
    /// failure. Throws on every process when one failed.
    Result compute(Net& net, Index batch, Gather inputs, Gather targets, const Pass& pass = {}) {
        chunks_ = local_.chunk_count(batch);
        check_counts();
        const auto [first, last] = chunks_of(rank_);
        std::string failure;
        try {
            // exchange()'s buffers too: a failed allocation is reported with the rest.
            outgoing_.resize(static_cast<std::size_t>(Net::parameter_count) * (last - first));
            incoming_.resize(static_cast<std::size_t>(owned_end_ - owned_begin_) * chunks_);
            local_.compute_chunks(net, batch, first, last, inputs, targets, pass);
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "an exception not derived from std::exception";
        }
        const Result r = share_results(failure);
        exchange(net);  // every collective of a step happens here, before the step's local work
        return r;
    }

    /// net.gradients() already holds the whole sum (compute() exchanged it):
    /// done(begin, end) over fit's fixed blocks, on this process's threads.
    void sum(Net&, Done done) { local_.for_each_block(done); }
    void for_each_block(Done done) { local_.for_each_block(done); }

    /// Runs the local work of a step (the optimizer's update, clipping, max-norm):
    /// an exception there on any process (an optimizer whose state belongs to
    /// another network, say) is thrown on every process.
    template <class F>
    void agreed(F&& f) {
        std::string failure;
        try {
            f();
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "an exception not derived from std::exception";
        }
        const int mine = failure.empty() ? 0 : 1;
        flags_.resize(static_cast<std::size_t>(size_));
        timed([&] {
            check(MPI_Allgather(&mine, 1, MPI_INT, flags_.data(), 1, MPI_INT, comm_), "MPI_Allgather of the step");
        });
        for (int q = 0; q < size_; ++q)
            if (flags_[static_cast<std::size_t>(q)] != 0) fail(q, failure);
    }

    /// True on every process when true on all.
    bool agree(bool answer) {
        int mine = answer ? 1 : 0, all = 0;
        timed([&] { check(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce"); });
        return all == 1;
    }

    scratchnet::detail::ThreadPool& pool() { return local_.pool(); }
    double communication_seconds() const { return communication_; }

private:
    /// MPI counts are ints: refuse, on every process alike (the figures are the
    /// same everywhere), a batch whose exchange would need larger ones.
    void check_counts() const {
        Index largest = 0;
        for (int q = 0; q < size_; ++q) {
            const auto [a, b] = chunks_of(q);
            largest = std::max(largest, Net::parameter_count * static_cast<Index>(b - a));
        }
        largest = std::max(largest, (owned_end_ - owned_begin_) * static_cast<Index>(chunks_));
        if (largest > std::numeric_limits<int>::max())
            throw std::invalid_argument("scratchnet::mpi::fit: a process would exchange " + std::to_string(largest) +
                                        " scalars in one call, more than MPI's int counts allow: use a larger "
                                        "chunk_size or more processes");
    }

    /// Chunks [first, last) that process q computes.
    std::pair<std::size_t, std::size_t> chunks_of(int q) const {
        const auto c = chunks_;
        const auto p = static_cast<std::size_t>(size_);
        return {c * static_cast<std::size_t>(q) / p, c * static_cast<std::size_t>(q + 1) / p};
    }

    template <class F>
    void timed(F&& f) {
        const double start = MPI_Wtime();
        f();
        communication_ += MPI_Wtime() - start;
    }

    /// Every chunk's loss, hits and NaN find (three doubles each: a T loss is
    /// exact in a double) plus a failure flag per process, to every process; the
    /// loss summed in chunk order, as fit sums it.
    Result share_results(const std::string& failure) {
        const auto [first, last] = chunks_of(rank_);
        send_.clear();
        send_.push_back(failure.empty() ? 0.0 : 1.0);
        for (std::size_t k = first; k < last; ++k) {
            const Result r = failure.empty() ? local_.chunk_result(k) : Result{};  // a failed chunk may be unset
            send_.push_back(static_cast<double>(r.loss_sum));
            send_.push_back(static_cast<double>(r.correct));
            send_.push_back(static_cast<double>(r.nonfinite_layer));
        }
        for (int q = 0; q < size_; ++q) {
            const auto [a, b] = chunks_of(q);
            figure_counts_[q] = static_cast<int>(1 + 3 * (b - a));
            figure_displacements_[q] = q == 0 ? 0 : figure_displacements_[q - 1] + figure_counts_[q - 1];
        }
        received_.resize(static_cast<std::size_t>(figure_displacements_[size_ - 1] + figure_counts_[size_ - 1]));
        timed([&] {
            check(MPI_Allgatherv(send_.data(), static_cast<int>(send_.size()), MPI_DOUBLE, received_.data(),
                                 figure_counts_.data(), figure_displacements_.data(), MPI_DOUBLE, comm_),
                  "MPI_Allgatherv of the chunk figures");
        });
        for (int q = 0; q < size_; ++q)
            if (received_[static_cast<std::size_t>(figure_displacements_[q])] != 0.0) fail(q, failure);
        Result r;
        bool first_chunk = true;
        for (int q = 0; q < size_; ++q) {
            const auto [a, b] = chunks_of(q);
            const double* f = received_.data() + figure_displacements_[q] + 1;
            for (std::size_t k = a; k < b; ++k, f += 3) {
                const T loss = static_cast<T>(f[0]);
                r.loss_sum = first_chunk ? loss : r.loss_sum + loss;
                first_chunk = false;
                r.correct += static_cast<Index>(f[1]);
                const int bad = static_cast<int>(f[2]);
                if (bad >= 0 && (r.nonfinite_layer < 0 || bad < r.nonfinite_layer)) r.nonfinite_layer = bad;
            }
        }
        return r;
    }

    /// Process q failed: it sends its message, and every process throws it.
    [[noreturn]] void fail(int q, const std::string& mine) {
        int length = q == rank_ ? static_cast<int>(mine.size()) : 0;
        MPI_Bcast(&length, 1, MPI_INT, q, comm_);
        std::string text(static_cast<std::size_t>(length), '\0');
        if (q == rank_) text = mine;
        MPI_Bcast(text.data(), length, MPI_CHAR, q, comm_);
        throw Error("scratchnet::mpi::fit: rank " + std::to_string(q) + " failed: " + text);
    }

    /// Reduce-scatter by parameter range in chunk order, then allgather of the sums.
    void exchange(Net& net) {
        const auto [first, last] = chunks_of(rank_);
        const std::size_t mine = last - first;
        // To process r: for each of my chunks in order, its part [r N / P, (r + 1) N / P).
        for (int r = 0; r < size_; ++r) {  // outgoing_ and incoming_ were sized by compute()
            send_counts_[r] = counts_[r] * static_cast<int>(mine);
            send_displacements_[r] = displacements_[r] * static_cast<int>(mine);
            for (std::size_t k = 0; k < mine; ++k)
                std::memcpy(outgoing_.data() + send_displacements_[r] + static_cast<Index>(k) * counts_[r],
                            local_.chunk_gradient(first + k) + displacements_[r],
                            sizeof(T) * static_cast<std::size_t>(counts_[r]));
        }
        const Index owned = owned_end_ - owned_begin_;
        for (int q = 0; q < size_; ++q) {
            const auto [a, b] = chunks_of(q);
            receive_counts_[q] = static_cast<int>(owned) * static_cast<int>(b - a);
            receive_displacements_[q] = static_cast<int>(owned) * static_cast<int>(a);
        }
        timed([&] {
            check(MPI_Alltoallv(outgoing_.data(), send_counts_.data(), send_displacements_.data(), datatype<T>(),
                                incoming_.data(), receive_counts_.data(), receive_displacements_.data(), datatype<T>(),
                                comm_),
                  "MPI_Alltoallv of the chunk gradients");
        });
        // incoming_ holds chunk 0's part, chunk 1's, ...: add them as fit does.
        T* grad = net.gradients().data();
        Eigen::Map<Vector<T>> sum(grad + owned_begin_, owned);
        if (chunks_ > 0) sum = Eigen::Map<const Vector<T>>(incoming_.data(), owned);
        for (std::size_t k = 1; k < chunks_; ++k)
            sum += Eigen::Map<const Vector<T>>(incoming_.data() + static_cast<Index>(k) * owned, owned);
        timed([&] {
            check(MPI_Allgatherv(MPI_IN_PLACE, 0, datatype<T>(), grad, counts_.data(), displacements_.data(),
                                 datatype<T>(), comm_),
                  "MPI_Allgatherv of the summed gradient");
        });
    }

    static void check(int code, const char* what) { scratchnet::mpi::detail::check(code, what); }

    MPI_Comm comm_;
    int rank_, size_;
    Index owned_begin_ = 0, owned_end_ = 0;
    std::size_t chunks_ = 0;
    std::vector<int> counts_, displacements_;  // each process's parameter range
    std::vector<int> send_counts_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> send_displacements_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> receive_counts_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> receive_displacements_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> figure_counts_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> figure_displacements_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<double> send_, received_;
    std::vector<int> flags_;
    std::vector<T> outgoing_, incoming_;
    double communication_ = 0;
    Local local_;  // last: its pool's tasks use the members above
};

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
    setup.add_value(o.epochs);
    setup.add_value(o.batch_size);
    setup.add_value(o.seed);
    setup.add_value(o.shuffle);
    setup.add_value(o.drop_last);
    setup.add_value(o.chunk_size);
    setup.add_value(o.check_finite);
    setup.add_value(o.clip_norm);
    setup.add_value(o.max_norm);
    setup.add_value(o.validation_split);
    setup.add_value(o.validation_seed.has_value());
    setup.add_value(o.validation_seed.value_or(0));
    setup.add_value(o.split);
    setup.add_value(static_cast<bool>(o.schedule));
    if constexpr (requires { optimizer.learning_rate(); }) setup.add_value(static_cast<double>(optimizer.learning_rate()));
    // A callback's answer is agreed on after every batch or epoch where it is set:
    // set on some processes only, the processes would wait for each other forever.
    setup.add_value(static_cast<bool>(callbacks.on_batch));
    setup.add_value(static_cast<bool>(callbacks.on_epoch));
    setup.add_value(o.early_stopping.patience);
    setup.add_value(o.early_stopping.monitor);
    setup.add_value(o.early_stopping.min_delta);
    setup.add_value(o.early_stopping.restore_best);
    setup.add_value(o.average_from);
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
    const std::uint64_t mine = f.value();
    std::vector<std::uint64_t> all(static_cast<std::size_t>(session.size()));
    check(MPI_Allgather(&mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, session.communicator()),
          "MPI_Allgather of the parameters' fingerprints");
    if (const std::string bad = ranks_differing(all); !bad.empty())
        throw Error("scratchnet::mpi::fit: after training, the parameters of rank(s) " + bad + " differ from rank 0's "
                    "(did the optimizer come with other state there? use a fresh or reset() optimizer everywhere)");
}

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
