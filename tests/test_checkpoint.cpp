// Checkpoints: fit() for k epochs, save_checkpoint, a fresh network and optimizer,
// load_checkpoint, fit() on from epoch k gives the bits of one fit() of all the
// epochs, for every optimizer and training tool; and every damaged, mismatched or
// hostile checkpoint file is refused with the network and optimizer untouched.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "corpus.hpp"
#include "support/temp_dir.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sn = scratchnet;

namespace {
using Net = sn::Network<sn::Dense<4, 8>, sn::Tanh, sn::Dropout<0.25>, sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;

struct Data {
    sn::Matrix<float> X;
    sn::Labels y;
};

Data three_classes(sn::Index n) {
    sn::Rng rng(11);
    Data d{sn::Matrix<float>(4, n), sn::Labels(n)};
    for (sn::Index i = 0; i < n; ++i) {
        for (sn::Index r = 0; r < 4; ++r) d.X(r, i) = static_cast<float>(sn::detail::uniform(rng, -1.0, 1.0));
        d.y[i] = (d.X(0, i) + d.X(1, i) > 0 ? 1 : 0) + (d.X(2, i) > 0.5f ? 1 : 0);
    }
    return d;
}

/// Every number an optimizer's checkpoint holds, in visiting order.
template <class Opt>
std::vector<double> state_of(const Opt& optimizer) {
    std::vector<double> out;
    optimizer.for_each_state([&](const char*, const auto& field) {
        if constexpr (requires { field.size(); }) {
            out.push_back(static_cast<double>(field.size()));
            for (sn::Index k = 0; k < field.size(); ++k) out.push_back(static_cast<double>(field[k]));
        } else {
            out.push_back(static_cast<double>(field));
        }
    });
    return out;
}

/// One fit() of all the epochs against fit() to epoch k, a checkpoint file, and
/// fit() on from it into a fresh network and optimizer: the parameters, and the
/// History's figures, must be the same bits.
template <class Network, class Opt>
void check_resume(const std::function<Opt()>& make, sn::FitOptions options, int k, const Data& d) {
    const int epochs = options.epochs;
    Network whole(3);
    Opt whole_optimizer = make();
    const std::string optimizer(sn::detail::checkpoint_name_of(whole_optimizer));
    CAPTURE(optimizer);
    CAPTURE(k);
    const sn::History straight = sn::fit(whole, whole_optimizer, d.X, d.y, options);

    fixtures::TempDir dir("checkpoint");
    const std::string file = (dir / "run.snc").string();
    {
        Network first(3);
        Opt first_optimizer = make();
        options.epochs = k;
        const sn::History part = sn::fit(first, first_optimizer, d.X, d.y, options);
        sn::save_checkpoint(first, first_optimizer, file, part);
    }
    Network resumed(99);  // other initial weights: all must come from the file
    Opt resumed_optimizer = make();
    const sn::History loaded = sn::load_checkpoint(resumed, resumed_optimizer, file);
    REQUIRE(loaded.size() == static_cast<std::size_t>(k));
    options.epochs = epochs;
    options.initial_epoch = k;
    options.resume = &loaded;
    const sn::History rest = sn::fit(resumed, resumed_optimizer, d.X, d.y, options);

    CHECK(resumed.parameters() == whole.parameters());
    CHECK(resumed.state() == whole.state());
    CHECK(state_of(resumed_optimizer) == state_of(whole_optimizer));
    REQUIRE(rest.size() == straight.size());
    for (std::size_t e = 0; e < rest.size(); ++e) {
        CAPTURE(e);
        CHECK(rest[e].epoch == straight[e].epoch);
        CHECK(rest[e].loss == straight[e].loss);
        CHECK(rest[e].validation_loss == straight[e].validation_loss);
        CHECK(rest[e].learning_rate == straight[e].learning_rate);
    }
    CHECK(rest.best_epoch == straight.best_epoch);
    CHECK(rest.stopped_epoch == straight.stopped_epoch);
    CHECK(rest.restored_best == straight.restored_best);
    CHECK(rest.averaged_epochs == straight.averaged_epochs);
}

sn::FitOptions with_schedule() {
    sn::FitOptions o{.epochs = 6, .batch_size = 16, .seed = 5, .threads = 2};
    o.schedule = sn::CosineDecay{.epochs = 6, .floor = 0.1};
    return o;
}
}  // namespace

