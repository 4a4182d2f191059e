// scratchnet's side of the safetensors proof against PyTorch (interop.py says the
// files). For each network: load PyTorch's float32 and float64 weights, match
// PyTorch's outputs on the same inputs (max relative difference <= 1e-5 in float,
// <= 1e-12 in double); then train a little, save, and write inputs and outputs
// for interop.py's check, which loads the file into PyTorch.
//
//     pytorch_interop DIR      exit 0: all matched; 1: a mismatch; 77: no files
//                              in DIR (interop.py write had no torch)
#include <scratchnet/scratchnet.hpp>

#include "common/resnet.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace sn = scratchnet;

namespace {

constexpr sn::Index kSamples = 16;

template <class... Layers>
using Classifier = sn::Network<Layers..., sn::Softmax, sn::CrossEntropy>;

using Mlp = Classifier<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>>;
using LeNet = Classifier<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                         sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>, sn::ReLU,
                         sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>>;
using MnistCnn = Classifier<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                            sn::MaxPool2D<2>, sn::Dropout<0.25>, sn::Flatten, sn::Dense<9216, 128>, sn::ReLU,
                            sn::Dropout<0.5>, sn::Dense<128, 10>>;
using ResNet = examples::MnistResNet<sn::Softmax, sn::CrossEntropy>;

/// rows x cols, column j the j-th of the file's cols records of rows doubles each.
sn::Matrix<double> read_doubles(const std::string& path, sn::Index rows, sn::Index cols) {
    std::ifstream in(path, std::ios::binary);
    sn::Matrix<double> m(rows, cols);
    in.read(reinterpret_cast<char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(double)));
    if (!in || in.peek() != std::char_traits<char>::eof())
        throw std::runtime_error(path + ": not " + std::to_string(m.size()) + " doubles");
    return m;
}

void write_doubles(const std::string& path, const sn::Matrix<double>& m) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(double)));
    if (!out) throw std::runtime_error(path + ": cannot write");
}

double max_relative_difference(const sn::Matrix<double>& got, const sn::Matrix<double>& expected) {
    double worst = 0;
    for (sn::Index k = 0; k < got.size(); ++k)
        worst = std::max(worst, std::abs(got(k) - expected(k)) / std::max(std::abs(expected(k)), 1e-30));
    return worst;
}

template <class Net>
bool check(const std::string& dir, const std::string& name, const std::string& suffix, double tolerance) {
    using T = typename Net::Scalar;
    const std::string base = dir + "/" + name;
    Net net(1);
    sn::load_safetensors(net, base + suffix + ".safetensors");
    const sn::Matrix<double> x = read_doubles(base + ".inputs", Net::input_size, kSamples);
    const sn::Matrix<double> expected = read_doubles(base + suffix + ".outputs", 10, kSamples);
    const sn::Matrix<double> got = net.predict_proba(x.cast<T>()).template cast<double>();
    const double difference = max_relative_difference(got, expected);
    const bool ok = difference <= tolerance;
    std::cout << name << suffix << ": PyTorch's weights, max relative difference " << difference << " (tolerance "
              << tolerance << ") " << (ok ? "ok" : "FAILED") << "\n";

    // The other way: a few steps of training move every parameter and running
    // statistic; interop.py check loads what this saves into PyTorch.
    sn::Rng rng(5);
    sn::Matrix<T> X(Net::input_size, 64);
    for (sn::Index k = 0; k < X.size(); ++k) X(k) = static_cast<T>(sn::detail::uniform(rng, 0.0, 1.0));
    sn::Labels y(64);
    for (sn::Index j = 0; j < 64; ++j) y[j] = static_cast<int>(j % 10);
    sn::Adam adam(1e-3f);
    sn::fit(net, adam, X, y, {.epochs = 2, .batch_size = 16, .seed = 3});
    const std::string out = base + ".scratchnet" + (sizeof(T) == 8 ? ".f64" : "");
    sn::save_safetensors(net, out + ".safetensors");
    sn::Matrix<double> x2(Net::input_size, kSamples);
    for (sn::Index k = 0; k < x2.size(); ++k) x2(k) = static_cast<double>(static_cast<T>(sn::detail::uniform(rng, 0.0, 1.0)));
    write_doubles(out + ".inputs", x2);
    write_doubles(out + ".outputs", net.predict_proba(x2.cast<T>()).template cast<double>());
    return ok;
}

template <class Net>
bool check_both(const std::string& dir, const std::string& name) {
    const bool f = check<Net>(dir, name, "", 1e-5);
    const bool d = check<typename Net::template rebind<double>>(dir, name, ".f64", 1e-12);
    return f && d;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: pytorch_interop DIR\n";
        return 2;
    }
    const std::string dir = argv[1];
    if (!std::ifstream(dir + "/mlp.safetensors")) {
        std::cout << "skipped: no " << dir << "/mlp.safetensors (interop.py write needs python3-torch)\n";
        return 77;
    }
    try {
        bool ok = check_both<Mlp>(dir, "mlp");
        ok = check_both<LeNet>(dir, "lenet") && ok;
        ok = check_both<MnistCnn>(dir, "mnist_cnn") && ok;
        ok = check_both<ResNet>(dir, "resnet") && ok;
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
