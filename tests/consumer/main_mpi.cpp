// Uses scratchnet::mpi from outside the repository (mpirun -np 2 consumer_mpi):
// the names DESIGN.md and the README give, and the promise that mpi::fit's
// parameters equal fit's.
#include <scratchnet/mpi.hpp>

#include <iostream>

namespace sn = scratchnet;

int main(int argc, char** argv) {
    sn::mpi::Session session(argc, argv);
    using Net = sn::Network<sn::Dense<2, 16>, sn::Tanh, sn::Dense<16, 2>, sn::Softmax, sn::CrossEntropy>;
    sn::Matrix<float> X(2, 4);
    X << 0, 0, 1, 1, 0, 1, 0, 1;
    sn::Labels y(4);
    y << 0, 1, 1, 0;
    Net net(static_cast<std::uint64_t>(1 + session.rank())), alone(1);
    sn::mpi::broadcast(session, net);
    sn::Adam a{0.05f}, b{0.05f};
    const sn::FitOptions o{.epochs = 300, .batch_size = 4, .seed = 1, .threads = 1, .chunk_size = 1};
    const sn::History h = sn::mpi::fit(session, net, a, X, y, o);
    sn::fit(alone, b, X, y, o);
    const bool same = net.parameters() == alone.parameters();
    const double acc = sn::accuracy(net, X, y);
    if (session.rank() == 0)
        std::cout << "consumer_mpi: " << session.size() << " processes, " << h.size() << " epochs, XOR accuracy "
                  << acc << ", parameters " << (same ? "equal to fit's" : "DIFFERENT from fit's") << "\n";
    return same && acc == 1.0 ? 0 : 1;
}
