// The training tools around fit(): schedules, gradient clipping, max-norm,
// validation_split and early stopping, each against a hand computation or an
// equivalent run without the tool.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/fixtures.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace sn = scratchnet;
using doctest::Approx;

namespace {
using Net = sn::Network<sn::Dense<2, 16>, sn::Tanh, sn::Dense<16, 2>, sn::Softmax, sn::CrossEntropy>;

// Two overlapping blobs: class c around (2c - 1, 0).
void blobs(Eigen::Index n, sn::Matrix<float>& X, sn::Labels& y) {
    fixtures::two_blobs(n, {.centre_0 = {-1, 0}, .centre_1 = {1, 0}, .sigma = 0.7, .seed = 17}, X, y);
}
}  // namespace

TEST_CASE("schedules give the factors of their formulas") {
    const sn::StepDecay step{.every = 3, .gamma = 0.5};
    CHECK(step(1) == 1.0);
    CHECK(step(3) == 1.0);
    CHECK(step(4) == 0.5);
    CHECK(step(7) == 0.25);
    const sn::ExponentialDecay exp{.gamma = 0.9};
    CHECK(exp(1) == 1.0);
    CHECK(exp(3) == Approx(0.81));
    const sn::CosineDecay cosine{.epochs = 4, .floor = 0.1};
    CHECK(cosine(1) == Approx(1.0));
    CHECK(cosine(3) == Approx(0.1 + 0.9 * 0.5));  // halfway: cos(pi/2) = 0
    CHECK(cosine(5) == Approx(0.1));
    const sn::Warmup<sn::CosineDecay> warm{.epochs = 3, .then = {.epochs = 4}};
    CHECK(warm(1) == Approx(0.25));
    CHECK(warm(3) == Approx(0.75));
    CHECK(warm(4) == Approx(1.0));  // the cosine's first epoch
    CHECK(warm(6) == Approx(0.5));
}

TEST_CASE("fit sets the scheduled rate per epoch, records it, and restores the optimizer's rate") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(64, X, y);
    Net net(1);
    sn::Momentum momentum{0.2f};
    sn::FitOptions o{.epochs = 4, .batch_size = 16, .seed = 1};
    o.schedule = sn::StepDecay{.every = 2, .gamma = 0.1};
    const sn::History h = sn::fit(net, momentum, X, y, o);
    REQUIRE(h.size() == 4);
    CHECK(*h[0].learning_rate == Approx(0.2));
    CHECK(*h[1].learning_rate == Approx(0.2));
    CHECK(*h[2].learning_rate == Approx(0.02));
    CHECK(*h[3].learning_rate == Approx(0.02));
    CHECK(momentum.options().learning_rate == 0.2f);

    // Equivalent to setting the rates by hand between one-epoch fits? Not quite
    // (each fit reshuffles from its seed), so compare with a callback doing it.
    Net manual(1);
    sn::Momentum m2{0.2f};
    sn::FitCallbacks cb;
    cb.on_epoch = [&](const sn::EpochRecord& r) {
        m2.set_learning_rate(r.epoch >= 2 ? 0.02f : 0.2f);
        return true;
    };
    sn::fit(manual, m2, X, y, {.epochs = 4, .batch_size = 16, .seed = 1}, cb);
    CHECK(manual.parameters() == net.parameters());

    o.schedule = [](int epoch) { return epoch == 2 ? -1.0 : 1.0; };
    CHECK_THROWS_WITH_AS(sn::fit(net, momentum, X, y, o), "scratchnet::fit: the schedule gave factor -1.000000 for epoch 2",
                         std::invalid_argument);
}

