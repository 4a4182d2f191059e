// Built with -march=native.
#include "train.hpp"

void odr::make_data(scratchnet::Matrix<float>& X, scratchnet::Labels& y) {
    scratchnet::Rng rng(9);
    X.resize(196, 2000);
    y.resize(2000);
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
        for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = static_cast<float>(scratchnet::detail::uniform01(rng));
        y[j] = static_cast<int>(j % 10);
        X(y[j], j) += 3.0f;  // class c: feature c stands out
    }
}

odr::Trained odr::train_native(const scratchnet::Matrix<float>& X, const scratchnet::Labels& y) { return train(X, y); }
