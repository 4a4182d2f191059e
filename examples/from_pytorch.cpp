// Weights from PyTorch and back: LeNet-5 trained in PyTorch (from_pytorch.py
// train) is read into the same network type, must predict the same class as
// PyTorch for every test image, is fine-tuned for one epoch here and written back
// for PyTorch (from_pytorch.py check).
//
//     /usr/bin/python3 examples/from_pytorch.py train --out DIR
//     from_pytorch --dir DIR                       (exit 1 if one prediction differs)
//     /usr/bin/python3 examples/from_pytorch.py check --out DIR
#include <scratchnet/scratchnet.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace sn = scratchnet;
namespace fs = std::filesystem;

// Module for module the nn.Sequential of from_pytorch.py: the state_dict names
// ("0.weight", "3.weight", "7.weight", ...) are the positions of these layers.
using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                          sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>, sn::ReLU,
                          sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax, sn::CrossEntropy>;

int main(int argc, char** argv) {
    fs::path data = SCRATCHNET_DEFAULT_MNIST_DIR;
    if (const char* env = std::getenv("SCRATCHNET_MNIST_DIR"); env != nullptr && *env != '\0') data = env;
    fs::path dir;
    CLI::App app{"LeNet-5 from PyTorch: same predictions, one epoch of fine-tuning, and back"};
    app.add_option("--data", data, "MNIST directory")->capture_default_str();
    app.add_option("--dir", dir, "where from_pytorch.py train wrote lenet.safetensors and lenet.predictions")->required();
    CLI11_PARSE(app, argc, argv);
    try {
        const auto mnist = sn::load_mnist(data);
        LeNet net(1);
        sn::load_safetensors(net, dir / "lenet.safetensors");

        std::ifstream in(dir / "lenet.predictions", std::ios::binary);
        const std::vector<char> theirs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const sn::Labels ours = net.predict(mnist.test.images);
        if (static_cast<sn::Index>(theirs.size()) != ours.size())
            throw std::runtime_error((dir / "lenet.predictions").string() + ": " + std::to_string(theirs.size()) +
                                     " predictions for " + std::to_string(ours.size()) + " test images");
        sn::Index differ = 0, correct = 0, pytorch_correct = 0;
        for (sn::Index i = 0; i < ours.size(); ++i) {
            differ += ours[i] != theirs[static_cast<std::size_t>(i)] ? 1 : 0;
            correct += ours[i] == mnist.test.labels[i] ? 1 : 0;
            pytorch_correct += theirs[static_cast<std::size_t>(i)] == mnist.test.labels[i] ? 1 : 0;
        }
        const auto percent = [&](sn::Index n) { return 100.0 * static_cast<double>(n) / static_cast<double>(ours.size()); };
        std::cout << std::fixed << std::setprecision(2) << "PyTorch's LeNet-5: test accuracy " << percent(pytorch_correct)
                  << " % in PyTorch, " << percent(correct) << " % in scratchnet (" << correct << " of " << ours.size()
                  << "); predictions that differ: " << differ << "\n";

        sn::Adam adam(1e-3f);
        sn::fit(net, adam, mnist.train.images, mnist.train.labels, {.epochs = 1, .batch_size = 128, .seed = 1});
        const sn::Evaluation e = sn::evaluate(net, mnist.test.images, mnist.test.labels);
        sn::save_safetensors(net, dir / "lenet.finetuned.safetensors");
        std::cout << "fine-tuned one epoch in scratchnet: test accuracy " << 100 * e.accuracy << " %; wrote "
                  << (dir / "lenet.finetuned.safetensors").string() << "\n";
        return differ == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