TEST_CASE("clip_norm scales the batch gradient to the given global norm") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(32, X, y);
    const Net start(3);
    Net reference = start;
    sn::Matrix<float> Y = sn::Matrix<float>::Zero(2, 32);
    for (Eigen::Index j = 0; j < 32; ++j) Y(y[j], j) = 1;
    reference.loss(X, Y);
    reference.backward(Y);
    const sn::Vector<float> g = reference.gradients();
    const double norm = g.cast<double>().norm();
    REQUIRE(norm > 0.05);

    for (const double clip : {0.05, 10.0}) {  // active, then above the norm (no effect)
        CAPTURE(clip);
        Net net = start;
        sn::SGD sgd{1.0f};
        sn::FitOptions o{.epochs = 1, .batch_size = 32, .shuffle = false};
        o.clip_norm = clip;
        sn::fit(net, sgd, X, y, o);
        const double factor = std::min(1.0, clip / norm);
        const sn::Vector<float> expected = start.parameters() - static_cast<float>(factor) * g;
        CHECK((net.parameters() - expected).cwiseAbs().maxCoeff() < 1e-6f);
    }
}

TEST_CASE("max_norm keeps every unit's incoming weights within the bound") {
    using Two = sn::Network<sn::Dense<2, 2>, sn::Softmax, sn::CrossEntropy>;
    Two two(1);
    auto& W = two.layer<0>().weights();
    W.row(0) << 3, 4;  // a row of W: one unit's incoming weights
    W.row(1) << 0.3f, 0.4f;
    two.constrain_max_norm(1.0f);
    CHECK(W(0, 0) == Approx(0.6));
    CHECK(W(0, 1) == Approx(0.8));
    CHECK(W(1, 0) == 0.3f);  // within the bound: untouched
    CHECK(W(1, 1) == 0.4f);

    sn::Matrix<float> X;
    sn::Labels y;
    blobs(256, X, y);
    Net net(2);
    sn::SGD sgd{2.0f};
    sn::FitOptions o{.epochs = 5, .batch_size = 16, .seed = 4};
    o.max_norm = 0.5;
    sn::fit(net, sgd, X, y, o);
    const auto row_norms = net.layer<0>().weights().rowwise().norm();
    CHECK(row_norms.maxCoeff() <= 0.5f * (1 + 1e-5f));
    CHECK(row_norms.maxCoeff() >= 0.5f * (1 - 1e-5f));  // the bound was reached: it did constrain
    CHECK(net.layer<2>().weights().rowwise().norm().maxCoeff() <= 0.5f * (1 + 1e-5f));
}

TEST_CASE("validation_split trains on the rest and validates on the split, without copying the data") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(200, X, y);
    const sn::FitOptions base{.epochs = 3, .batch_size = 32, .seed = 6, .threads = 2};

    Net split(5);
    sn::SGD s1{0.1f};
    sn::FitOptions o = base;
    o.validation_split = 50;
    const sn::History h = sn::fit(split, s1, X, y, o);

    Net first(5);
    sn::SGD s2{0.1f};
    const sn::Matrix<float> head = X.leftCols(150);
    const sn::Labels head_y = y.head(150);
    sn::fit(first, s2, head, head_y, base);
    CHECK(split.parameters() == first.parameters());  // the last 50 were never trained on

    const sn::Matrix<float> tail = X.rightCols(50);
    const sn::Labels tail_y = y.tail(50);
    const sn::Evaluation e = sn::evaluate(split, tail, tail_y);
    CHECK(*h.back().validation_loss == Approx(e.loss).epsilon(1e-6));
    CHECK(*h.back().validation_accuracy == e.accuracy);

    // Drawn from a seed: other samples held out, so other training; reproducible.
    o.validation_seed = 11;
    Net drawn(5), again(5);
    sn::SGD s3{0.1f}, s4{0.1f};
    sn::fit(drawn, s3, X, y, o);
    sn::fit(again, s4, X, y, o);
    CHECK(drawn.parameters() == again.parameters());
    CHECK(drawn.parameters() != split.parameters());

    o.validation_split = 200;
    CHECK_THROWS_AS(sn::fit(drawn, s3, X, y, o), std::invalid_argument);
}

