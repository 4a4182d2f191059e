#pragma once
// The work the convolutional suites divide by their times: multiply-adds x 2 per
// sample, counted for the products each layer actually runs.
#include "benchmark/benchmark.hpp"

namespace bench {

// Multiply-adds x 2 of one sample's training pass through a layer: forward, weight
// gradient, and (unless it is the first layer) input gradient.
inline double pass_flops(double forward_flops, bool first) { return forward_flops * (first ? 2.0 : 3.0); }
inline double conv_flops(int in_c, int out_c, int k, int out_h, int out_w, bool first) {
    return pass_flops(2.0 * out_c * out_h * out_w * in_c * k * k, first);
}
inline double dense_flops(int in, int out) { return pass_flops(2.0 * in * out, false); }
// mnist_cnn's second convolution runs Winograd's F(2x2, 3x3): 16 products over
// channels per 2 x 2 block of outputs (its first, with one input channel, im2col).
using MnistCnnConv2 = sn::Conv2D<32, 64, 3>::bind_image<float, 32, 26, 26>;
static_assert(MnistCnnConv2::winograd && !sn::Conv2D<1, 32, 3>::bind_image<float, 1, 28, 28>::winograd,
              "mnist_cnn's work below counts its second convolution as Winograd's, its first as im2col's");
inline double mnist_cnn_conv2_flops() {
    return pass_flops(2.0 * 16 * static_cast<double>(MnistCnnConv2::Winograd::kTiles) * 32 * 64, false);
}

}  // namespace bench
