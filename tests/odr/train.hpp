// One network type trained in two files of one program, one built with the
// project's flags and one with -march=native: the case that once broke the
// one-definition rule (types and heap alignment that changed with the flags).
#include <scratchnet/scratchnet.hpp>

namespace odr {

using Net = scratchnet::Network<scratchnet::Dense<196, 64>, scratchnet::ReLU, scratchnet::Dense<64, 10>,
                                scratchnet::Softmax, scratchnet::CrossEntropy>;

/// Inputs and labels, allocated in the native file (and freed in the other).
void make_data(scratchnet::Matrix<float>& X, scratchnet::Labels& y);

struct Trained {
    scratchnet::Vector<float> one_thread, two_threads;  // parameters after fit
    double accuracy = 0;
};

Trained train_plain(const scratchnet::Matrix<float>& X, const scratchnet::Labels& y);
Trained train_native(const scratchnet::Matrix<float>& X, const scratchnet::Labels& y);

/// What both files run: the same fit on 1 and 2 threads.
inline Trained train(const scratchnet::Matrix<float>& X, const scratchnet::Labels& y) {
    Trained t;
    for (unsigned threads : {1u, 2u}) {
        Net net(7);
        scratchnet::Adam adam(0.01f);
        scratchnet::fit(net, adam, X, y,
                        {.epochs = 3, .batch_size = 64, .seed = 3, .threads = threads, .chunk_size = 16});
        (threads == 1 ? t.one_thread : t.two_threads) = net.parameters();
        t.accuracy = scratchnet::accuracy(net, X, y);
    }
    return t;
}

}  // namespace odr