TEST_CASE("early stopping stops after `patience` epochs without improvement and restores the best epoch") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(200, X, y);
    // Validation labels are the training labels flipped: as training improves,
    // validation loss only rises, so epoch 1 stays the best.
    const sn::Labels flipped = (1 - y.array()).matrix();
    const sn::ValidationData<sn::Matrix<float>, sn::Labels> val{X, flipped};
    sn::FitOptions o{.epochs = 20, .batch_size = 20, .seed = 2};
    o.early_stopping = {.patience = 2};

    Net net(8);
    sn::SGD sgd{0.1f};
    const sn::History h = sn::fit(net, sgd, X, y, val, o);
    CHECK(h.size() == 3);
    CHECK(h.best_epoch == 1);
    CHECK(h.stopped_epoch == 3);
    CHECK(h.restored_best);
    CHECK(*h[2].validation_loss > *h[0].validation_loss);

    Net one(8);
    sn::SGD sgd1{0.1f};
    sn::fit(one, sgd1, X, y, {.epochs = 1, .batch_size = 20, .seed = 2});
    CHECK(net.parameters() == one.parameters());  // epoch 1's weights, put back

    // On accuracy against the true labels, with more patience than epochs: it
    // runs to the end, and the best epoch is the first with the highest accuracy.
    const sn::ValidationData<sn::Matrix<float>, sn::Labels> honest{X, y};
    o.epochs = 4;
    o.early_stopping = {.patience = 10, .monitor = sn::Monitor::validation_accuracy};
    Net net2(8);
    sn::SGD sgd2{0.1f};
    const sn::History h2 = sn::fit(net2, sgd2, X, y, honest, o);
    CHECK(h2.size() == 4);
    CHECK(h2.stopped_epoch == 0);
    int best = 1;
    for (int e = 2; e <= 4; ++e)
        if (*h2[static_cast<std::size_t>(e - 1)].validation_accuracy > *h2[static_cast<std::size_t>(best - 1)].validation_accuracy) best = e;
    CHECK(h2.best_epoch == best);
    CHECK(h2.restored_best == (best != 4));

    o.early_stopping = {.patience = 2, .min_delta = -1.0};
    CHECK_THROWS_AS(sn::fit(net2, sgd2, X, y, honest, o), std::invalid_argument);
    o.early_stopping = {.patience = 2};
    CHECK_THROWS_WITH_AS(sn::fit(net2, sgd2, X, y, o),
                         "scratchnet::fit: early stopping watches validation figures: pass ValidationData or set "
                         "validation_split",
                         std::invalid_argument);
}

TEST_CASE("a schedule's rate is put back also when fit stops with an error") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(64, X, y);
    Net net(1);
    sn::SGD sgd{0.5f};
    sn::FitOptions o{.epochs = 3, .batch_size = 16, .seed = 1};
    o.schedule = sn::ExponentialDecay{.gamma = 0.5};
    sn::FitCallbacks cb;
    cb.on_batch = [](const sn::BatchProgress& p) -> bool {
        if (p.epoch == 2) throw std::runtime_error("stop here");
        return true;
    };
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o, cb), "stop here", std::runtime_error);
    CHECK(sgd.learning_rate() == 0.5f);
}

