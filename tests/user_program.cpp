// A user's own program, as the README's reader writes it: built by a CTest test
// with plain -I paths and -Wall -Wextra -Wpedantic -Werror, with and without
// -march flags, at -O1 and -O3, it must compile without a warning.
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

    // A convolutional network too: its shape names and its SIMD packet loops
    // (the Winograd transforms, ReLU) are code a user's build instantiates.
    using Cnn = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 8, 3>, sn::ReLU, sn::Conv2D<8, 16, 3>, sn::ReLU,
                            sn::MaxPool2D<2>, sn::Flatten, sn::Dense<2304, 10>, sn::Softmax, sn::CrossEntropy>;
    Cnn cnn(7);
    auto hc = sn::fit(cnn, sgd, X, y, {.epochs = 1, .batch_size = 128, .seed = 1});
    std::cout << Cnn::architecture() << " " << hc.back().loss << "\n";

    // Weight files for PyTorch, written and read back, a residual block with
    // BatchNorm among the layers.
    using Res = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                            sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::BatchNorm>, sn::GlobalAvgPool2D,
                            sn::Dense<4, 10>, sn::Softmax, sn::CrossEntropy>;
    Res res(3);
    sn::save_safetensors(res, "user_program.safetensors");
    sn::load_safetensors(res, "user_program.safetensors", {"conv", "bn", "block.conv", "block.bn", "fc"});
    std::cout << Res::tensors().size() << "\n";

    // Tables of one's own: a CSV file, a stratified split, scaling, a report;
    // bytes predicted as fit scales them.
    const sn::CsvTable table = sn::read_csv("user_program.csv", {.comment = '#'});
    sn::Matrix<float> F = table.numbers_except({"label"});
    const sn::CsvClasses classes = table.classes("label");
    auto [F_train, F_test, c_train, c_test] = sn::train_test_split(F, classes.labels, 0.5, 1);
    sn::Standardizer scale;
    F_train = scale.fit_transform(F_train);
    std::cout << Net::summary() << sn::classification_report(net, X, y) << F_test.cols() + c_test.size() << "\n";
    std::cout << net.predict(sn::ByteMatrix::Zero(784, 2)).sum() << "\n";
}
