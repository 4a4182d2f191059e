#pragma once
// The gradient engine of mpi::fit (the GradientEngine contract of
// training/trainer.hpp): each batch's chunks spread over the processes, their
// gradients added in chunk order across them (see scratchnet/mpi.hpp for the
// exchange, step by step).

#include "scratchnet/core.hpp"
#include "scratchnet/mpi/session.hpp"
#include "scratchnet/training/batch_gradient.hpp"

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

namespace scratchnet::mpi::detail {

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
        if constexpr (Net::state_count > 0) {
            if (pass.training()) share_state(net);
        }
        return r;
    }

    /// BatchGradient::measure across the processes: each forwards its chunks, and
    /// every chunk's measurement is folded in chunk order on every process.
    Result measure(Net& net, Index batch, Gather inputs, const Pass& pass) {
        chunks_ = local_.chunk_count(batch);
        const auto [first, last] = chunks_of(rank_);
        std::string failure;
        try {
            local_.measure_chunks(net, batch, first, last, inputs, pass);
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "an exception not derived from std::exception";
        }
        const Result r = share_results(failure);
        if constexpr (Net::state_count > 0) share_state(net);
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

    /// Every chunk's measurement for the network's state (BatchNorm's statistics) to
    /// every process, then folded in chunk order, as fit folds them in one process.
    void share_state(Net& net) {
        constexpr Index S = Net::state_count;
        const auto [first, last] = chunks_of(rank_);
        state_out_.resize(static_cast<std::size_t>(S) * (last - first));
        for (std::size_t k = first; k < last; ++k)
            std::memcpy(state_out_.data() + static_cast<Index>(k - first) * S, local_.chunk_measurement(k),
                        sizeof(T) * static_cast<std::size_t>(S));
        for (int q = 0; q < size_; ++q) {
            const auto [a, b] = chunks_of(q);
            state_counts_[q] = static_cast<int>(S * static_cast<Index>(b - a));
            state_displacements_[q] = static_cast<int>(S * static_cast<Index>(a));
        }
        state_in_.resize(static_cast<std::size_t>(S) * chunks_);
        timed([&] {
            check(MPI_Allgatherv(state_out_.data(), static_cast<int>(state_out_.size()), datatype<T>(),
                                 state_in_.data(), state_counts_.data(), state_displacements_.data(), datatype<T>(),
                                 comm_),
                  "MPI_Allgatherv of the chunks' state measurements");
        });
        for (std::size_t k = 0; k < chunks_; ++k) net.fold_state(state_in_.data() + static_cast<Index>(k) * S);
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
    std::vector<int> state_counts_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<int> state_displacements_ = std::vector<int>(static_cast<std::size_t>(size_));
    std::vector<T> state_out_, state_in_;
    double communication_ = 0;
    Local local_;  // last: its pool's tasks use the members above
};

}  // namespace scratchnet::mpi::detail
