// Numerical gradient checking: back-propagation against centred differences, in
// double, for networks of depth 1 to 4 and every loss. The course asks for a
// relative error below 1e-5; scratchnet's own target is 1e-7.
#include <scratchnet/scratchnet.hpp>

#include <iostream>

namespace sn = scratchnet;

namespace {
template <class Net>
bool check(bool one_hot) {
    const Net net(7);
    const Eigen::MatrixXd X = Eigen::MatrixXd::Random(Net::input_size, 8);
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(Net::output_size, 8);
    if (one_hot)
        for (int j = 0; j < 8; ++j) Y(j % Net::output_size, j) = 1;
    else
        Y = (Eigen::MatrixXd::Random(Net::output_size, 8).array() * 0.5 + 0.5).matrix();
    const auto report = sn::gradient_check(net, X, Y);
    std::cout << Net::architecture() << "\n  " << report << "\n";
    return static_cast<bool>(report);
}
template <class... P>
using D = sn::BasicNetwork<double, P...>;
}  // namespace

int main() {
    bool ok = true;
    ok &= check<D<sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy>>(true);
    ok &= check<D<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>>(true);
    ok &= check<D<sn::Dense<3, 5>, sn::Sigmoid, sn::Dense<5, 2>, sn::Sigmoid, sn::BinaryCrossEntropy>>(false);
    ok &= check<D<sn::Dense<3, 6>, sn::ReLU, sn::Dense<6, 5>, sn::Tanh, sn::Dense<5, 3>, sn::Identity,
                  sn::MeanSquaredError>>(false);
    ok &= check<D<sn::Dense<2, 8>, sn::Tanh, sn::Dense<8, 8>, sn::ReLU, sn::Dense<8, 8>, sn::Sigmoid, sn::Dense<8, 3>,
                  sn::Softmax, sn::CrossEntropy>>(true);
    // The course's network, in float: checked through a double copy, on a sample.
    using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
    const Course course(42);
    const Eigen::MatrixXf X = (Eigen::MatrixXf::Random(784, 4).array() * 0.5f + 0.5f).matrix();
    Eigen::MatrixXf Y = Eigen::MatrixXf::Zero(10, 4);
    for (int j = 0; j < 4; ++j) Y(2 * j, j) = 1;
    const auto report = sn::gradient_check(course, X, Y, {.sample = 2000, .seed = 1});
    std::cout << Course::architecture() << " (float, 2000 sampled parameters)\n  " << report << "\n";
    ok &= static_cast<bool>(report);
    std::cout << (ok ? "all gradients agree\n" : "GRADIENT MISMATCH\n");
    return ok ? 0 : 1;
}
