// Must not compile: CrossEntropy takes the log of its predictions, and a Dense
// layer's outputs are scores that can be negative.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<4, 3>, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameters().size());
}
