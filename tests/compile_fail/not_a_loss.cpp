// Must not compile: the network ends in a layer, not a loss.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<4, 4>, sn::ReLU, sn::Dense<4, 2>, sn::Softmax> net(1);
    return static_cast<int>(net.parameter_count);
}
