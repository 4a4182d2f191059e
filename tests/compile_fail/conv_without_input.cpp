// Must not compile: a convolution with no Input<C, H, W> to say the image's shape.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Conv2D<1, 4, 3>, sn::ReLU, sn::Flatten, sn::Dense<2704, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
