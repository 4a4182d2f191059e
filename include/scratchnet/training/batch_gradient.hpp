#pragma once
// The gradient of one mini-batch, split into fixed-size column chunks that run on
// a thread pool. Each chunk has its own workspace and gradient buffer; the chunk
// gradients are then added in chunk order. The split depends only on the batch
// and chunk sizes, never on the thread count, so 1 and N threads give bit-identical
// results.
//
// Two passes per batch: compute() runs the chunks (gather, forward, backward);
// sum() then adds their gradients, in fixed blocks of parameters spread over the
// same threads, and hands each finished block to the optimizer while it is still
// in cache. Block boundaries are fixed too (multiples of kBlock), so how blocks
// fall to threads changes nothing either.
//
// Layer 0 can instead be split by its output rows, when it offers the row split
// of the layer contract (layer.hpp: Dense does) and its width is a multiple of 16
// (as 128, 256 and 512 are). The scheduler calls the layer's forward_rows,
// weight_gradient_rows and for_each_row_parameter_range and does no maths of its
// own. That layer usually holds nearly all the parameters; split by samples,
// every thread reads all of W and writes a whole dW, whose halves then cross from
// one core's cache to the other's each batch. Split by rows, each thread
// computes, sums and updates only its own rows of W, and only layer 0's outputs
// and their gradient (kOut x B) are shared; but each thread gathers the whole
// batch's inputs itself, and the batch takes one more hand-off between the
// threads. Which wins depends on the machine (the benchmark times both), so the
// row split is an option, not the default. Rows are cut at fixed blocks of 64,
// whatever the kernel, so this too gives the same bits for any thread count; the
// two splits add layer 0's gradient in different orders, so they differ from each
// other in the last bits.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/task.hpp"
#include "scratchnet/training/batch_source.hpp"
#include "scratchnet/detail/function_ref.hpp"
#include "scratchnet/kernels/gemm.hpp"
#include "scratchnet/detail/thread_pool.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet::detail {

template <class Net>
class BatchGradient {
    using T = typename Net::Scalar;
    using Batch = typename Net::Batch;

public:
    struct Result {
        T loss_sum = 0;    // loss summed over the batch's samples
        Index correct = 0; // judgements that agree with the targets (task.hpp's hits; 0 for regression)
        int nonfinite_layer = -1;  // first layer with a NaN/inf output in any chunk (when checked)
    };

    /// gather(begin, n, M): M = samples [begin, begin + n) of the batch.
    using Gather = FunctionRef<void(Index, Index, Matrix<T>&)>;
    /// done(begin, end): parameters [begin, end) are summed (an optimizer's update).
    using Done = FunctionRef<void(Index, Index)>;

    using FirstLayerType = std::remove_cvref_t<decltype(std::declval<const Net&>().template layer<0>())>;
    /// Whether layer 0 can be split by rows: it offers the row split, and its rows
    /// split at multiples of 16 give the optimizer whole, aligned vectors.
    static constexpr bool kCanSplitRows = scratchnet::RowSplitLayer<FirstLayerType, T> && Net::first_width % 16 == 0;

    /// split_rows: split layer 0 by rows (only where kCanSplitRows) rather than by samples.
    /// clamp_threads: as ThreadPool's clamp (fit() always clamps).
    BatchGradient(unsigned threads, Index chunk_size, bool check_finite = false, bool split_rows = false,
                  bool clamp_threads = true)
        : chunk_(std::max<Index>(chunk_size, 1)), check_finite_(check_finite), split_rows_(split_rows),
          pool_(threads, clamp_threads) {
        if (split_rows && !kCanSplitRows)
            throw std::invalid_argument("scratchnet::fit: BatchSplit::by_rows needs layer 0 to offer the row split "
                                        "(layer.hpp; Dense does) with a multiple of 16 outputs; this network's "
                                        "layer 0 is " + Net::layer_name(0) +
                                        " (use BatchSplit::by_samples)");
    }

    /// Parameters per block of the summing pass: 32 KB of floats, a multiple of
    /// every SIMD width, so each block but the last is whole vectors.
    static constexpr Index kBlock = 8192;