TEST_CASE("average_from ends with the mean of the epochs' weights and leaves training undisturbed") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(96, X, y);
    const sn::ValidationData<sn::Matrix<float>, sn::Labels> val{X, y};
    sn::FitOptions o{.epochs = 5, .batch_size = 16, .seed = 3};

    // The reference trajectory: the weights after each epoch, no averaging.
    std::vector<sn::Vector<float>> after;
    Net reference(4);
    sn::Momentum momentum_ref{0.1f, 0.9f};
    sn::FitCallbacks record;
    record.on_epoch = [&](const sn::EpochRecord&) {
        after.emplace_back(reference.parameters());
        return true;
    };
    sn::fit(reference, momentum_ref, X, y, val, o, record);
    REQUIRE(after.size() == 5);
    const auto mean_of = [&](int first, int last) {  // 1-based epochs, in double
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(after[0].size());
        for (int e = first; e <= last; ++e) sum += after[static_cast<std::size_t>(e - 1)].cast<double>();
        return Eigen::VectorXd(sum / (last - first + 1));
    };

    o.average_from = 2;
    Net net(4);
    sn::Momentum momentum{0.1f, 0.9f};
    std::vector<sn::Vector<float>> seen;  // what on_epoch sees
    sn::FitCallbacks look;
    look.on_epoch = [&](const sn::EpochRecord&) {
        seen.emplace_back(net.parameters());
        return true;
    };
    const sn::History h = sn::fit(net, momentum, X, y, val, o, look);
    REQUIRE(h.size() == 5);
    CHECK(h.averaged_epochs == 4);
    // Before averaging begins, and in its first epoch, the same weights; from then
    // on, the running mean of the trajectory above. Epochs 4 and 5 match only if
    // training went on from its own weights (and momentum), not from the mean.
    CHECK(seen[0] == after[0]);
    CHECK(seen[1] == after[1]);
    const double scale = mean_of(2, 5).cwiseAbs().maxCoeff();
    const auto near = [&](const sn::Vector<float>& v, int first, int last) {
        return (v.cast<double>() - mean_of(first, last)).cwiseAbs().maxCoeff() <= 1e-6 * scale;
    };
    CHECK(near(seen[2], 2, 3));
    CHECK(near(seen[3], 2, 4));
    CHECK(near(net.parameters(), 2, 5));
    CHECK((mean_of(2, 5) - after[4].cast<double>()).cwiseAbs().maxCoeff() > 1e-3 * scale);  // a real difference
    // The validation figures are those of the average.
    const sn::Evaluation e = sn::evaluate(net, X, y);
    CHECK(*h.back().validation_loss == Approx(e.loss).epsilon(1e-12));
    CHECK(*h.back().validation_accuracy == Approx(e.accuracy).epsilon(1e-12));

    // on_epoch stopping training after epoch 3: the mean of epochs 2 and 3 stays.
    Net stopped(4);
    sn::Momentum momentum_stopped{0.1f, 0.9f};
    sn::FitCallbacks stop;
    stop.on_epoch = [](const sn::EpochRecord& r) { return r.epoch < 3; };
    const sn::History hs = sn::fit(stopped, momentum_stopped, X, y, val, o, stop);
    CHECK(hs.size() == 3);
    CHECK(hs.averaged_epochs == 2);
    CHECK(near(stopped.parameters(), 2, 3));

    // Past the last epoch: no averaging, the plain final weights.
    o.average_from = 6;
    Net late(4);
    sn::Momentum momentum_late{0.1f, 0.9f};
    const sn::History hl = sn::fit(late, momentum_late, X, y, val, o);
    CHECK(hl.averaged_epochs == 0);
    CHECK(late.parameters() == after[4]);

    o.average_from = -1;
    CHECK_THROWS_WITH_AS(sn::fit(late, momentum_late, X, y, o),
                         "scratchnet::fit: average_from must be >= 0 (0: off), got -1", std::invalid_argument);
}

TEST_CASE("average_from with early stopping restores the best epoch's weights as they stood") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(200, X, y);
    const sn::Labels flipped = (1 - y.array()).matrix();  // validation only gets worse: epoch 1 is best
    const sn::ValidationData<sn::Matrix<float>, sn::Labels> val{X, flipped};
    Net one(8);
    sn::SGD sgd1{0.1f};
    sn::fit(one, sgd1, X, y, {.epochs = 1, .batch_size = 20, .seed = 2});
    // Averaging from epoch 2, epoch 1's weights came before any averaging; from
    // epoch 1, the snapshot is the average as it stood then, of epoch 1 alone.
    for (const int from : {2, 1}) {
        CAPTURE(from);
        sn::FitOptions o{.epochs = 4, .batch_size = 20, .seed = 2};
        o.early_stopping = {.patience = 10};
        o.average_from = from;
        Net net(8);
        sn::SGD sgd{0.1f};
        const sn::History h = sn::fit(net, sgd, X, y, val, o);
        CHECK(h.best_epoch == 1);
        CHECK(h.restored_best);
        CHECK(h.averaged_epochs == (from == 1 ? 1 : 0));
        CHECK(net.parameters() == one.parameters());
    }
}

