#pragma once
// GlobalAvgPool2D: each channel of a C x H x W image averaged to one number, C x H x W -> C.
//   y_c = (1 / HW) sum_k x_{c,k},   dL/dx_{c,k} = dL/dy_c / HW.
// A sample's channel c is HW consecutive features (shape.hpp), so a column read as
// an HW x C matrix has one channel per column.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/shape.hpp"

#include <string>

namespace scratchnet {

namespace detail {
template <class T, Index C, Index H, Index W>
class GlobalAvgPoolLayer;
}

struct GlobalAvgPool2D {
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = 0;
    static constexpr Shape output_shape(Shape in) { return Shape{in.channels, 1, 1}; }
    template <class T, Index C, Index H, Index W>
    using bind_image = detail::GlobalAvgPoolLayer<T, C, H, W>;
    static std::string name() { return "GlobalAvgPool2D"; }
};

namespace detail {

template <class T, Index C, Index H, Index W>
class GlobalAvgPoolLayer : public GlobalAvgPool2D {
    static constexpr Index kArea = H * W;

public:
    void forward(const BatchView<T>& X, Matrix<T>& Y, NoScratch&, const Pass&) const {
        for (Index j = 0; j < X.cols(); ++j)
            Y.col(j) = (Eigen::Map<const Matrix<T>>(X.col(j).data(), kArea, C).colwise().sum() / T(kArea)).transpose();
    }
    void backward(const BatchView<T>&, const Matrix<T>& dY, Matrix<T>* dX, T*, NoScratch&, const Pass&) const {
        if (dX == nullptr) return;
        for (Index j = 0; j < dY.cols(); ++j)
            Eigen::Map<Matrix<T>>(dX->col(j).data(), kArea, C).rowwise() = dY.col(j).transpose() / T(kArea);
    }
};

}  // namespace detail
}  // namespace scratchnet