    /// Fills net.gradients() with the gradient of the mean loss over (X, Y).
    /// Allocates only when the batch needs more chunks than ever before.
    Result run(Net& net, const Matrix<T>& X, const Matrix<T>& Y, const Pass& pass = {}) {
        if (X.cols() != Y.cols())
            throw std::invalid_argument("scratchnet: batch inputs and targets differ in column count");
        const Result r = compute(
            net, X.cols(), [&](Index begin, Index n, Matrix<T>& Xk) { Xk = X.middleCols(begin, n); },
            [&](Index begin, Index n, Matrix<T>& Yk) { Yk = Y.middleCols(begin, n); }, pass);
        sum(net, [](Index, Index) {});
        return r;
    }

    /// The first pass, for a batch of `batch` samples that the threads gather
    /// themselves: inputs(begin, n, Xk) and targets(begin, n, Yk) fill a matrix
    /// with samples [begin, begin + n) of the batch. Gathering in the tasks spreads
    /// that work across the threads too. `pass` is the pass of the whole batch; a
    /// chunk starting at column k runs pass.shifted(k). net.gradients() is complete
    /// only after sum().
    Result compute(Net& net, Index batch, Gather inputs, Gather targets, const Pass& pass = {}) {
        if (batch <= 0) throw std::invalid_argument("scratchnet: empty batch");
        const std::size_t chunks = assign_chunks(batch);
        if constexpr (kCanSplitRows) {
            if (rows_now()) first_layer_by_rows(net, batch, inputs);
        }
        T* const net_grad = net.gradients().data();
        auto task = [&](std::size_t k) { compute_chunk(net, k, batch, inputs, targets, pass, net_grad); };
        pool_.run(chunks, task);
        chunks_ = chunks;
        if constexpr (Net::state_count > 0) {
            // What each chunk's training pass measured (BatchNorm's statistics, taken
            // by the chunk's own task) joins the network's state in chunk order: the
            // same for any thread count.
            if (pass.training())
                for (std::size_t k = 0; k < chunks; ++k) net.fold_state(current_[k]->measured.data());
        }
        return collect();
    }

    /// Forward passes only, in the pass's mode (training, for BatchNorm's batch
    /// statistics), over the chunks of a batch of `batch` samples: what each chunk
    /// measured joins the network's state in chunk order, as after compute(), the
    /// same for any thread count. Gradients untouched; Result holds no loss or hits,
    /// only the first layer with a NaN or infinite output (with check_finite).
    Result measure(Net& net, Index batch, Gather inputs, const Pass& pass) {
        if (batch <= 0) throw std::invalid_argument("scratchnet: empty batch");
        const std::size_t chunks = assign_chunks(batch);
        auto task = [&](std::size_t k) { measure_chunk(net, k, batch, inputs, pass); };
        pool_.run(chunks, task);
        chunks_ = chunks;
        if constexpr (Net::state_count > 0)
            for (std::size_t k = 0; k < chunks; ++k) net.fold_state(current_[k]->measured.data());
        return collect();
    }

    /// measure()'s chunks [first, last) only, for a caller that folds the chunks'
    /// measurements itself (chunk_measurement(k); the processes of mpi::fit).
    void measure_chunks(const Net& net, Index batch, std::size_t first, std::size_t last, Gather inputs,
                        const Pass& pass) {
        if (batch <= 0) throw std::invalid_argument("scratchnet: empty batch");
        chunks_ = assign_chunks(batch);
        auto task = [&](std::size_t i) { measure_chunk(net, first + i, batch, inputs, pass); };
        pool_.run(last - first, task);
    }

    /// Chunks [first, last) of a batch of `batch` samples only, each into its own
    /// gradient buffer (chunk_gradient(k)), for a caller that adds up the chunks
    /// itself (the processes of mpi::fit each compute some). Split by samples only.
    void compute_chunks(const Net& net, Index batch, std::size_t first, std::size_t last, Gather inputs,
                        Gather targets, const Pass& pass) {
        if (batch <= 0) throw std::invalid_argument("scratchnet: empty batch");
        if (rows_now()) throw std::logic_error("scratchnet: compute_chunks splits by samples only");
        chunks_ = assign_chunks(batch);
        auto task = [&](std::size_t i) {
            compute_chunk(net, first + i, batch, inputs, targets, pass, nullptr);
        };
        pool_.run(last - first, task);
    }
    /// Chunks of a batch of `batch` samples.
    std::size_t chunk_count(Index batch) const { return static_cast<std::size_t>((batch + chunk_ - 1) / chunk_); }
    /// Chunk k's scaled gradient and figures after compute_chunks().
    const T* chunk_gradient(std::size_t k) const { return current_[k]->grad.data(); }
    /// What chunk k's pass measured for the network's state (Net::state_count scalars).
    const T* chunk_measurement(std::size_t k) const { return current_[k]->measured.data(); }
    Result chunk_result(std::size_t k) const {
        const Chunk& c = *current_[k];
        return {c.loss_sum, c.correct, c.ws.nonfinite_layer};
    }

