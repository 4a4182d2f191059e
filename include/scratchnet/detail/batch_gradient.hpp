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

#include "scratchnet/core.hpp"
#include "scratchnet/detail/batch_source.hpp"
#include "scratchnet/detail/thread_pool.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
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
        Index correct = 0; // samples whose argmax output matches the target's argmax
        int nonfinite_layer = -1;  // first layer with a NaN/inf output in any chunk (when checked)
    };

    BatchGradient(unsigned threads, Index chunk_size, bool check_finite = false)
        : pool_(threads), chunk_(std::max<Index>(chunk_size, 1)), check_finite_(check_finite) {}

    /// Parameters per block of the summing pass: 32 KB of floats, a multiple of
    /// every SIMD width, so each block but the last is whole vectors.
    static constexpr Index kBlock = 8192;

    /// Fills net.gradients() with the gradient of the mean loss over (X, Y).
    /// Allocates only when the batch needs more chunks than ever before.
    Result run(Net& net, const Matrix<T>& X, const Matrix<T>& Y) {
        if (X.cols() != Y.cols())
            throw std::invalid_argument("scratchnet: batch inputs and targets differ in column count");
        const Result r = compute(net, X.cols(), [&](Index begin, Index n, Matrix<T>& Xk, Matrix<T>& Yk) {
            Xk = X.middleCols(begin, n);
            Yk = Y.middleCols(begin, n);
        });
        sum(net, [](Index, Index) {});
        return r;
    }

    /// The first pass, for a batch of `batch` samples that each chunk gathers
    /// itself: gather(begin, n, Xk, Yk) fills the chunk's inputs and targets with
    /// samples [begin, begin + n) of the batch. Gathering in the chunk task spreads
    /// that work across the threads too. net.gradients() is complete only after sum().
    template <class Gather>
    Result compute(Net& net, Index batch, const Gather& gather) {
        if (batch <= 0) throw std::invalid_argument("scratchnet: empty batch");
        const auto chunks = static_cast<std::size_t>((batch + chunk_ - 1) / chunk_);
        if (current_.size() < chunks) current_.resize(chunks);
        // A chunk keeps its buffers only while its column count stays the same, so
        // full chunks and each size of partial chunk (the end of an uneven batch,
        // an epoch's last batch) get workspaces of their own: after the first epoch
        // nothing is resized, hence nothing allocated.
        for (std::size_t k = 0; k < chunks; ++k) {
            const Index n = std::min(chunk_, batch - static_cast<Index>(k) * chunk_);
            current_[k] = &chunk_for(k, n);
        }
        T* const net_grad = net.gradients().data();
        const T scale = T(1) / static_cast<T>(batch);
        const Net& model = net;

        auto task = [&](std::size_t k) {
            Chunk& c = *current_[k];
            const Index begin = static_cast<Index>(k) * chunk_;
            const Index n = std::min(chunk_, batch - begin);
            gather(begin, n, c.X, c.Y);
            const Batch Xk(c.X.data(), c.X.rows(), n);
            const Batch Yk(c.Y.data(), c.Y.rows(), n);
            c.ws.check_finite = check_finite_;
            const Matrix<T>& P = model.forward(Xk, c.ws);
            c.loss_sum = model.loss_sum(Yk, c.ws);
            c.correct = 0;
            for (Index j = 0; j < n; ++j) c.correct += argmax_col(P, j) == argmax_col(Yk, j) ? 1 : 0;
            T* g = net_grad;
            if (k > 0) {
                c.grad.resize(Net::parameter_count);
                g = c.grad.data();
            }
            model.backward(Xk, Yk, c.ws, g, scale);
        };
        pool_.run(chunks, task);
        chunks_ = chunks;

        Result r{current_[0]->loss_sum, current_[0]->correct, current_[0]->ws.nonfinite_layer};
        for (std::size_t k = 1; k < chunks; ++k) {
            const Chunk& c = *current_[k];
            r.loss_sum += c.loss_sum;
            r.correct += c.correct;
            const int bad = c.ws.nonfinite_layer;
            if (bad >= 0 && (r.nonfinite_layer < 0 || bad < r.nonfinite_layer)) r.nonfinite_layer = bad;
        }
        return r;
    }

    /// The second pass: adds the chunk gradients of the last compute() into
    /// net.gradients(), in chunk order, then calls done(begin, end) for that block
    /// of parameters (an optimizer's update) on the thread that summed it.
    template <class Done>
    void sum(Net& net, const Done& done) {
        T* const net_grad = net.gradients().data();
        constexpr Index n = Net::parameter_count;
        auto task = [&](std::size_t b) {
            const Index begin = static_cast<Index>(b) * kBlock;
            const Index size = std::min(kBlock, n - begin);
            Eigen::Map<Vector<T>> grad(net_grad + begin, size);
            for (std::size_t k = 1; k < chunks_; ++k) grad += current_[k]->grad.segment(begin, size);
            done(begin, begin + size);
        };
        pool_.run(static_cast<std::size_t>((n + kBlock - 1) / kBlock), task);
    }

    ThreadPool& pool() { return pool_; }

private:
    struct Chunk {
        typename Net::Workspace ws;
        Matrix<T> X, Y;  // this chunk's samples
        Vector<T> grad;
        T loss_sum = 0;
        Index correct = 0;
    };
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

    ThreadPool pool_;
    Index chunk_;
    bool check_finite_;
    std::deque<Chunk> full_;  // deque: references stay valid as it grows
    std::deque<std::pair<std::pair<std::size_t, Index>, Chunk>> partial_;
    std::vector<Chunk*> current_;
    std::size_t chunks_ = 0;  // chunks of the last compute()
};

}  // namespace scratchnet::detail
