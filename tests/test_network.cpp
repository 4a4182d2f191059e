#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include <stdexcept>
#include <type_traits>

namespace sn = scratchnet;
using doctest::Approx;

using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;

TEST_CASE("the course network's forward pass: shapes and probabilities that sum to 1") {
    Course net(42);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 16).cwiseAbs();
    const sn::Matrix<float>& P = net.forward(X);
    REQUIRE(P.rows() == 10);
    REQUIRE(P.cols() == 16);
    CHECK((P.colwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);
    CHECK(P.minCoeff() >= 0.0f);
    CHECK(Course::parameter_count == 784 * 128 + 128 + 128 * 10 + 10);
    CHECK(Course::input_size == 784);
    CHECK(Course::output_size == 10);
    static_assert(std::is_same_v<Course::Scalar, float>);
}

TEST_CASE("forward equals the hand-written maths of the same parameters") {
    Course net(7);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 5);
    const auto& W1 = net.layer<0>().weights();
    const auto& b1 = net.layer<0>().bias();
    const auto& W2 = net.layer<2>().weights();
    const auto& b2 = net.layer<2>().bias();
    const Eigen::MatrixXd H = ((W1.cast<double>() * X.cast<double>()).colwise() + b1.cast<double>()).cwiseMax(0.0);
    const Eigen::MatrixXd Z = (W2.cast<double>() * H).colwise() + b2.cast<double>();
    const Eigen::MatrixXd P = sn::softmax(Z);
    CHECK((net.forward(X).cast<double>() - P).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("loss is the mean cross-entropy and predict is the argmax") {
    Course net(1);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 4);
    sn::Matrix<float> Y = sn::Matrix<float>::Zero(10, 4);
    Y(3, 0) = Y(1, 1) = Y(7, 2) = Y(0, 3) = 1;
    const float L = net.loss(X, Y);
    const sn::Matrix<float> P = net.forward(X);
    const float by_hand = -(std::log(P(3, 0)) + std::log(P(1, 1)) + std::log(P(7, 2)) + std::log(P(0, 3))) / 4;
    CHECK(L == Approx(by_hand).epsilon(1e-5));
    const Eigen::VectorXi yhat = net.predict(X);
    REQUIRE(yhat.size() == 4);
    for (int j = 0; j < 4; ++j) {
        Eigen::Index k = 0;
        P.col(j).maxCoeff(&k);
        CHECK(yhat[j] == k);
    }
}

TEST_CASE("a network of any depth: the issue's four-Dense network trains and checks") {
    using Deep = sn::BasicNetwork<double, sn::Dense<2, 8>, sn::Tanh, sn::Dense<8, 8>, sn::ReLU, sn::Dense<8, 8>,
                                  sn::Sigmoid, sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    Deep net(11);
    Eigen::MatrixXd X = Eigen::MatrixXd::Random(2, 9);
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(3, 9);
    for (int j = 0; j < 9; ++j) Y(j % 3, j) = 1;
    CHECK(net.forward(X).rows() == 3);
    CHECK(Deep::depth == 8);
    CHECK(Deep::architecture() == "Dense<2,8>,Tanh,Dense<8,8>,ReLU,Dense<8,8>,Sigmoid,Dense<8,3>,Softmax,CrossEntropy");
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(report, report);
}

TEST_CASE("backward fills gradients() with the gradient of the mean loss") {
    // One Dense + Softmax + CrossEntropy: dL/dW = (P - Y) X^T / B, dL/db = mean(P - Y).
    sn::BasicNetwork<double, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy> net(2);
    Eigen::MatrixXd X(3, 2);
    X << 1, -1, 0.5, 2, -0.3, 0.1;
    Eigen::MatrixXd Y(2, 2);
    Y << 1, 0, 0, 1;
    net.loss(X, Y);
    net.backward(Y);
    const Eigen::MatrixXd P = net.forward(X);
    const Eigen::MatrixXd dW = (P - Y) * X.transpose() / 2.0;
    const Eigen::VectorXd db = (P - Y).rowwise().mean();
    const auto g = net.gradients();
    CHECK((Eigen::Map<const Eigen::MatrixXd>(g.data(), 2, 3) - dW).norm() < 1e-14);
    CHECK((g.tail(2) - db).norm() < 1e-14);
}

TEST_CASE("bad arguments throw with a message naming what is wrong") {
    Course net(1);
    const sn::Matrix<float> wrong_rows = sn::Matrix<float>::Zero(783, 2);
    CHECK_THROWS_WITH_AS(net.forward(wrong_rows),
                         "scratchnet::Network::forward: X has 783 rows but the network takes 784 inputs (one sample "
                         "per column)",
                         std::invalid_argument);
    const sn::Matrix<float> empty(784, 0);
    CHECK_THROWS_AS(net.forward(empty), std::invalid_argument);
    const sn::Matrix<float> X = sn::Matrix<float>::Zero(784, 3);
    const sn::Matrix<float> Y = sn::Matrix<float>::Zero(10, 2);
    CHECK_THROWS_WITH_AS(net.loss(X, Y), "scratchnet::Network::loss: Y is 10 x 2 but the output for this batch is 10 x 3",
                         std::invalid_argument);
    Course fresh(1);
    CHECK_THROWS_AS(fresh.backward(Y), std::logic_error);
}

TEST_CASE("copies own their parameters: changing one leaves the other alone") {
    Course a(3);
    Course b = a;
    CHECK(a.parameters() == b.parameters());
    b.layer<0>().weights()(0, 0) += 1.0f;
    CHECK(a.parameters()[0] + 1.0f == b.parameters()[0]);
    Course c(9);
    c = a;
    CHECK(c.parameters() == a.parameters());
    c.parameters()[5] = 100.f;
    CHECK(a.parameters()[5] != 100.f);
}

TEST_CASE("stacked activations and an activation first still back-propagate correctly") {
    using Odd = sn::BasicNetwork<double, sn::Tanh, sn::Dense<3, 4>, sn::Sigmoid, sn::Tanh, sn::Dense<4, 2>,
                                 sn::Identity, sn::MeanSquaredError>;
    Odd net(4);
    const Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 5);
    const Eigen::MatrixXd Y = Eigen::MatrixXd::Random(2, 5);
    CHECK(Odd::input_size == 3);
    const auto report = sn::gradient_check(net, X, Y);
    CHECK_MESSAGE(report, report);
}

TEST_CASE("predict is the same from a const network with separate workspaces") {
    const Course net(5);
    const sn::Matrix<float> X = sn::Matrix<float>::Random(784, 33);
    Course::Workspace ws;
    Eigen::VectorXi a;
    net.predict(Course::Batch(X.data(), 784, 33), ws, a);
    CHECK(a == net.predict(X));
}
