// Uses the public contract of DESIGN.md from outside the repository.
#include <scratchnet/scratchnet.hpp>

#include <iostream>

namespace sn = scratchnet;

int main() {
    using Net = sn::Network<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;
    Net net(42);
    sn::Matrix<float> X(2, 4);
    X << 0, 0, 1, 1, 0, 1, 0, 1;
    sn::Matrix<float> Y(2, 4);
    Y << 1, 0, 0, 1, 0, 1, 1, 0;
    sn::SGD sgd{0.5f};
    sn::fit(net, sgd, X, Y, {.epochs = 1000, .batch_size = 4, .seed = 1});
    const float acc = static_cast<float>(sn::accuracy(net, X, Y));
    const auto report = sn::gradient_check(net, X, Y);
    std::cout << "consumer: accuracy " << acc << ", " << report << "\n";
    return acc == 1.0f && report ? 0 : 1;
}
