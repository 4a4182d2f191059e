// libFuzzer target: any byte string read as a safetensors file must end in a
// loaded network or a SafetensorsError that left the network unchanged; never a
// crash, a leak, or an allocation the bytes merely ask for.
#include <scratchnet/scratchnet.hpp>

#include <cstddef>
#include <cstdint>

namespace sn = scratchnet;
// The network of the tests' files (tests/test_safetensors.cpp), whose good files
// seed the corpus, and one with state and nested modules: Conv2D, BatchNorm and a
// Residual block.
using Tiny = sn::Network<sn::Dense<2, 3>, sn::ReLU, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;
using Small = sn::Network<sn::Input<1, 4, 4>, sn::Conv2D<1, 2, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                          sn::Residual<sn::Conv2D<2, 2, 3, 1, 1>>, sn::GlobalAvgPool2D, sn::Dense<2, 2>, sn::Softmax,
                          sn::CrossEntropy>;

template <class Net>
void load(const std::uint8_t* data, std::size_t size) {
    Net net(1);
    const sn::Vector<float> before = net.parameters();
    const sn::Vector<float> state = net.state();
    try {
        sn::detail::load_safetensors_bytes(net, data, size, "fuzz", nullptr);
    } catch (const sn::SafetensorsError&) {
        if (net.parameters() != before || net.state() != state) __builtin_trap();  // a failed load must not touch it
    }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    load<Tiny>(data, size);
    load<Small>(data, size);
    return 0;
}
