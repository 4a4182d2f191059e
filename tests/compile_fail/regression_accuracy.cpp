// Must not compile: a regression network (Identity output, MeanSquaredError) has
// no classes, so no accuracy; evaluate() gives its MSE, MAE and R^2.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    sn::Network<sn::Dense<1, 8>, sn::Tanh, sn::Dense<8, 1>, sn::Identity, sn::MeanSquaredError> net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Ones(1, 4);
    return static_cast<int>(sn::accuracy(net, X, X));
}
