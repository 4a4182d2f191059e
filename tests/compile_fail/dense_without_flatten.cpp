// Must not compile: a Dense layer straight after a convolution: Flatten is missing.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<1, 8, 8>, sn::Conv2D<1, 2, 3>, sn::ReLU, sn::Dense<72, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
