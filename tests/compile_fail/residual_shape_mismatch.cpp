// Must not compile: the main path of this block halves the image and doubles the
// channels, while its shortcut (the input itself) keeps 4 x 7 x 7; the message
// names the block and both shapes. A Shortcut<Conv2D<4, 8, 1, 2>> would fix it.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Input<4, 7, 7>, sn::Residual<sn::Conv2D<4, 8, 3, 2, 1>, sn::ReLU>, sn::GlobalAvgPool2D,
                sn::Dense<8, 2>, sn::Softmax, sn::CrossEntropy>
        net(1);
    return static_cast<int>(net.parameters().size());
}
