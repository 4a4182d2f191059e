// The course's first step: one neuron, a = f(w . x + b), with each activation, and
// the activations with their derivatives at a few points.
#include <scratchnet/scratchnet.hpp>

#include <iomanip>
#include <iostream>

namespace sn = scratchnet;

int main() {
    Eigen::VectorXd w(3), x(3);
    w << 0.5, -1.0, 2.0;
    x << 1.0, 2.0, 0.25;
    const double b = 0.1;
    std::cout << std::fixed << std::setprecision(6);
    std::cout << "w = " << w.transpose() << ", b = " << b << ", x = " << x.transpose()
              << ", z = w.x + b = " << w.dot(x) + b << "\n";
    std::cout << "sigmoid neuron: " << sn::Neuron<sn::Sigmoid>(w, b).forward(x) << "\n";
    std::cout << "relu neuron:    " << sn::Neuron<sn::ReLU>(w, b).forward(x) << "\n";
    std::cout << "tanh neuron:    " << sn::Neuron<sn::Tanh>(w, b).forward(x) << "\n\n";

    std::cout << "      z   sigmoid  sigmoid'     relu    relu'     tanh    tanh'\n";
    for (double z : {-2.0, -0.5, 0.0, 0.5, 2.0})
        std::cout << std::setw(7) << z << std::setw(9) << sn::sigmoid(z) << std::setw(10) << sn::sigmoid_derivative(z)
                  << std::setw(9) << sn::relu(z) << std::setw(9) << sn::relu_derivative(z) << std::setw(9)
                  << sn::tanh(z) << std::setw(9) << sn::tanh_derivative(z) << "\n";

    Eigen::MatrixXd logits(3, 1);
    logits << 1000, 1001, 1002;
    std::cout << "\nsoftmax([1000, 1001, 1002]) = " << sn::softmax(logits).transpose() << " (sums to "
              << sn::softmax(logits).sum() << ")\n";
}
