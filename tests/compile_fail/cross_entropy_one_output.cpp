// Must not compile: a classification loss over one output has a single class, so
// every sample would be judged class 0. A yes/no answer is Sigmoid +
// BinaryCrossEntropy.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<2, 1>, sn::Softmax, sn::CrossEntropy> net(1);
    return static_cast<int>(net.parameters().size());
}
