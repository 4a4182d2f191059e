// Must not compile: forward() remembers its input for backward(), so a temporary
// (here the result of an expression) is refused.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy> net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(4, 3);
    return static_cast<int>(net.forward(X * 2.0f).sum());
}
