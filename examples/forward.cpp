// The course's 2-layer network, 784-128-10 (ReLU, softmax), and its forward pass
// on a random batch: the shapes and probabilities that sum to 1.
#include <scratchnet/scratchnet.hpp>

#include <iostream>

namespace sn = scratchnet;

int main() {
    using Net = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    const Net net(42);
    std::cout << Net::architecture() << ": " << Net::parameter_count << " parameters\n";
    std::cout << "W1 " << net.layer<0>().weights().rows() << " x " << net.layer<0>().weights().cols() << ", b1 "
              << net.layer<0>().bias().size() << ", W2 " << net.layer<2>().weights().rows() << " x "
              << net.layer<2>().weights().cols() << ", b2 " << net.layer<2>().bias().size() << "\n";

    const sn::Matrix<float> X = (sn::Matrix<float>::Random(784, 8).array() * 0.5f + 0.5f).matrix();  // "pixels" in [0, 1]
    Net::Workspace ws;
    const sn::Matrix<float>& P = net.forward(Net::Batch(X.data(), X.rows(), X.cols()), ws);
    std::cout << "X " << X.rows() << " x " << X.cols() << " -> P " << P.rows() << " x " << P.cols() << "\n";
    std::cout << "column sums of P: " << P.colwise().sum() << "\n";
    std::cout << "predicted classes: " << net.predict(X).transpose() << "\n";
    const float worst = (P.colwise().sum().array() - 1.0f).abs().maxCoeff();
    std::cout << "largest deviation of a column sum from 1: " << worst << "\n";
    return worst < 1e-5f ? 0 : 1;
}