    /// The second pass: adds the chunk gradients of the last compute() into
    /// net.gradients(), in chunk order, then calls done(begin, end) for that block
    /// of parameters (an optimizer's update) on the thread that summed it. With a
    /// split layer 0, each thread first computes its rows of layer 0's gradient
    /// and hands them over, a column of W at a time.
    void sum(Net& net, Done done) {
        T* const net_grad = net.gradients().data();
        constexpr Index n = Net::parameter_count;
        const bool rows = rows_now();
        const Index rest = rows ? Net::first_parameter_count : 0;  // where the chunk-summed part starts
        const std::size_t row_tasks = rows ? pool_.size() : 0;
        auto task = [&](std::size_t i) {
            if (i < row_tasks) {
                if constexpr (kCanSplitRows) first_layer_gradient(net, i, net_grad, done);
                return;
            }
            const Index begin = rest + static_cast<Index>(i - row_tasks) * kBlock;
            const Index size = std::min(kBlock, n - begin);
            Eigen::Map<Vector<T>> grad(net_grad + begin, size);
            for (std::size_t k = 1; k < chunks_; ++k) grad += current_[k]->grad.segment(begin, size);
            done(begin, begin + size);
        };
        pool_.run(row_tasks + static_cast<std::size_t>((n - rest + kBlock - 1) / kBlock), task);
    }

    /// Calls done(begin, end) over all parameters in the fixed blocks of sum(), on
    /// the pool: an optimizer's update after sum(), where the gradient had to be
    /// seen whole first (clipping by its norm).
    void for_each_block(Done done) {
        constexpr Index n = Net::parameter_count;
        auto task = [&](std::size_t i) {
            const Index begin = static_cast<Index>(i) * kBlock;
            done(begin, std::min(begin + kBlock, n));
        };
        pool_.run(static_cast<std::size_t>((n + kBlock - 1) / kBlock), task);
    }

    ThreadPool& pool() { return pool_; }

    // The rest of the GradientEngine contract (training/trainer.hpp), for one
    // process: nobody else to agree with, nothing to exchange.
    bool agree(bool answer) const { return answer; }
    template <class F>
    void agreed(F&& f) const { f(); }
    double communication_seconds() const { return 0.0; }

private:
    // kCanSplitRows asks for a width that is a multiple of 16: then its rows, split
    // at multiples of 16, give the optimizer ranges of whole, aligned vectors (see
    // first_layer_gradient). Where the network cannot split, the row code sits
    // behind `if constexpr (kCanSplitRows)` and is never instantiated.
    bool rows_now() const { return kCanSplitRows && split_rows_; }
    static constexpr Index kOut = Net::first_width;
    /// Where layer 0's products are cut when the kernel needs fixed cuts.
    static constexpr Index kRowBlock = 64;
    static constexpr Index kRowBlocks = (kOut + kRowBlock - 1) / kRowBlock;

    struct Chunk {
        typename Net::Workspace ws;
        Matrix<T> X, Y;  // this chunk's samples
        Vector<T> grad;
        Vector<T> measured = Vector<T>(Net::state_count);  // what the pass measured for the state
        T loss_sum = 0;
        Index correct = 0;
    };
    template <class B>
    struct row_scratch {
        using type = NoScratch;
    };
    template <scratchnet::RowSplitLayer<T> B>
    struct row_scratch<B> {
        using type = typename B::RowScratch;
    };
    using Sites = typename row_scratch<FirstLayerType>::type;  // layer 0's buffers for one block of rows
    /// Layer 0 split by rows, for one batch size.
    struct FirstLayer {
        Matrix<T> Z, dZ;              // kOut x B: layer 0's output and dL/dZ, whole batch
        std::vector<Matrix<T>> X;     // per thread: the whole batch's inputs, gathered by that thread
        std::vector<Sites> sites;     // per row block (one per thread when rows split exactly)
    };

