// Must not compile: the convolution expects 3 channels, the image has 1.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<3, 8, 3>, sn::ReLU, sn::Flatten, sn::Dense<5408, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
