// Must not compile: a multi-label network (several Sigmoid outputs with
// BinaryCrossEntropy) trains on a 0/1 target matrix; Labels name one class per
// sample and would be read as something they are not.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<2, 3>, sn::Sigmoid, sn::BinaryCrossEntropy> net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(2, 4);
    const sn::Labels y = sn::Labels::Zero(4);
    sn::SGD sgd{0.1f};
    return static_cast<int>(sn::fit(net, sgd, X, y).size());
}
