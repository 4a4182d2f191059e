// Must not compile: ValidationData holds its data by reference, and the Labels
// built in place would be destroyed before fit() reads them.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<2, 2>, sn::Softmax, sn::CrossEntropy> net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(2, 4);
    const sn::Labels y = sn::Labels::Zero(4);
    const sn::ValidationData val(X, sn::Labels(y.head(4)));
    sn::SGD sgd{0.1f};
    return static_cast<int>(sn::fit(net, sgd, X, y, val).size());
}
