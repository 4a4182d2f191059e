#pragma once
// The gradient of one mini-batch, split into fixed-size column chunks that run on
// a thread pool. Each chunk has its own workspace and gradient buffer; the chunk
// gradients are then added in chunk order. The split depends only on the batch
// and chunk sizes, never on the thread count, so 1 and N threads give bit-identical
// results.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/batch_source.hpp"
#include "scratchnet/detail/thread_pool.hpp"

#include <algorithm>
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

    /// Fills net.gradients() with the gradient of the mean loss over (X, Y).
    /// Allocates only when the batch needs more chunks than ever before.
    Result run(Net& net, const Matrix<T>& X, const Matrix<T>& Y) {
        return run(net, X.cols(), [&](Index begin, Index n, Matrix<T>& Xk, Matrix<T>& Yk) {
            Xk = X.middleCols(begin, n);
            Yk = Y.middleCols(begin, n);
        });
    }

    /// As above for a batch of `batch` samples that each chunk gathers itself:
    /// gather(begin, n, Xk, Yk) fills the chunk's inputs and targets with samples
    /// [begin, begin + n) of the batch. Gathering in the chunk task spreads that
    /// work across the threads too.
    template <class Gather>
    Result run(Net& net, Index batch, const Gather& gather) {
        const auto chunks = static_cast<std::size_t>((batch + chunk_ - 1) / chunk_);
        if (work_.size() < chunks) work_.resize(chunks);
        T* const net_grad = net.gradients().data();
        const T scale = T(1) / static_cast<T>(batch);
        const Net& model = net;

        auto task = [&](std::size_t k) {
            Chunk& c = work_[k];
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

        Result r{work_[0].loss_sum, work_[0].correct, work_[0].ws.nonfinite_layer};
        Eigen::Map<Vector<T>> grad(net_grad, Net::parameter_count);
        for (std::size_t k = 1; k < chunks; ++k) {
            grad += work_[k].grad;
            r.loss_sum += work_[k].loss_sum;
            r.correct += work_[k].correct;
            const int bad = work_[k].ws.nonfinite_layer;
            if (bad >= 0 && (r.nonfinite_layer < 0 || bad < r.nonfinite_layer)) r.nonfinite_layer = bad;
        }
        return r;
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
    ThreadPool pool_;
    Index chunk_;
    bool check_finite_;
    std::vector<Chunk> work_;
};

}  // namespace scratchnet::detail
