// libFuzzer target: any byte string given to load() must end in a loaded network
// or a ModelError that left the network unchanged; never a crash or a leak.
#include <scratchnet/scratchnet.hpp>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace sn = scratchnet;
using Small = sn::Network<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Small net(1);
    const sn::Vector<float> before = net.parameters();
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    try {
        sn::load(net, in);
    } catch (const sn::ModelError&) {
        if (net.parameters() != before) __builtin_trap();  // a failed load must not touch the network
    }
    return 0;
}
