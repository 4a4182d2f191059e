// MNIST on several processes with scratchnet::mpi::fit:
//   mpirun -np 2 --bind-to none build/release/examples/mnist_mpi --threads 1
//   mpirun -np 8 --hostfile hosts --bind-to none build/release/examples/mnist_mpi --hidden 512-256 --threads 8
// Every process loads the same data and trains the same network; each computes
// its share of every batch, and the parameters end bit-identical to one process's
// fit with the same flags (--threads changes nothing but the speed). Only rank 0
// prints and writes files. --compare also runs fit in one process on rank 0 and
// reports whether the parameters agree bit for bit, and the time per epoch of each.
#include <scratchnet/mpi.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>

namespace sn = scratchnet;

namespace {

struct Flags {
    std::string data;
    std::string hidden = "128";
    int epochs = 10;
    float learning_rate = 0.1f;
    std::uint64_t seed = 2;
    unsigned threads = 1;
    bool compare = false;
    std::string save;
};

template <class Net>
int run(const sn::mpi::Session& session, const Flags& f, const sn::MnistSet<sn::ByteMatrix>& data) {
    const bool root = session.rank() == 0;
    Net net(f.seed);
    sn::SGD sgd{f.learning_rate};
    const sn::FitOptions options{.epochs = f.epochs, .batch_size = 128, .seed = f.seed, .threads = f.threads};
    if (root)
        std::cout << Net::architecture() << ", SGD " << f.learning_rate << ", batch 128, " << session.size()
                  << " process(es) x " << f.threads << " thread(s)\n";
    sn::FitCallbacks report;
    report.on_epoch = [&](const sn::EpochRecord& r) {
        if (root)
            std::cout << "epoch " << std::setw(3) << r.epoch << "  loss " << std::fixed << std::setprecision(4)
                      << r.loss << "  train acc " << std::setprecision(2) << 100 * r.accuracy << " %  "
                      << std::setprecision(3) << r.seconds << " s\n"
                      << std::flush;
        return true;
    };
    const sn::History h = sn::mpi::fit(session, net, sgd, data.train.images, data.train.labels, options, report);
    double seconds = 0;
    for (const auto& r : h) seconds += r.seconds;
    const double accuracy = sn::accuracy(net, data.test.images, data.test.labels);
    if (root) {
        std::cout << std::fixed << std::setprecision(2) << "final test accuracy: " << 100 * accuracy << " %  ("
                  << std::setprecision(3) << seconds / static_cast<double>(h.size()) << " s per epoch, "
                  << std::setprecision(1) << 100 * h.communication_seconds / seconds
                  << " % of it communicating on rank 0)\n";
        if (!f.save.empty()) {
            sn::save(net, f.save);
            std::cout << "saved the model to " << f.save << "\n";
        }
        if (f.compare) {
            // The other ranks wait without spinning (see below), so this runs alone.
            Net alone(f.seed);
            sn::SGD sgd_alone{f.learning_rate};
            sn::FitOptions one = options;
            one.threads = 0;  // every hardware thread
            const sn::History ha = sn::fit(alone, sgd_alone, data.train.images, data.train.labels, one);
            double seconds_alone = 0;
            for (const auto& r : ha) seconds_alone += r.seconds;
            const bool same = alone.parameters() == net.parameters();
            std::cout << "fit in one process (" << ha.threads << " threads): " << std::setprecision(3)
                      << seconds_alone / static_cast<double>(ha.size()) << " s per epoch; parameters "
                      << (same ? "bit-identical" : "DIFFERENT") << "\n";
            if (!same) return 1;
        }
    }
    if (f.compare) {
        // Open MPI's waits spin on a core; here the other ranks sleep until rank 0's
        // comparison is done, so that it is timed on an idle machine.
        MPI_Request done;
        MPI_Ibarrier(session.communicator(), &done);
        for (int finished = 0; !finished;) {
            MPI_Test(&done, &finished, MPI_STATUS_IGNORE);
            if (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const sn::mpi::Session session(argc, argv);
    Flags f;
    const char* env = std::getenv("SCRATCHNET_MNIST_DIR");
    f.data = env != nullptr && *env != '\0' ? env : SCRATCHNET_DEFAULT_MNIST_DIR;
    CLI::App app{"Train on MNIST across MPI processes (mpirun -np N mnist_mpi)"};
    app.add_option("--data", f.data, "directory with the four IDX files (the same on every node)")->capture_default_str();
    app.add_option("--hidden", f.hidden, "hidden layers")->check(CLI::IsMember({"128", "512-256"}))->capture_default_str();
    app.add_option("--epochs", f.epochs)->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--lr", f.learning_rate, "SGD learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--seed", f.seed)->capture_default_str();
    app.add_option("--threads", f.threads, "threads per process")->capture_default_str();
    app.add_flag("--compare", f.compare, "also train with fit in one process on rank 0 and compare the parameters");
    app.add_option("--save", f.save, "rank 0 saves the trained model here");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return session.rank() == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
    }
    try {
        const auto data = sn::load_mnist_bytes(f.data);
        if (f.hidden == "512-256")
            return run<sn::Network<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 256>, sn::ReLU, sn::Dense<256, 10>,
                                   sn::Softmax, sn::CrossEntropy>>(session, f, data);
        return run<sn::Network<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>, sn::Softmax, sn::CrossEntropy>>(
            session, f, data);
    } catch (const std::exception& e) {
        std::cerr << "rank " << session.rank() << ": error: " << e.what() << "\n";
        return 2;
    }
}
