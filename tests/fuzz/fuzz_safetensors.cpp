// libFuzzer target: any byte string read as a safetensors file must end in a
// loaded network or a SafetensorsError that left the network unchanged; never a
// crash, a leak, or an allocation the bytes merely ask for.
#include <scratchnet/scratchnet.hpp>

#include <cstddef>
#include <cstdint>

namespace sn = scratchnet;
// Parameters and state: Dense, Conv2D, BatchNorm and a Residual block's inner modules.
using Small = sn::Network<sn::Input<1, 4, 4>, sn::Conv2D<1, 2, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                          sn::Residual<sn::Conv2D<2, 2, 3, 1, 1>>, sn::GlobalAvgPool2D, sn::Dense<2, 2>, sn::Softmax,
                          sn::CrossEntropy>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Small net(1);
    const sn::Vector<float> before = net.parameters();
    const sn::Vector<float> state = net.state();
    try {
        sn::detail::load_safetensors_bytes(net, data, size, "fuzz", nullptr);
    } catch (const sn::SafetensorsError&) {
        if (net.parameters() != before || net.state() != state) __builtin_trap();  // a failed load must not touch it
    }
    return 0;
}
