// The layout of scratchnet's types as one translation unit sees them. Compiled
// into two files of one program with different -march flags (layout_portable.cpp
// and layout_avx512.cpp): the types must agree, or the program breaks the
// one-definition rule (a Workspace of one size passed to code expecting another).
#include <scratchnet/layers/activations.hpp>
#include <scratchnet/layers/dense.hpp>
#include <scratchnet/network.hpp>
#include <scratchnet/training.hpp>

#include <array>
#include <cstddef>

namespace layout {
using Course = scratchnet::Network<scratchnet::Dense<784, 128>, scratchnet::ReLU, scratchnet::Dense<128, 10>,
                                   scratchnet::Softmax, scratchnet::CrossEntropy>;
static std::array<std::size_t, 5> sizes() {  // static: each file keeps its own copy
    return {sizeof(scratchnet::detail::GemmSite<float, Eigen::ColMajor, Eigen::ColMajor>),
            sizeof(scratchnet::detail::GemmSite<double, Eigen::ColMajor, Eigen::RowMajor>), sizeof(Course),
            sizeof(Course::Workspace), sizeof(scratchnet::detail::BatchGradient<Course>)};
}
std::array<std::size_t, 5> portable();
std::array<std::size_t, 5> avx512();
}  // namespace layout