    static void tally(Chunk& c, const Matrix<T>& P, const Batch& Y, T loss_sum) {
        c.loss_sum = loss_sum;
        c.correct = 0;
        if constexpr (has_classes(Net::task))
            for (Index j = 0; j < P.cols(); ++j) c.correct += hits<Net::task>(P, Y, j);
    }

    /// Points current_[k] at the workspace of chunk k of a batch of `batch`. A
    /// chunk keeps its buffers only while its column count stays the same, so full
    /// chunks and each size of partial chunk (the end of an uneven batch, an
    /// epoch's last batch) get workspaces of their own: after the first epoch
    /// nothing is resized, hence nothing allocated.
    std::size_t assign_chunks(Index batch) {
        const auto chunks = static_cast<std::size_t>((batch + chunk_ - 1) / chunk_);
        if (current_.size() < chunks) current_.resize(chunks);
        for (std::size_t k = 0; k < chunks; ++k) {
            const Index n = std::min(chunk_, batch - static_cast<Index>(k) * chunk_);
            current_[k] = &chunk_for(k, n);
        }
        return chunks;
    }

    /// Layer 0's output for the whole batch, each thread computing its rows.
    void first_layer_by_rows(const Net& net, Index batch, Gather inputs) {
        FirstLayer& first = first_for(batch);
        first_now_ = &first;
        const auto& layer = net.template layer<0>();
        auto task = [&](std::size_t t) {
            const auto [r0, r1] = rows_of(t);
            if (r0 == r1) return;
            Matrix<T>& X = first.X[t];
            inputs(0, batch, X);
            for_each_product(t, [&](Index a, Index b, Sites& s) { layer.forward_rows(X, first.Z, a, b, s); });
        };
        pool_.run(pool_.size(), task);
    }

    /// Chunk k: gathers its samples, runs forward and backward in its own
    /// workspace and writes scale * its gradient (chunk 0 straight into the
    /// network's buffer unless net_grad is null, the others into their own,
    /// summed later).
    void compute_chunk(const Net& net, std::size_t k, Index batch, Gather inputs, Gather targets, const Pass& pass,
                       T* net_grad) {
        Chunk& c = *current_[k];
        const Index begin = static_cast<Index>(k) * chunk_;
        const Index n = std::min(chunk_, batch - begin);
        const T scale = T(1) / static_cast<T>(batch);
        targets(begin, n, c.Y);
        const Batch Yk(c.Y.data(), c.Y.rows(), n);
        c.ws.check_finite = check_finite_;
        c.ws.pass = pass.shifted(begin);
        T* g = net_grad;
        if (k > 0 || net_grad == nullptr) {
            c.grad.resize(Net::parameter_count);
            g = c.grad.data();
        }
        if constexpr (kCanSplitRows) {
            if (rows_now()) {
                Net::first_output(c.ws) = first_now_->Z.middleCols(begin, n);
                const Matrix<T>& P = net.forward_from_second(c.ws, n);
                tally(c, P, Yk, net.loss_sum(Yk, c.ws));
                if constexpr (Net::state_count > 0) net.measure_state(c.ws, c.measured.data());
                net.backward_to_second(Yk, c.ws, g, scale);
                first_now_->dZ.middleCols(begin, n) = Net::first_output_gradient(c.ws);
                return;
            }
        }
        inputs(begin, n, c.X);
        const Batch Xk(c.X.data(), c.X.rows(), n);
        const Matrix<T>& P = net.forward(Xk, c.ws);
        tally(c, P, Yk, net.loss_sum(Yk, c.ws));
        if constexpr (Net::state_count > 0) net.measure_state(c.ws, c.measured.data());
        net.backward(Xk, Yk, c.ws, g, scale);
    }

    /// Chunk k's forward pass alone, and what it measured for the state.
    void measure_chunk(const Net& net, std::size_t k, Index batch, Gather inputs, const Pass& pass) {
        Chunk& c = *current_[k];
        const Index begin = static_cast<Index>(k) * chunk_;
        const Index n = std::min(chunk_, batch - begin);
        c.ws.check_finite = check_finite_;
        c.ws.pass = pass.shifted(begin);
        inputs(begin, n, c.X);
        const Batch Xk(c.X.data(), c.X.rows(), n);
        net.forward(Xk, c.ws);
        c.loss_sum = 0;
        c.correct = 0;
        if constexpr (Net::state_count > 0) net.measure_state(c.ws, c.measured.data());
    }

