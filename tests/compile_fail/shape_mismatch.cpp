// Must not compile: the second Dense expects 64 inputs, the first gives 128.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<64, 10>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameter_count);
}
