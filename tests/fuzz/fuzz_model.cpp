// libFuzzer target: any byte string given to load() or load_checkpoint() must end
// in a loaded network (and optimizer) or a ModelError that left them unchanged;
// never a crash or a leak. The seed corpus holds model files and checkpoints.
#include <scratchnet/scratchnet.hpp>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace sn = scratchnet;
using Small = sn::Network<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;

namespace {
std::vector<float> adam_state(const sn::Adam& adam) {
    std::vector<float> out;
    adam.for_each_state([&](const char*, const auto& field) {
        if constexpr (requires { field.size(); }) {
            out.push_back(static_cast<float>(field.size()));
            for (sn::Index k = 0; k < field.size(); ++k) out.push_back(static_cast<float>(field[k]));
        } else {
            out.push_back(static_cast<float>(field));
        }
    });
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    {
        Small net(1);
        const sn::Vector<float> before = net.parameters();
        std::istringstream in(bytes);
        try {
            sn::load(net, in);
        } catch (const sn::ModelError&) {
            if (net.parameters() != before) __builtin_trap();  // a failed load must not touch the network
        }
    }
    {
        Small net(1);
        sn::Adam adam(0.01f);
        const sn::Vector<float> before = net.parameters();
        const std::vector<float> state = adam_state(adam);
        std::istringstream in(bytes);
        try {
            sn::load_checkpoint(net, adam, in);
        } catch (const sn::ModelError&) {
            if (net.parameters() != before || adam_state(adam) != state) __builtin_trap();
        }
    }
    return 0;
}