TEST_CASE("resuming from a checkpoint gives the bits of one fit, for every optimizer (schedule and Dropout on)") {
    const Data d = three_classes(200);
    const sn::FitOptions o = with_schedule();
    check_resume<Net, sn::SGD>([] { return sn::SGD(0.1f, 1e-4f); }, o, 2, d);
    check_resume<Net, sn::Momentum>([] { return sn::Momentum(0.05f, 0.9f); }, o, 3, d);
    check_resume<Net, sn::Momentum>([] { return sn::Momentum(0.05f, 0.9f, true); }, o, 4, d);
    check_resume<Net, sn::RMSprop>([] { return sn::RMSprop(0.01f); }, o, 1, d);
    check_resume<Net, sn::RMSprop>([] { return sn::RMSprop({.learning_rate = 0.01f, .momentum = 0.5f}); }, o, 5, d);
    check_resume<Net, sn::Adam>([] { return sn::Adam(0.01f); }, o, 3, d);
    check_resume<Net, sn::AdamW>([] { return sn::AdamW(0.01f, 0.05f); }, o, 2, d);
    check_resume<Net, sn::Adadelta>([] { return sn::Adadelta(); }, o, 4, d);
}

TEST_CASE("resuming carries weight averaging, early stopping and reduce-on-plateau on, before and after they begin") {
    const Data d = three_classes(240);
    sn::FitOptions o = with_schedule();
    o.epochs = 8;
    o.validation_split = 48;
    o.average_from = 4;
    o.early_stopping = {.patience = 20, .min_delta = 0.0, .monitor = sn::Monitor::validation_accuracy};
    o.reduce_on_plateau = {.patience = 1, .factor = 0.5, .cooldown = 1};
    const auto adam = [] { return sn::Adam(0.02f); };
    for (const int k : {0, 2, 4, 6, 8}) check_resume<Net, sn::Adam>(adam, o, k, d);

    // Early stopping alone, where the first part ends by putting an earlier epoch
    // back (restored_best): training goes on from the last epoch's weights.
    sn::FitOptions es = with_schedule();
    es.validation_split = 48;
    // No later epoch beats the first by half the accuracy: epoch 1 stays the best.
    es.early_stopping = {.patience = 30, .min_delta = 0.5, .monitor = sn::Monitor::validation_accuracy};
    const auto sgd = [] { return sn::SGD(0.5f); };
    Net probe(3);
    sn::SGD probe_optimizer = sgd();
    sn::FitOptions part = es;
    part.epochs = 3;
    const sn::History h = sn::fit(probe, probe_optimizer, d.X, d.y, part);
    REQUIRE(h.restored_best);  // the case this part is about
    check_resume<Net, sn::SGD>(sgd, es, 3, d);
}

TEST_CASE("resuming a network with BatchNorm restores its running statistics and gives the same bits") {
    using Normed = sn::Network<sn::Dense<4, 8>, sn::BatchNorm, sn::ReLU, sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    const Data d = three_classes(160);
    check_resume<Normed, sn::Momentum>([] { return sn::Momentum(0.05f, 0.9f); }, with_schedule(), 3, d);
}

