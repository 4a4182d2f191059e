// Must not compile: LeakyReLU's outputs can be negative, and it declares no
// gives_probabilities, so CrossEntropy (which takes logs) cannot follow it. No
// list of layers decides this: the trait does, for every layer alike.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<2, 3>, sn::LeakyReLU, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameters().size());
}
