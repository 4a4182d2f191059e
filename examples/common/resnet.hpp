#pragma once
// The README's residual network for 28 x 28 images, shared by the mnist example
// (--model resnet) and the benchmark, which also times it without its BatchNorm
// layers to measure what they cost. Tail... is what follows the last Dense
// (Softmax, CrossEntropy).
//
// ResNet28<C>: three stages of C, 2C and 4C channels at 28 x 28, 14 x 14 and
// 7 x 7: a 3 x 3 convolution, then one block per stage, each stage after the first
// entered by a block that halves the image (a 4 x 4 convolution, stride 2, on the
// main path; a 2 x 2 one on the shortcut), then global average pooling and
// Dense<4C, 10>.

#include <scratchnet/scratchnet.hpp>

namespace examples {

namespace sn = scratchnet;

template <sn::Index C, class... Tail>
using ResNet28 =
    sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, C, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                sn::Residual<sn::Conv2D<C, C, 3, 1, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<C, C, 3, 1, 1>, sn::BatchNorm>,
                sn::ReLU,
                sn::Residual<sn::Conv2D<C, 2 * C, 4, 2, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<2 * C, 2 * C, 3, 1, 1>,
                             sn::BatchNorm, sn::Shortcut<sn::Conv2D<C, 2 * C, 2, 2>, sn::BatchNorm>>,
                sn::ReLU,
                sn::Residual<sn::Conv2D<2 * C, 2 * C, 3, 1, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<2 * C, 2 * C, 3, 1, 1>,
                             sn::BatchNorm>,
                sn::ReLU,
                sn::Residual<sn::Conv2D<2 * C, 4 * C, 4, 2, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<4 * C, 4 * C, 3, 1, 1>,
                             sn::BatchNorm, sn::Shortcut<sn::Conv2D<2 * C, 4 * C, 2, 2>, sn::BatchNorm>>,
                sn::ReLU,
                sn::Residual<sn::Conv2D<4 * C, 4 * C, 3, 1, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<4 * C, 4 * C, 3, 1, 1>,
                             sn::BatchNorm>,
                sn::ReLU, sn::GlobalAvgPool2D, sn::Dense<4 * C, 10>, Tail...>;

/// The README's network (--model resnet): 16, 32 and 64 channels.
template <class... Tail>
using MnistResNet = ResNet28<16, Tail...>;

/// The same family half as wide again (24, 48 and 96 channels; --model resnet-wide).
template <class... Tail>
using WideResNet = ResNet28<24, Tail...>;

/// MnistResNet with every BatchNorm taken out.
template <class... Tail>
using MnistResNetWithoutBatchNorm =
    sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 16, 3, 1, 1>, sn::ReLU,
                sn::Residual<sn::Conv2D<16, 16, 3, 1, 1>, sn::ReLU, sn::Conv2D<16, 16, 3, 1, 1>>, sn::ReLU,
                sn::Residual<sn::Conv2D<16, 32, 4, 2, 1>, sn::ReLU, sn::Conv2D<32, 32, 3, 1, 1>,
                             sn::Shortcut<sn::Conv2D<16, 32, 2, 2>>>,
                sn::ReLU, sn::Residual<sn::Conv2D<32, 32, 3, 1, 1>, sn::ReLU, sn::Conv2D<32, 32, 3, 1, 1>>, sn::ReLU,
                sn::Residual<sn::Conv2D<32, 64, 4, 2, 1>, sn::ReLU, sn::Conv2D<64, 64, 3, 1, 1>,
                             sn::Shortcut<sn::Conv2D<32, 64, 2, 2>>>,
                sn::ReLU, sn::Residual<sn::Conv2D<64, 64, 3, 1, 1>, sn::ReLU, sn::Conv2D<64, 64, 3, 1, 1>>, sn::ReLU,
                sn::GlobalAvgPool2D, sn::Dense<64, 10>, Tail...>;

}  // namespace examples