namespace user {
// A user's optimizer outside namespace scratchnet, meeting CheckpointableOptimizer
// with state of every kind: a velocity, a step count and a decaying factor.
class DecayingSignMomentum {
public:
    static constexpr std::string_view checkpoint_name = "user::DecayingSignMomentum";
    template <class Network>
    void step(Network& net) {
        if (velocity_.size() != Network::parameter_count) velocity_ = sn::Vector<float>::Zero(Network::parameter_count);
        velocity_ = 0.8f * velocity_ + net.gradients();
        net.parameters() -= (lr_ * static_cast<float>(scale_)) * velocity_.cwiseSign();
        scale_ *= 0.97;
        ++steps_;
    }
    template <class Visit>
    void for_each_state(Visit&& visit) {
        visit("velocity", velocity_);
        visit("steps", steps_);
        visit("scale", scale_);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const {
        visit("velocity", velocity_);
        visit("steps", steps_);
        visit("scale", scale_);
    }
    float learning_rate() const { return lr_; }
    void set_learning_rate(float lr) { lr_ = lr; }

private:
    sn::Vector<float> velocity_;
    long steps_ = 0;
    double scale_ = 1.0;
    float lr_ = 0.01f;
};

/// An optimizer chosen at run time: its name is a member function.
struct Either {
    std::variant<sn::Adam, sn::Momentum> impl;
    template <class Network>
    void step(Network& net) {
        std::visit([&](auto& o) { o.step(net); }, impl);
    }
    std::string_view checkpoint_name() const {
        return std::visit([](const auto& o) -> std::string_view { return o.checkpoint_name; }, impl);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) {
        std::visit([&](auto& o) { o.for_each_state(visit); }, impl);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const {
        std::visit([&](const auto& o) { o.for_each_state(visit); }, impl);
    }
};

/// An optimizer that does not say what its state is.
struct Silent {
    template <class Network>
    void step(Network&) {}
};
}  // namespace user

TEST_CASE("a user's optimizer that says what its state is resumes exactly (CheckpointableOptimizer)") {
    static_assert(sn::CheckpointableOptimizer<user::DecayingSignMomentum>);
    static_assert(sn::CheckpointableOptimizer<sn::Adam> && sn::CheckpointableOptimizer<sn::SGD>);
    static_assert(!sn::CheckpointableOptimizer<user::Silent>);  // save_checkpoint says so in a static_assert
    const Data d = three_classes(120);
    sn::FitOptions o = with_schedule();
    o.schedule = {};  // DecayingSignMomentum and Either have no rate to schedule
    check_resume<Net, user::DecayingSignMomentum>([] { return user::DecayingSignMomentum(); }, o, 2, d);

    // A name known at run time: the variant's checkpoint loads into the same choice only.
    static_assert(sn::CheckpointableOptimizer<user::Either>);
    check_resume<Net, user::Either>([] { return user::Either{sn::Momentum(0.05f, 0.9f)}; }, o, 3, d);
    fixtures::TempDir dir("checkpoint");
    Net net(1);
    user::Either momentum{sn::Momentum(0.05f)};
    sn::fit(net, momentum, d.X, d.y, {.epochs = 1});
    sn::save_checkpoint(net, momentum, dir / "either.snc");
    user::Either adam{sn::Adam(0.01f)};
    CHECK_THROWS_WITH_AS(sn::load_checkpoint(net, adam, dir / "either.snc"),
                         doctest::Contains("holds the state of optimizer \"Momentum\", not of Adam"), sn::ModelError);
}

TEST_CASE("a checkpoint holds Adam's moments and step count as Adam's equations give them") {
    using Tiny = sn::Network<sn::Dense<2, 1>, sn::Sigmoid, sn::BinaryCrossEntropy>;
    Tiny net(1);
    sn::Adam adam(0.1f);
    sn::Matrix<float> X(2, 1);
    X << 1.0f, -2.0f;
    sn::Matrix<float> Y(1, 1);
    Y << 1.0f;
    sn::train_step(net, adam, X, Y);
    const sn::Vector<float> g = net.gradients();  // the gradient of that one step
    fixtures::TempDir dir("checkpoint");
    sn::save_checkpoint(net, adam, dir / "adam.snc");
    Tiny other(2);
    sn::Adam loaded(0.5f);
    sn::load_checkpoint(other, loaded, dir / "adam.snc");
    CHECK(other.parameters() == net.parameters());
    CHECK(loaded.learning_rate() == doctest::Approx(0.1f));  // the rate comes from the file
    // m = (1 - beta1) g, v = (1 - beta2) g^2 after one step from zero; one step taken.
    std::vector<double> expected = {3};
    for (int k = 0; k < 3; ++k) expected.push_back(0.1 * static_cast<double>(g[k]));
    expected.push_back(0);  // m_double: empty
    expected.push_back(3);
    for (int k = 0; k < 3; ++k) expected.push_back(0.001 * static_cast<double>(g[k]) * static_cast<double>(g[k]));
    expected.push_back(0);
    expected.push_back(3);  // size
    expected.push_back(1);  // steps
    const std::vector<double> got = state_of(loaded);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("fit refuses an initial_epoch or a resume that cannot continue, saying why") {
    const Data d = three_classes(64);
    Net net(1);
    sn::Adam adam(0.01f);
    const auto message = [&](const sn::FitOptions& o) -> std::string {
        try {
            sn::fit(net, adam, d.X, d.y, o);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(message({.epochs = 3, .initial_epoch = 4}).find("initial_epoch must lie in [0, epochs]") != std::string::npos);
    CHECK(message({.epochs = 3, .initial_epoch = -1}).find("initial_epoch must lie") != std::string::npos);
    sn::FitOptions averaging{.epochs = 5, .average_from = 2, .initial_epoch = 3};
    CHECK(message(averaging).find("weight averaging (average_from) began needs the History") != std::string::npos);
    sn::FitOptions stopping{.epochs = 5, .validation_split = 8, .early_stopping = {.patience = 2}, .initial_epoch = 1};
    CHECK(message(stopping).find("early stopping is on needs the History") != std::string::npos);

    const sn::History two = sn::fit(net, adam, d.X, d.y, {.epochs = 2});
    sn::FitOptions wrong_count{.epochs = 5, .initial_epoch = 3, .resume = &two};
    CHECK(message(wrong_count).find("holds 2 epochs, but initial_epoch is 3") != std::string::npos);
    sn::FitOptions late_average{.epochs = 5, .average_from = 1, .initial_epoch = 2, .resume = &two};
    CHECK(message(late_average).find("other weight-averaging options") != std::string::npos);
    // Without those options, a checkpoint of network and optimizer alone is enough.
    CHECK(message({.epochs = 3, .initial_epoch = 2}) == "no error");
}

namespace {
using Small = sn::Network<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;

/// A checkpoint of Small and Adam after two epochs with a History.
std::string small_checkpoint(const std::string& file) {
    Small net(4);
    sn::Adam adam(0.01f);
    sn::Matrix<float> X = sn::Matrix<float>::Random(3, 40);
    sn::Labels y(40);
    for (sn::Index i = 0; i < 40; ++i) y[i] = X(0, i) > 0 ? 1 : 0;
    const sn::History h = sn::fit(net, adam, X, y, {.epochs = 2, .batch_size = 8, .validation_split = 8});
    sn::save_checkpoint(net, adam, file, h);
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_crc(std::string& bytes) {
    const auto crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size() - 4)));
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
}

/// load_checkpoint's message for these bytes; the network and optimizer must be untouched.
template <class Network = Small, class Opt = sn::Adam>
std::string checkpoint_error(const std::string& bytes, Opt optimizer = Opt(0.01f)) {
    test_corpus::add("model", bytes);
    Network net(1);
    const sn::Vector<float> before = net.parameters();
    const std::vector<double> state_before = state_of(optimizer);
    std::istringstream in(bytes);
    try {
        sn::load_checkpoint(net, optimizer, in, "run.snc");
    } catch (const sn::ModelError& e) {
        CHECK(net.parameters() == before);
        CHECK(state_of(optimizer) == state_before);
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("load_checkpoint refuses another network, another optimizer, a model file and damaged files, naming them") {
    fixtures::TempDir dir("checkpoint");
    const std::string good = small_checkpoint((dir / "good.snc").string());
    CHECK(checkpoint_error(good) == "no error");
    test_corpus::add("model", good);

    using Other = sn::Network<sn::Dense<3, 5>, sn::Tanh, sn::Dense<5, 2>, sn::Softmax, sn::CrossEntropy>;
    CHECK(checkpoint_error<Other>(good).find("Dense<3,4>") != std::string::npos);
    CHECK(checkpoint_error<Small, sn::SGD>(good).find("optimizer \"Adam\", not of SGD") != std::string::npos);
    CHECK(checkpoint_error<Small, sn::AdamW>(good).find("optimizer \"Adam\", not of AdamW") != std::string::npos);

    std::ostringstream model;
    sn::save(Small(1), model);
    CHECK(checkpoint_error(model.str()).find("a model file (save()), not a checkpoint") != std::string::npos);
    CHECK(checkpoint_error("").find("the file is empty") != std::string::npos);
    CHECK(checkpoint_error(good.substr(0, 5)).find("ends inside the magic number") != std::string::npos);
    CHECK(checkpoint_error("PK\x03\x04 zip").find("wrong magic number") != std::string::npos);

    std::string flipped = good;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
    CHECK(checkpoint_error(flipped).find("checksum mismatch") != std::string::npos);
    std::string version = good;
    version[8] = 7;
    CHECK(checkpoint_error(version).find("version 7 is not supported") != std::string::npos);
    CHECK(checkpoint_error(good + "x").find("checksum mismatch") != std::string::npos);

    // Cut short at every length: an error each time, never a crash.
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        CHECK(checkpoint_error(good.substr(0, n)) != "no error");
    }

    Small net(1);
    sn::Adam adam(0.01f);
    const auto file_error = [&](const std::string& path) -> std::string {
        try {
            sn::load_checkpoint(net, adam, path);
        } catch (const sn::ModelError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(file_error((dir / "missing.snc").string()).find("missing.snc: no such file") != std::string::npos);
    CHECK(file_error(dir.path.string()).find("is a directory") != std::string::npos);
    CHECK(file_error((dir / "good.snc").string()) == "no error");
}

TEST_CASE("load_checkpoint refuses hostile fields behind a valid checksum: huge counts, NaN state, bad flags") {
    fixtures::TempDir dir("checkpoint");
    const std::string good = small_checkpoint((dir / "good.snc").string());
    const auto model_length = [&] {
        std::uint64_t m = 0;
        std::memcpy(&m, good.data() + 12, 8);
        return static_cast<std::size_t>(m);
    }();
    const std::size_t name_at = 20 + model_length;  // optimizer name length
    const std::size_t rate_at = name_at + 4 + 4 + 1;   // "Adam", then the flag
    const std::size_t fields_at = rate_at + 8;         // field count
    const std::size_t first_field = fields_at + 4;     // "m": name length, name, kind, count

    const auto patched = [&](std::size_t at, const void* value, std::size_t n) {
        std::string bytes = good;
        std::memcpy(bytes.data() + at, value, n);
        put_crc(bytes);
        return bytes;
    };
    const std::uint64_t huge = std::uint64_t{1} << 60;
    CHECK(checkpoint_error(patched(12, &huge, 8)).find("model length declares") != std::string::npos);
    const std::uint32_t long_name = 1u << 30;
    CHECK(checkpoint_error(patched(name_at, &long_name, 4)).find("optimizer name is 1073741824 bytes long") !=
          std::string::npos);
    const double nan = std::nan("");
    CHECK(checkpoint_error(patched(rate_at, &nan, 8)).find("learning rate is NaN") != std::string::npos);
    const std::uint32_t many_fields = 1u << 20;
    CHECK(checkpoint_error(patched(fields_at, &many_fields, 4)).find("declares 1048576 fields") != std::string::npos);
    const std::size_t count_at = first_field + 4 + 1 + 1;
    CHECK(checkpoint_error(patched(count_at, &huge, 8)).find("field's length declares") != std::string::npos);
    const float nan_float = std::nanf("");
    CHECK(checkpoint_error(patched(count_at + 8, &nan_float, 4)).find("value 0 of optimizer field \"m\" is NaN") !=
          std::string::npos);
    const char kind = 9;
    CHECK(checkpoint_error(patched(first_field + 5, &kind, 1)).find("unknown kind 9") != std::string::npos);
    const char other_name = 'q';
    CHECK(checkpoint_error(patched(first_field + 4, &other_name, 1))
              .find("holds field \"q\" where the optimizer has \"m\"") != std::string::npos);
    // NaN inside the model's parameters, behind both checksums, is refused as load() refuses it.
    std::string nan_model = good;
    std::uint32_t arch_length = 0;
    std::memcpy(&arch_length, good.data() + 20 + 16, 4);
    std::memcpy(nan_model.data() + 20 + 20 + arch_length + 8, &nan_float, 4);  // the first parameter
    {
        const auto crc = static_cast<std::uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(nan_model.data() + 20), static_cast<uInt>(model_length - 4)));
        std::memcpy(nan_model.data() + 20 + model_length - 4, &crc, 4);
    }
    put_crc(nan_model);
    CHECK(checkpoint_error(nan_model).find("parameter 0 (layer 0") != std::string::npos);
}

TEST_CASE("save_checkpoint replaces a checkpoint whole and says which file it cannot write") {
    fixtures::TempDir dir("checkpoint");
    Small net(1);
    sn::Adam adam(0.01f);
    const std::string file = (dir / "run.snc").string();
    sn::save_checkpoint(net, adam, file);
    sn::save_checkpoint(net, adam, file);  // replaced, no partial file left beside it
    CHECK(std::filesystem::exists(file));
    CHECK(!std::filesystem::exists(file + ".partial"));
    try {
        sn::save_checkpoint(net, adam, (dir / "no/such/dir/run.snc").string());
        FAIL("no error");
    } catch (const sn::ModelError& e) {
        CHECK(std::string(e.what()).find("no/such/dir/run.snc.partial: cannot open for writing") != std::string::npos);
    }
}
