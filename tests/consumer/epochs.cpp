// One training epoch of three networks on one thread, as a program that links
// scratchnet times it: the course network, LeNet-5 and Keras' mnist_cnn (3 x 3
// convolutions, pooling, Dropout). Built by this consumer project with its own
// default flags (consumer_epochs) and by scratchnet's build twice, with plain
// Release flags (benchmark_epochs_consumer) and with -march=native
// (benchmark_epochs_native). compare_speed.sh and the benchmark run two builds in
// turn and report the ratios. Prints "<network> <seconds>" lines: the second of
// two epochs, the convolutional networks' timed on a part of the data and scaled
// to 60,000 samples.
#include <scratchnet/scratchnet.hpp>

#include <cstdio>
#include <exception>

namespace sn = scratchnet;

namespace {

template <class Net, class Optimizer>
double second_epoch(const sn::MnistSet<sn::ByteMatrix>& data, sn::Index samples, Optimizer optimizer) {
    Net net(1);
    const sn::ByteMatrix X = data.train.images.leftCols(samples);
    const sn::Labels y = data.train.labels.head(samples);
    const sn::History h = sn::fit(net, optimizer, X, y, {.epochs = 2, .batch_size = 128, .seed = 1, .threads = 1});
    return h.back().seconds * 60000.0 / static_cast<double>(samples);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MNIST_DIR\n", argv[0]);
        return 2;
    }
    try {
        using Course = sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>;
        using LeNet = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                                  sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                                  sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>, sn::Softmax,
                                  sn::CrossEntropy>;
        const auto data = sn::load_mnist_bytes(argv[1]);
        std::printf("course %.6f\n", second_epoch<Course>(data, data.train.images.cols(), sn::SGD(0.01f)));
        std::printf("lenet %.6f\n", second_epoch<LeNet>(data, 7680, sn::Adam(1e-3f)));
#ifdef SCRATCHNET_HAS_DOUBLE_TEMPLATE_ARGS  // Dropout<0.25> (activations.hpp)
        using MnistCnn = sn::Network<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>,
                                     sn::ReLU, sn::MaxPool2D<2>, sn::Dropout<0.25>, sn::Flatten,
                                     sn::Dense<9216, 128>, sn::ReLU, sn::Dropout<0.5>, sn::Dense<128, 10>,
                                     sn::Softmax, sn::CrossEntropy>;
        std::printf("mnist_cnn %.6f\n", second_epoch<MnistCnn>(data, 1280, sn::Adam(1e-3f)));
#endif
        std::printf("isa %s\n", sn::isa_name(sn::active_isa()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