    /// Loss, hits and the first non-finite layer over the chunks of the last compute().
    Result collect() const {
        Result r{current_[0]->loss_sum, current_[0]->correct, current_[0]->ws.nonfinite_layer};
        for (std::size_t k = 1; k < chunks_; ++k) {
            const Chunk& c = *current_[k];
            r.loss_sum += c.loss_sum;
            r.correct += c.correct;
            const int bad = c.ws.nonfinite_layer;
            if (bad >= 0 && (r.nonfinite_layer < 0 || bad < r.nonfinite_layer)) r.nonfinite_layer = bad;
        }
        return r;
    }

    /// Thread t's rows of layer 0: whole row blocks, as even a share as they allow.
    std::pair<Index, Index> rows_of(std::size_t t) const {
        const auto threads = static_cast<Index>(pool_.size());
        const auto first = static_cast<Index>(t) * kRowBlocks / threads;
        const auto last = (static_cast<Index>(t) + 1) * kRowBlocks / threads;
        return {std::min(kOut, first * kRowBlock), std::min(kOut, last * kRowBlock)};
    }

    /// f(row_begin, row_end, sites) over thread t's rows, one call per fixed row
    /// block: the cuts are the same whichever kernel GemmSite compiled, so this
    /// code, and its bits, do not depend on the target flags of the file.
    template <class F>
    void for_each_product(std::size_t t, F&& f) {
        const auto [r0, r1] = rows_of(t);
        for (Index a = r0; a < r1; a += kRowBlock)
            f(a, std::min(a + kRowBlock, r1), first_now_->sites[static_cast<std::size_t>(a / kRowBlock)]);
    }

    /// Thread t's rows of dW = dZ X^T and db = dZ 1 (one sum over the whole batch,
    /// column by column), then done() for them: a run of rows in each column of W.
    void first_layer_gradient(const Net& net, std::size_t t, T* grad, Done done) {
        const auto [r0, r1] = rows_of(t);
        if (r0 == r1) return;
        FirstLayer& first = *first_now_;
        const auto& layer = net.template layer<0>();
        for_each_product(t, [&](Index a, Index b, Sites& s) {
            layer.weight_gradient_rows(first.X[t], first.dZ, grad, a, b, s);
        });
        // With rows cut at multiples of 16, each range the layer names (Dense: a
        // run in each column of W, then of b) starts aligned and spans whole
        // vectors, so an optimizer's vectorised loop treats every element alike
        // however the ranges fall: Eigen computes the unaligned ends of a range
        // apart, and there sqrt, for one, rounds differently.
        FirstLayerType::for_each_row_parameter_range(r0, r1, [&](Index begin, Index end) { done(begin, end); });
    }

    /// Layer 0's buffers for a batch of `batch` samples (allocated once per size).
    FirstLayer& first_for(Index batch) {
        for (auto& [size, f] : first_)
            if (size == batch) return f;
        FirstLayer& f = first_.emplace_back(batch, FirstLayer{}).second;
        f.Z.resize(kOut, batch);
        f.dZ.resize(kOut, batch);
        f.X.resize(pool_.size());
        f.sites.resize(static_cast<std::size_t>(kRowBlocks));
        return f;
    }

    /// The workspace of chunk k when it holds n columns.
    Chunk& chunk_for(std::size_t k, Index n) {
        if (n == chunk_) {
            if (full_.size() <= k) full_.resize(k + 1);
            return full_[k];
        }
        for (auto& [key, c] : partial_)
            if (key == std::pair{k, n}) return c;
        return partial_.emplace_back(std::pair{k, n}, Chunk{}).second;
    }

    Index chunk_;
    bool check_finite_;
    bool split_rows_;
    std::deque<Chunk> full_;  // deque: references stay valid as it grows
    std::deque<std::pair<std::pair<std::size_t, Index>, Chunk>> partial_;
    std::deque<std::pair<Index, FirstLayer>> first_;
    FirstLayer* first_now_ = nullptr;
    std::vector<Chunk*> current_;
    std::size_t chunks_ = 0;  // chunks of the last compute()
    ThreadPool pool_;  // last: destroyed (its workers joined) before the buffers its tasks use
};

}  // namespace scratchnet::detail
