// Must not compile: a 7 x 7 kernel on a 5 x 5 image (after a 4 x 4 pool of 20 x 20).
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<1, 20, 20>, sn::MaxPool2D<4>, sn::Conv2D<1, 4, 7>, sn::Flatten, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
