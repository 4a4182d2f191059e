// Must not compile: Flatten gives 16 x 5 x 5 = 400 features, the Dense expects 256.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 16, 5>, sn::MaxPool2D<2>, sn::MaxPool2D<2, 2>, sn::Conv2D<16, 16, 2>, sn::Flatten, sn::Dense<256, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
