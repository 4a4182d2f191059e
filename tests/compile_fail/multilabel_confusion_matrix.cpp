// Must not compile: a multi-label network gives several yes/no answers per sample,
// so there is no single confusion matrix of classes.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<2, 3>, sn::Sigmoid, sn::BinaryCrossEntropy> net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(2, 4);
    const sn::Labels y = sn::Labels::Zero(4);
    return sn::confusion_matrix(net, X, y)(0, 0);
}
