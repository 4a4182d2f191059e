#pragma once
// The baseline the library's dense epochs are timed against: a plain hand-written
// Eigen training loop for an MLP with ReLU hidden layers, softmax output and
// cross-entropy, SGD. Everything preallocated, every product noalias(), batches
// gathered from bytes like fit() does.
#include "benchmark/benchmark.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace bench {

class HandMlp {
public:
    HandMlp(const std::vector<int>& sizes, int batch) : sizes_(sizes) {
        const std::size_t L = sizes.size() - 1;
        W_.resize(L), b_.resize(L), dW_.resize(L), db_.resize(L), A_.resize(L + 1), D_.resize(L + 1);
        for (std::size_t l = 0; l < L; ++l) {
            W_[l] = Eigen::MatrixXf::Random(sizes[l + 1], sizes[l]) * std::sqrt(2.0f / static_cast<float>(sizes[l]));
            b_[l] = Eigen::VectorXf::Zero(sizes[l + 1]);
            dW_[l].resize(sizes[l + 1], sizes[l]);
            db_[l].resize(sizes[l + 1]);
        }
        for (std::size_t l = 0; l <= L; ++l) {
            A_[l].resize(sizes[l], batch);
            D_[l].resize(sizes[l], batch);
        }
    }

    void epoch(const sn::ByteMatrix& X, const sn::Labels& y, const std::vector<sn::Index>& order, int batch, float lr) {
        const auto n = static_cast<sn::Index>(order.size());
        const std::size_t L = W_.size();
        for (sn::Index begin = 0; begin < n; begin += batch) {
            const sn::Index m = std::min<sn::Index>(batch, n - begin);
            for (std::size_t l = 0; l <= L; ++l) {
                A_[l].resize(sizes_[l], m);
                D_[l].resize(sizes_[l], m);
            }
            for (sn::Index j = 0; j < m; ++j) A_[0].col(j) = X.col(order[begin + j]).cast<float>() * (1.0f / 255.0f);
            for (std::size_t l = 0; l < L; ++l) {
                A_[l + 1].noalias() = W_[l] * A_[l];
                A_[l + 1].colwise() += b_[l];
                if (l + 1 < L) A_[l + 1] = A_[l + 1].cwiseMax(0.0f);
            }
            Eigen::MatrixXf& P = A_[L];
            for (sn::Index j = 0; j < m; ++j) {
                P.col(j).array() = (P.col(j).array() - P.col(j).maxCoeff()).exp();
                P.col(j) /= P.col(j).sum();
            }
            D_[L] = P;
            for (sn::Index j = 0; j < m; ++j) D_[L](y[order[begin + j]], j) -= 1.0f;
            D_[L] *= 1.0f / static_cast<float>(m);
            for (std::size_t l = L; l-- > 0;) {
                dW_[l].noalias() = D_[l + 1] * A_[l].transpose();
                db_[l].noalias() = D_[l + 1].rowwise().sum();
                if (l > 0) {
                    D_[l].noalias() = W_[l].transpose() * D_[l + 1];
                    D_[l] = (A_[l].array() > 0.0f).select(D_[l], 0.0f);
                }
            }
            for (std::size_t l = 0; l < L; ++l) {
                W_[l].noalias() -= lr * dW_[l];
                b_[l].noalias() -= lr * db_[l];
            }
        }
    }

private:
    std::vector<int> sizes_;
    std::vector<Eigen::MatrixXf> W_, dW_, A_, D_;
    std::vector<Eigen::VectorXf> b_, db_;
};

}  // namespace bench