TEST_CASE("options that cannot take effect are refused, not clamped or ignored") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(64, X, y);
    Net net(1);
    sn::SGD sgd{0.1f};
    const auto refused = [&](const sn::FitOptions& o, const char* message) {
        const sn::Vector<float> before = net.parameters();
        CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o), doctest::Contains(message), std::invalid_argument);
        CHECK(net.parameters() == before);
    };
    sn::FitOptions o{.epochs = 1, .batch_size = 16};
    o.chunk_size = 0;  // was clamped to 1: 13x slower, silently
    refused(o, "chunk_size must be positive, got 0");
    o.chunk_size = -3;
    refused(o, "chunk_size must be positive, got -3");
    o = {.epochs = 1, .batch_size = 16};
    o.validation_seed = 5;  // draws nothing without a split
    refused(o, "validation_seed is set but validation_split is 0");
    o = {.epochs = 1, .batch_size = 16, .validation_split = 16};
    o.early_stopping = {.patience = 0, .restore_best = false};  // early stopping is off: nothing to restore
    refused(o, "restore_best is set, but patience is 0");
    o.early_stopping = {.patience = 0, .monitor = sn::Monitor::validation_accuracy};
    refused(o, "early_stopping.min_delta, monitor or restore_best is set, but patience is 0");
    o.early_stopping = {};
    o.reduce_on_plateau = {.patience = 0, .factor = 0.5};
    refused(o, "reduce_on_plateau's factor, cooldown, min_delta, min_factor or monitor is set, but patience is 0");
    o = {.epochs = 2, .batch_size = 16};
    o.schedule = sn::StepDecay{.every = 0};
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o), doctest::Contains("StepDecay: every must be positive, got 0"),
                         std::invalid_argument);
}

TEST_CASE("reduce_on_plateau lowers the rate by Keras' rule on the validation loss, on top of a schedule") {
    sn::Matrix<float> X;
    sn::Labels y;
    blobs(400, X, y);
    Net net(3);
    sn::SGD sgd{0.8f};  // a rate high enough for the validation loss to stall and wobble
    sn::FitOptions o{.epochs = 24, .batch_size = 20, .seed = 6};
    o.validation_split = 100;
    o.reduce_on_plateau = {.patience = 2, .factor = 0.5, .cooldown = 1, .min_delta = 1e-4, .min_factor = 0.1};
    o.schedule = sn::StepDecay{.every = 12, .gamma = 0.8};
    const sn::History h = sn::fit(net, sgd, X, y, o);
    REQUIRE(h.size() == 24);
    // The rule, written out again: rate(e) = 0.8 x step(e) x f, where f halves
    // (not below 0.1) after 2 epochs without the loss beating the best by 1e-4,
    // and 1 epoch after each halving is not counted.
    double f = 1, best = 0;
    int wait = 0, cooldown = 0, reductions = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        const int epoch = static_cast<int>(i) + 1;
        const double step = std::pow(0.8, (epoch - 1) / 12);
        CHECK(*h[i].learning_rate == doctest::Approx(0.8 * step * f).epsilon(1e-6));
        const double loss = *h[i].validation_loss;
        if (cooldown > 0) {
            --cooldown;
            wait = 0;
        }
        if (i == 0 || loss < best - 1e-4) {
            best = loss;
            wait = 0;
        } else if (cooldown == 0 && ++wait >= 2) {
            f = std::max(f * 0.5, 0.1);
            cooldown = 1;
            wait = 0;
            ++reductions;
        }
    }
    CHECK(reductions >= 2);  // the test saw the rule act, more than once
    CHECK(sgd.learning_rate() == 0.8f);  // fit puts the caller's rate back

    o.validation_split = 0;
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o), doctest::Contains("reduce_on_plateau watches validation figures"),
                         std::invalid_argument);
    o.validation_split = 100;
    o.reduce_on_plateau.factor = 1.0;
    CHECK_THROWS_WITH_AS(sn::fit(net, sgd, X, y, o), doctest::Contains("factor must lie in (0, 1)"), std::invalid_argument);
}
