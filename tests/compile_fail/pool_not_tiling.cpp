// Must not compile: 2 x 2 windows moved by 2 leave the last row of a 13 x 13 image out.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<1, 15, 15>, sn::Conv2D<1, 4, 3>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<144, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
