// A user's own program, as the README's reader writes it: built by a CTest test
// with plain -I paths and -Wall -Wextra -Wpedantic -Werror, with and without
// -march flags, it must compile without a warning.
#include <scratchnet/scratchnet.hpp>
#include <iostream>
namespace sn = scratchnet;
int main() {
    using Net = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    Net net(42);
    sn::Matrix<float> X = sn::Matrix<float>::Random(784, 256);
    sn::Labels y = sn::Labels::Zero(256);
    sn::SGD sgd{0.1f};
    auto h = sn::fit(net, sgd, X, y, {.epochs = 1, .batch_size = 128, .seed = 1});
    std::cout << h.back().loss << " " << sn::accuracy(net, X, y) << "\n";
}
