#pragma once
// Dense<In, Out>: the fully connected layer Z = W X + b, W is Out x In, b has Out rows.
//
// Written in a network as the spec `Dense<In, Out>`; the network turns it into the
// concrete layer `Dense<In, Out, T>` for its scalar type. The concrete layer holds
// no storage of its own: W and b are views into the network's flat parameter
// buffer (W column-major, then b), so optimizers, serialization and gradient
// checking each see one vector.

#include "scratchnet/core.hpp"
#include "scratchnet/layers/affine_parameters.hpp"
#include "scratchnet/kernels/gemm.hpp"
#include "scratchnet/layer.hpp"

#include <string>

namespace scratchnet {

template <Index In, Index Out, class T = void>
class Dense;

/// The spec written in Network<...>: sizes only.
template <Index In, Index Out>
class Dense<In, Out, void> {
    static_assert(In > 0 && Out > 0, "scratchnet::Dense<In, Out>: both sizes must be positive");

public:
    static constexpr Index inputs = In;
    static constexpr Index outputs = Out;
    static constexpr Index parameter_count = In * Out + Out;
    template <class U>
    using bind = Dense<In, Out, U>;
    static std::string name() { return "Dense<" + std::to_string(In) + "," + std::to_string(Out) + ">"; }
};

/// The concrete layer for scalar T, as returned by `network.layer<I>()`: weights()
/// (Out x In) and bias() are views into the network's parameters.
template <Index In, Index Out, class T>
class Dense : public Dense<In, Out, void>, public detail::AffineParameters<T, Out, In> {
    using Parameters = detail::AffineParameters<T, Out, In>;
    using Parameters::bias_;
    using Parameters::weights_;

public:
    using typename Parameters::BiasView;
    using typename Parameters::WeightsView;

    /// He or Glorot with fan-in In and fan-out Out (see AffineParameters).
    void initialize(Rng& rng, Init init) { Parameters::initialize(rng, init, In, Out); }

    /// PyTorch's nn.Linear: weight [Out, In], bias [Out] (tensors.hpp).
    static std::vector<TensorLayout> tensors() { return detail::affine_tensors({Out, In}); }

    // The row split (layer.hpp): rows [r0, r1) of forward() and of backward()'s
    // parameter gradient, for a scheduler that gives each thread some rows (each
    // thread then reads and updates only its rows of W). A row of the result does
    // not depend on how the rows are cut where the GEMM site promises it
    // (GemmSite::rows_split_exactly); db sums each row over the batch in column order.

    /// The products of one block of rows.
    struct RowScratch {
        detail::GemmSite<T, Eigen::ColMajor, Eigen::ColMajor> wx;   // W X
        detail::GemmSite<T, Eigen::ColMajor, Eigen::RowMajor> dzx;  // dZ X^T
    };

    /// Z(r0:r1, :) = W(r0:r1, :) X + b(r0:r1).
    template <class D>
    void forward_rows(const Eigen::MatrixBase<D>& X, Matrix<T>& Z, Index r0, Index r1, RowScratch& s) const {
        for (Index j = 0; j < X.cols(); ++j) Z.col(j).segment(r0, r1 - r0) = bias_.segment(r0, r1 - r0);
        s.wx.run(r1 - r0, X.cols(), In, weights_.data() + r0, Out, X.derived().data(), X.derived().outerStride(),
                 Z.data() + r0, Out);
    }

    /// dW(r0:r1, :) = dZ(r0:r1, :) X^T and db(r0:r1) = dZ(r0:r1, :) 1, into grad
    /// (laid out as the parameters).
    template <class D>
    void weight_gradient_rows(const Eigen::MatrixBase<D>& X, const Matrix<T>& dZ, T* grad, Index r0, Index r1,
                              RowScratch& s) const {
        s.dzx.run(r1 - r0, In, dZ.cols(), dZ.data() + r0, Out, X.derived().data(), X.derived().outerStride(),
                  grad + r0, Out, T(1), false);
        Eigen::Map<Vector<T>> db(grad + In * Out + r0, r1 - r0);
        db = dZ.col(0).segment(r0, r1 - r0);
        for (Index j = 1; j < dZ.cols(); ++j) db += dZ.col(j).segment(r0, r1 - r0);
    }

    /// Rows [r0, r1) own W(r0:r1, :), a run in each column of W, and b(r0:r1).
    template <class F>
    static void for_each_row_parameter_range(Index r0, Index r1, F f) {
        if (r0 == 0 && r1 == Out) {
            f(Index{0}, In * Out + Out);
            return;
        }
        for (Index c = 0; c < In; ++c) f(c * Out + r0, c * Out + r1);
        f(In * Out + r0, In * Out + r1);
    }

    /// What one pass through this layer needs besides its input and output: the
    /// packing buffers of its three products (see kernels/gemm.hpp).
    struct Scratch {
        detail::GemmSite<T, Eigen::ColMajor, Eigen::ColMajor> wx;   // W X
        detail::GemmSite<T, Eigen::ColMajor, Eigen::RowMajor> dzx;  // dZ X^T
        detail::GemmSite<T, Eigen::RowMajor, Eigen::ColMajor> wdz;  // W^T dZ
    };

    /// Z = W X + b for a batch X (In x B, contiguous columns); Z is sized by the
    /// caller. Z starts as b in every column and the product is added to it, so
    /// the bias costs no extra pass.
    template <class D>
    void forward(const Eigen::MatrixBase<D>& X, Matrix<T>& Z, Scratch& s, const Pass& = {}) const {
        Z.colwise() = bias_;
        s.wx.run(Out, X.cols(), In, weights_.data(), Out, X.derived().data(), X.derived().outerStride(), Z.data(),
                 Out);
    }

    /// From dZ = dL/dZ (Out x B):  dW = dZ X^T,  db = dZ 1,  dX = W^T dZ.
    /// Writes dW and db into `grad` (same layout as the parameters); dX only when
    /// asked (the first layer's input needs no gradient).
    template <class D>
    void backward(const Eigen::MatrixBase<D>& X, const Matrix<T>& dZ, Matrix<T>* dX, T* grad, Scratch& s,
                  const Pass& = {}) const {
        WeightsView dW(grad, Out, In);
        BiasView db(grad + In * Out, Out);
        const Index batch = dZ.cols();
        const bool accumulate = false;  // overwrite: no pass to zero them first
        s.dzx.run(Out, In, batch, dZ.data(), Out, X.derived().data(), X.derived().outerStride(), dW.data(), Out, T(1),
                  accumulate);
        db.noalias() = dZ.rowwise().sum();
        if (dX != nullptr)
            s.wdz.run(In, batch, Out, weights_.data(), Out, dZ.data(), Out, dX->data(), In, T(1), accumulate);
    }

};

}  // namespace scratchnet
