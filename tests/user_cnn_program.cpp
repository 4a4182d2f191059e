// A user's convolutional network as clang builds it at -O1 under AddressSanitizer
// and UndefinedBehaviorSanitizer, where its vectoriser declines loops the kernels
// hint at: built by a CTest test with -Werror, it must compile without a warning.
#include <scratchnet/scratchnet.hpp>
namespace sn = scratchnet;
int main() {
    using Cnn = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 8, 3>, sn::ReLU, sn::Conv2D<8, 16, 3>, sn::Flatten,
                            sn::Dense<9216, 2>, sn::Softmax, sn::CrossEntropy>;
    Cnn net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 32);
    const sn::Labels y = sn::Labels::Zero(32);
    sn::SGD sgd{0.1f};
    return sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 16, .seed = 1}).empty() ? 1 : 0;
}
