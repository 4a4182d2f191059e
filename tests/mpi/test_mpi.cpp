// scratchnet::mpi under mpirun -np 1, 2, 3 and 4 (CTest runs each): parameters and
// History of mpi::fit against fit in one process, bit for bit; broadcast; and the
// faults that must stop every process with one error instead of a hang.
// A plain program rather than doctest: every process runs every check, and the
// verdict is agreed between them at the end.
#include <scratchnet/mpi.hpp>

#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace sn = scratchnet;

namespace {

int failures = 0;
int rank = 0;

void expect(bool ok, const std::string& what) {
    if (ok) return;
    ++failures;
    std::cerr << "rank " << rank << ": FAILED: " << what << "\n";
}

/// Runs f, which must throw E on this process with a message containing `text`.
template <class E>
void expect_throw(const std::function<void()>& f, const std::string& text, const std::string& what) {
    try {
        f();
    } catch (const E& e) {
        expect(std::string(e.what()).find(text) != std::string::npos,
               what + ": message \"" + e.what() + "\" lacks \"" + text + "\"");
        return;
    } catch (const std::exception& e) {
        expect(false, what + ": threw another type: " + e.what());
        return;
    }
    expect(false, what + ": did not throw");
}

/// Two interleaved spirals, the same on every process.
void spirals(int n, sn::Matrix<float>& X, sn::Labels& y) {
    X.resize(2, n);
    y.resize(n);
    sn::Rng rng(11);
    for (int i = 0; i < n; ++i) {
        const int c = i % 2;
        const double t = 0.5 + 3.0 * (i / 2) / (n / 2.0), a = t * 2.4 + c * 3.14159;
        X(0, i) = static_cast<float>(t * std::cos(a) + sn::detail::uniform(rng, -0.1, 0.1));
        X(1, i) = static_cast<float>(t * std::sin(a) + sn::detail::uniform(rng, -0.1, 0.1));
        y[i] = c;
    }
}

// 13,882 parameters: the owned ranges of 2-4 processes fall inside layers and
// across fit's 8192-parameter update blocks.
using Wide = sn::Network<sn::Dense<2, 320>, sn::ReLU, sn::Dropout<0.2>, sn::Dense<320, 40>, sn::Tanh,
                         sn::Dense<40, 2>, sn::Softmax, sn::CrossEntropy>;
using ResidualBatchNorm =
    sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU>, sn::GlobalAvgPool2D,
                sn::Dense<4, 2>, sn::BatchNorm, sn::Softmax, sn::CrossEntropy>;
using SmallCnn = sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 4, 3, 1, 1>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten,
                             sn::Dense<36, 2>, sn::Softmax, sn::CrossEntropy>;

bool same(const sn::History& a, const sn::History& b) {
    if (a.size() != b.size() || a.averaged_epochs != b.averaged_epochs) return false;
    for (std::size_t e = 0; e < a.size(); ++e)
        if (a[e].loss != b[e].loss || a[e].accuracy != b[e].accuracy ||
            a[e].validation_loss != b[e].validation_loss || a[e].validation_accuracy != b[e].validation_accuracy)
            return false;
    return true;
}

template <class Net, class Opt, class Inputs>
void compare_with_fit(const sn::mpi::Session& session, const char* name, const Inputs& X, const sn::Labels& y,
                      Opt prototype, sn::FitOptions o, unsigned threads) {
    Net reference(3);
    Opt local = prototype;
    o.threads = 1;
    const sn::History expected = sn::fit(reference, local, X, y, o);

    // Every rank but 0 starts from other weights: broadcast must replace them.
    Net net(static_cast<std::uint64_t>(3 + session.rank()));
    Opt distributed = prototype;
    o.threads = threads;
    const sn::History got = sn::mpi::fit(session, net, distributed, X, y, o);
    const std::string what = std::string(name) + " on " + std::to_string(session.size()) + " processes, " +
                             std::to_string(threads) + " thread(s) each";
    expect(net.parameters() == reference.parameters(), what + ": parameters differ from fit's");
    expect(net.state() == reference.state(), what + ": state (running statistics) differs from fit's");
    expect(same(got, expected), what + ": History differs from fit's");
    expect(got.communication_seconds > 0 || session.size() == 1 || got.empty(), what + ": no communication timed");
}

}  // namespace

