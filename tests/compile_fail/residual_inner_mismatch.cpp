// Must not compile: inside the block, Conv2D<8, 16, ...> meets the block's input
// of 16 channels; the message names the layer and both channel counts, and the
// lines after it name the Residual block it sits in.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<16, 8, 8>, sn::Residual<sn::Conv2D<8, 16, 3, 1, 1>, sn::ReLU>, sn::GlobalAvgPool2D,
                sn::Dense<16, 2>, sn::Softmax, sn::CrossEntropy>
        net(1);
    return static_cast<int>(net.parameters().size());
}
