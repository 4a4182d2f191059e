// One process of two leaves before mpi::fit while the other waits in it:
//   early_exit throw   rank 1 throws; main catches it outside the Session's scope
//   early_exit abort   rank 1 catches it inside and calls Session::abort
// Either way the job must end within seconds with the rank's message (CTest
// runs both under mpiexec with a timeout), not hang in MPI_Finalize.
#include <scratchnet/mpi.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

namespace sn = scratchnet;

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "throw";
    try {
        sn::mpi::Session session(argc, argv);
        try {
            if (session.rank() == 1) throw std::runtime_error("cannot open data.csv (a test of leaving early)");
        } catch (const std::exception& e) {
            if (mode == "abort") session.abort(e.what());
            throw;
        }
        using Net = sn::Network<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;
        sn::Matrix<float> X(2, 4);
        X << 0, 0, 1, 1, 0, 1, 0, 1;
        sn::Labels y(4);
        y << 0, 1, 1, 0;
        Net net(1);
        sn::SGD sgd{0.5f};
        sn::mpi::fit(session, net, sgd, X, y, {.epochs = 10, .batch_size = 4, .threads = 1});
    } catch (const std::exception& e) {
        std::cerr << "caught outside the session: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