int main(int argc, char** argv) {
    // The application initialises MPI itself: the session must adopt it and leave
    // finalising to the application.
    MPI_Init(&argc, &argv);
    {
        const sn::mpi::Session session(argc, argv);
        rank = session.rank();
        sn::Matrix<float> X;
        sn::Labels y;
        spirals(600, X, y);

        {  // broadcast: everyone ends with rank 0's parameters.
            Wide net(static_cast<std::uint64_t>(100 + session.rank()));
            sn::mpi::broadcast(session, net);
            expect(net.parameters() == Wide(100).parameters(), "broadcast gives rank 0's parameters");
        }

        // Batches of 128 in chunks of 32 (4 chunks: 1-2 per process, or none), the
        // last batch 88 samples (3 chunks, the last 24).
        const sn::FitOptions base{.epochs = 2, .batch_size = 128, .seed = 5, .chunk_size = 32};
        for (unsigned threads : {1u, 2u}) {
            compare_with_fit<Wide>(session, "SGD", X, y, sn::SGD{0.05f}, base, threads);
            compare_with_fit<Wide>(session, "Momentum (Nesterov)", X, y, sn::Momentum{0.05f, 0.9f, true}, base,
                                   threads);
            compare_with_fit<Wide>(session, "Adam", X, y, sn::Adam{0.01f}, base, threads);
        }
        {
            sn::FitOptions o = base;  // every tool that touches the step, and a validation split
            o.epochs = 3;
            o.clip_norm = 0.5;
            o.max_norm = 2.0;
            o.validation_split = 100;
            o.validation_seed = 2;
            o.schedule = sn::CosineDecay{.epochs = 2, .floor = 0.5};
            o.average_from = 2;
            compare_with_fit<Wide>(session, "AdamW with clipping, max-norm, cosine, weight averaging and a validation split", X, y,
                                   sn::AdamW{0.01f, 0.01f}, o, 2);
        }
        {
            sn::Matrix<float> images = sn::Matrix<float>::Random(36, 200).cwiseAbs();
            sn::Labels labels(200);
            for (int j = 0; j < 200; ++j) labels[j] = images.col(j).head(18).sum() > images.col(j).tail(18).sum();
            compare_with_fit<SmallCnn>(session, "a CNN with Adam", images, labels, sn::Adam{0.01f},
                                       {.epochs = 2, .batch_size = 50, .seed = 1, .chunk_size = 8}, 1);
            // BatchNorm's running statistics: each chunk's, gathered and folded in chunk order.
            for (unsigned threads : {1u, 2u})
                compare_with_fit<ResidualBatchNorm>(session, "a residual network with BatchNorm", images, labels,
                                                    sn::Adam{0.01f},
                                                    {.epochs = 2, .batch_size = 50, .seed = 1, .chunk_size = 8},
                                                    threads);
            // Weight averaging: the average's own statistics, measured by a forward
            // pass whose chunks spread over the processes like training's.
            sn::FitOptions swa{.epochs = 3, .batch_size = 50, .seed = 1, .chunk_size = 8};
            swa.average_from = 2;
            swa.validation_split = 40;
            compare_with_fit<ResidualBatchNorm>(session, "weight averaging with BatchNorm", images, labels,
                                                sn::Momentum{0.05f, 0.9f}, swa, 2);
        }

        // Faults: each must throw on every process (a hang would time the test out).
        if (session.size() > 1) {
            sn::Matrix<float> mine = X;
            if (session.rank() == 1) mine(0, 7) += 1.0f;
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, mine, y, base);
                },
                "the training data of rank(s) 1 differ from rank 0's", "different data");
            const sn::Matrix<float> fewer = session.rank() == session.size() - 1 ? sn::Matrix<float>(X.leftCols(500)) : X;
            const sn::Labels fewer_labels = session.rank() == session.size() - 1 ? sn::Labels(y.head(500)) : y;
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, fewer, fewer_labels, base);
                },
                "rank(s) " + std::to_string(session.size() - 1) + " differ", "a different number of samples");
            sn::FitOptions other = base;
            if (session.rank() == 1) other.seed = 6;
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, other);
                },
                "rank(s) 1 differ from rank 0's: every process must train alike", "different options");
            // Every field of FitOptions but `threads` is compared (through its field list):
            // each one changed on rank 1 alone is refused.
            const std::vector<std::pair<const char*, std::function<void(sn::FitOptions&)>>> changes = {
                {"epochs", [](sn::FitOptions& o) { o.epochs = 3; }},
                {"batch_size", [](sn::FitOptions& o) { o.batch_size = 64; }},
                {"shuffle", [](sn::FitOptions& o) { o.shuffle = false; }},
                {"drop_last", [](sn::FitOptions& o) { o.drop_last = true; }},
                {"chunk_size", [](sn::FitOptions& o) { o.chunk_size = 16; }},
                {"check_finite", [](sn::FitOptions& o) { o.check_finite = false; }},
                {"split", [](sn::FitOptions& o) { o.split = sn::BatchSplit::by_samples; }},
                {"schedule", [](sn::FitOptions& o) { o.schedule = [](int) { return 1.0; }; }},
                {"clip_norm", [](sn::FitOptions& o) { o.clip_norm = 1.0; }},
                {"max_norm", [](sn::FitOptions& o) { o.max_norm = 3.0; }},
                {"validation_split", [](sn::FitOptions& o) { o.validation_split = 10; }},
                {"validation_seed", [](sn::FitOptions& o) { o.validation_seed = 1; }},
                {"early_stopping.restore_best", [](sn::FitOptions& o) { o.early_stopping.restore_best = false; }},
                {"early_stopping.min_delta", [](sn::FitOptions& o) { o.early_stopping.min_delta = 0.5; }},
                {"average_from", [](sn::FitOptions& o) { o.average_from = 2; }},
                {"reduce_on_plateau.patience", [](sn::FitOptions& o) { o.reduce_on_plateau.patience = 2; }},
            };
            for (const auto& [field, change] : changes) {
                sn::FitOptions changed = base;
                if (session.rank() == 1) change(changed);
                expect_throw<sn::mpi::Error>(
                    [&] {
                        Wide net(1);
                        sn::SGD sgd{0.1f};
                        sn::mpi::fit(session, net, sgd, X, y, changed);
                    },
                    "every process must train alike", std::string("a different FitOptions::") + field);
            }
            {  // threads change no result: they may differ
                sn::FitOptions more = base;
                more.threads = session.rank() == 1 ? 2 : 1;
                Wide net(1);
                sn::SGD sgd{0.1f};
                sn::mpi::fit(session, net, sgd, X, y, more);
            }
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{session.rank() == 1 ? 0.2f : 0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, base);
                },
                "learning rate of rank(s) 1 differ", "a different learning rate");
            sn::FitOptions scheduled = base;
            scheduled.schedule = [&](int) { return session.rank() == 1 ? 0.5 : 1.0; };
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, scheduled);
                },
                "the schedule of rank(s) 1 gives another factor than rank 0's for epoch 1", "a different schedule");
            sn::FitOptions throwing = base;
            throwing.schedule = [&](int epoch) {
                if (session.rank() == 1 && epoch == 2) throw std::runtime_error("no such epoch");
                return 1.0;
            };
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, throwing);
                },
                "rank 1 failed: the schedule threw: no such epoch", "a schedule that throws on rank 1 only");
            sn::Adam used{0.01f};
            Wide elsewhere(9);
            if (session.rank() == 1) used.step(elsewhere);  // rank 1 only: its state now belongs to `elsewhere`
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::mpi::fit(session, net, used, X, y, base);
                },
                "rank 1 failed: ", "an optimizer with state from another network on rank 1");
            sn::FitCallbacks only_on_0;
            if (session.rank() == 0) only_on_0.on_batch = [](const sn::BatchProgress&) { return true; };
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, base, only_on_0);
                },
                "callbacks or learning rate of rank(s) 1", "a callback set on rank 0 only");
            sn::FitCallbacks throws_on_1;
            throws_on_1.on_batch = [&](const sn::BatchProgress& p) {
                if (session.rank() == 1 && p.batch == 2) throw std::runtime_error("disk full");
                return true;
            };
            expect_throw<sn::mpi::Error>(
                [&] {
                    Wide net(1);
                    sn::SGD sgd{0.1f};
                    sn::mpi::fit(session, net, sgd, X, y, base, throws_on_1);
                },
                "rank 1 failed: a callback threw: disk full", "a callback that throws on rank 1 only");
            sn::FitCallbacks stops_on_last;
            int epochs_seen = 0;
            stops_on_last.on_epoch = [&](const sn::EpochRecord&) {
                ++epochs_seen;
                return session.rank() != session.size() - 1;
            };
            Wide net(1);
            sn::SGD sgd{0.1f};
            const sn::History h = sn::mpi::fit(session, net, sgd, X, y, {.epochs = 5, .seed = 1}, stops_on_last);
            expect(h.size() == 1 && epochs_seen == 1, "a callback's stop on one process stops all of them");
        }
        sn::Matrix<float> with_nan = X;
        with_nan(1, 300) = std::numeric_limits<float>::quiet_NaN();
        expect_throw<sn::TrainingError>(
            [&] {
                Wide net(1);
                sn::SGD sgd{0.1f};
                sn::mpi::fit(session, net, sgd, with_nan, y, base);
            },
            "the inputs of sample 300 hold NaN or infinity", "NaN in the data");
        expect_throw<std::invalid_argument>(
            [&] {
                Wide net(1);
                sn::SGD sgd{0.1f};
                sn::FitOptions rows = base;
                rows.split = sn::BatchSplit::by_rows;
                sn::mpi::fit(session, net, sgd, X, y, rows);
            },
            "by_rows is for one process", "BatchSplit::by_rows");

        int all = 0;
        MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, session.communicator());
        if (session.rank() == 0)
            std::cout << (all == 0 ? "all checks passed" : std::to_string(all) + " check(s) failed") << " on "
                      << session.size() << " process(es)\n";
        failures = all;
    }
    int finalized = 0;
    MPI_Finalized(&finalized);
    expect(finalized == 0, "the session left finalising MPI to the application");
    MPI_Finalize();
    return failures == 0 ? 0 : 1;
}
