#pragma once
// The trainer: fit()'s epoch loop and its named steps (shuffle, batch gradient,
// update, averaging, validation, early stopping), and the contract of the gradient
// engine that turns each batch into a summed gradient.
//
// The trainer schedules; it computes nothing of the network's. Each batch goes
// one way: Trainer::train_epoch -> engine.compute (chunks on threads or
// processes: forward, loss, backward per chunk) -> engine.sum (chunk gradients
// added in chunk order, each finished block handed to the optimizer) -> next batch.
//
// Over 400 lines: the epoch loop's steps (options check, sample split, rate
// schedule, update, averaging, validation, early stopping, resuming, NaN diagnosis)
// each read and write the one fit call's state; they are named member functions of
// one class.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/metrics.hpp"
#include "scratchnet/optimizers/optimizer.hpp"
#include "scratchnet/task.hpp"
#include "scratchnet/detail/function_ref.hpp"
#include "scratchnet/detail/monotonic_clock.hpp"
#include "scratchnet/training/batch_gradient.hpp"
#include "scratchnet/training/batch_source.hpp"
#include "scratchnet/training/history.hpp"
#include "scratchnet/training/options.hpp"

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// Thrown when training cannot go on (a loss that is NaN or infinite).
class TrainingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Gradient engine: what the trainer needs to turn a batch into the network's
/// summed gradient. detail::BatchGradient (this process's threads) and
/// mpi::DistributedGradient (several processes) meet it; the trainer calls
/// nothing else of them.
///   compute(net, batch, inputs, targets, pass) -> Result
///       requires: inputs(begin, n, M) / targets(begin, n, M) fill M with samples
///                 [begin, begin + n) of the batch; `pass` is the whole batch's.
///       ensures:  the batch's forward and backward ran (in chunks whose split does
///                 not depend on the thread or process count); Result holds the
///                 loss summed over the batch, the correct judgements (task.hpp's
///                 hits) and the first layer with a NaN or infinite output (-1:
///                 none), equal on every participant. In a training pass, each
///                 chunk's measurement for the network's state was folded in chunk
///                 order (layer.hpp's measure_state, fold_state). The parameters
///                 are untouched.
///   sum(net, done)
///       ensures:  net.gradients() = the gradient of the batch's mean loss;
///                 done(begin, end) was called once for each block of parameters
///                 as it was finished (the blocks cover the network once).
///   for_each_block(done)      done(begin, end) over all parameters, in blocks.
///   agree(answer) -> bool     the answer every participant acts on (a callback's
///                             "go on"): one process keeps its own.
///   agreed(f)                 runs f so that a failure in one participant is a
///                             failure in all: one process just calls f.
///   communication_seconds()   time spent exchanging with other participants.
///   pool()                    the thread pool: size(), tasks_run(thread).
/// Optional (HasStateMeasurement):
///   measure(net, batch, inputs, pass) -> Result
///       ensures:  the batch's forward passes alone ran, in chunks as compute()'s,
///                 and each chunk's measurement for the network's state was folded
///                 in chunk order (layer.hpp's measure_state and fold_state), equal
///                 on every participant; gradients and parameters untouched. fit
///                 uses it for the statistics of averaged weights; an engine
///                 without it gets compute() there, which also runs the backward.
template <class E, class Net>
concept GradientEngine = requires(E& e, Net& net, Index n, bool answer, const Pass& pass,
                                  typename E::Gather gather, typename E::Done done, detail::FunctionRef<void()> f) {
    { e.compute(net, n, gather, gather, pass) } -> std::same_as<typename E::Result>;
    { e.compute(net, n, gather, gather, pass).loss_sum } -> std::convertible_to<double>;
    { e.compute(net, n, gather, gather, pass).correct } -> std::convertible_to<Index>;
    { e.compute(net, n, gather, gather, pass).nonfinite_layer } -> std::convertible_to<int>;
    e.sum(net, done);
    e.for_each_block(done);
    { e.agree(answer) } -> std::convertible_to<bool>;
    e.agreed(f);
    { e.communication_seconds() } -> std::convertible_to<double>;
    { e.pool().size() } -> std::convertible_to<unsigned>;
    { e.pool().tasks_run(0U) } -> std::convertible_to<std::size_t>;
};

/// Whether engine E offers the forward-only measure() of the GradientEngine contract.
template <class E, class Net>
concept HasStateMeasurement = requires(E& e, Net& net, Index n, typename E::Gather gather, const Pass& pass) {
    { e.measure(net, n, gather, pass) } -> std::same_as<typename E::Result>;
};

namespace detail {

struct NoValidation {};

/// The random stream of training pass number `epoch` (Dropout's masks): apart
/// from the shuffle's generator, and different for every epoch.
inline std::uint64_t epoch_stream(std::uint64_t seed, int epoch) {
    return mix64(mix64(seed ^ 0x5DEECE66DULL) + static_cast<std::uint64_t>(epoch));
}


/// One fit() call: the epoch loop and its named steps. Gradient, a GradientEngine,
/// computes and sums each batch's gradient: BatchGradient on this process's
/// threads, or mpi::DistributedGradient across processes.
template <class Net, class Opt, class Inputs, class Targets, class Validation, class Gradient = BatchGradient<Net>>
class Trainer {
    using T = typename Net::Scalar;
    static_assert(GradientEngine<Gradient, Net>,
                  "scratchnet::detail::Trainer: the gradient engine does not meet the GradientEngine contract "
                  "(scratchnet/training/trainer.hpp)");

public:
    /// `engine` comes first in the gradient engine's constructor, before the
    /// options' threads, chunk size, NaN check and split.
    template <class... Engine>
    Trainer(Net& net, Opt& optimizer, const Inputs& X, const Targets& Y, const Validation& validation,
            const FitOptions& options, const FitCallbacks& callbacks, Engine&&... engine)
        : net_(net), optimizer_(optimizer), X_(X), Y_(Y), validation_(validation), o_(options), callbacks_(callbacks),
          gradient_(std::forward<Engine>(engine)..., options.threads, options.chunk_size, options.check_finite,
                    options.split == BatchSplit::by_rows) {
        check_options();
        split_samples();
        const Index n = static_cast<Index>(order_.size());
        batch_size_ = std::min(o_.batch_size, n);
        batches_ = (o_.drop_last || n % batch_size_ == 0) ? n / batch_size_ : n / batch_size_ + 1;
        if (batches_ == 0) throw std::invalid_argument("scratchnet::fit: drop_last leaves no batch");
        if (o_.early_stopping.patience > 0 && o_.early_stopping.restore_best) {
            best_params_ = net_.parameters();
            best_state_ = net_.state();
        }
        if (o_.average_from > 0 && o_.average_from <= o_.epochs) {  // sized now: epochs allocate nothing
            average_.resize(Net::parameter_count);
            training_params_.resize(Net::parameter_count);
            training_state_.resize(Net::state_count);
        }
        if (o_.resume != nullptr) take_up(*o_.resume);
        // The shuffles of the epochs already trained: each epoch's order follows
        // from the one before, so epoch initial_epoch+1 sees the order it would
        // have seen in one fit() of all the epochs.
        if (o_.shuffle)
            for (int epoch = 1; epoch <= o_.initial_epoch; ++epoch)
                detail::shuffle(order_.begin(), order_.end(), shuffle_rng_);
    }

    History run() {
        if constexpr (HasLearningRate<Opt>) base_rate_ = optimizer_.learning_rate();
        // History's storage up front (training epochs then allocate nothing), but
        // no reservation in proportion to a huge `epochs`.
        history_.reserve(static_cast<std::size_t>(std::min(o_.epochs, 4096)));
        {
            // The optimizer is the caller's: leave its rate as it came, also when an
            // error or a thread cancellation unwinds through here (a guard, not a
            // catch and rethrow, which a cancellation's unwinding must not meet).
            const RateRestorer restorer(*this);
            for (int epoch = o_.initial_epoch + 1; epoch <= o_.epochs; ++epoch) {
                EpochRecord record;
                record.epoch = epoch;
                set_rate(epoch, record);
                resume_training_weights();
                const bool go_on = train_epoch(epoch, record);
                // The average's own statistics only where something looks at it.
                const bool seen = epoch == o_.epochs || !go_on || has_validation_data || !held_out_.empty() ||
                                  static_cast<bool>(callbacks_.on_epoch);
                put_in_average(epoch, seen);
                validate(record);
                reduce_on_plateau(record);
                history_.push_back(record);
                const bool stop_early = early_stop(record);
                const bool callback_goes_on = !callbacks_.on_epoch || callbacks_.on_epoch(record);
                if (!agree(callback_goes_on && !stop_early) || !go_on) break;
            }
        }
        restore_best();
        keep_resume_state();
        history_.communication_seconds = gradient_.communication_seconds();
        history_.threads = gradient_.pool().size();
        for (unsigned w = 0; w < history_.threads; ++w) history_.tasks_per_thread.push_back(gradient_.pool().tasks_run(w));
        if constexpr (requires { gradient_.pool().solo_runs(); }) history_.solo_runs = gradient_.pool().solo_runs();
        return std::move(history_);
    }

private:
    struct RateRestorer {
        explicit RateRestorer(Trainer& t) : trainer(t) {}
        Trainer& trainer;
        RateRestorer(const RateRestorer&) = delete;
        RateRestorer& operator=(const RateRestorer&) = delete;
        ~RateRestorer() { trainer.restore_rate(); }
    };

    void check_options() const {
        check_data<Net>(X_, Y_, "scratchnet::fit");
        if constexpr (has_validation_data)
            check_data<Net>(validation_.inputs, validation_.targets, "scratchnet::fit (validation data)");
        // Once, so that a NaN found later is known to come from training itself.
        const auto theta = net_.parameters();
        for (Index p = 0; p < theta.size(); ++p)
            if (!std::isfinite(theta[p])) {
                const std::size_t layer = Net::layer_of_parameter(p);
                throw std::invalid_argument("scratchnet::fit: parameter " + std::to_string(p) + " (layer " +
                                            std::to_string(layer) + ", " + Net::layer_name(layer) +
                                            ") is NaN or infinite before training");
            }
        if (Net::task == Task::regression && o_.early_stopping.patience > 0 &&
            o_.early_stopping.monitor == Monitor::validation_accuracy)
            throw std::invalid_argument("scratchnet::fit: early stopping cannot watch the validation accuracy of a "
                                        "regression network (it has none): use Monitor::validation_loss");
        if (o_.batch_size <= 0)
            throw std::invalid_argument("scratchnet::fit: batch_size must be positive, got " +
                                        std::to_string(o_.batch_size));
        if (o_.chunk_size <= 0)
            throw std::invalid_argument("scratchnet::fit: chunk_size must be positive, got " +
                                        std::to_string(o_.chunk_size));
        if (o_.validation_seed && o_.validation_split == 0)
            throw std::invalid_argument("scratchnet::fit: validation_seed is set but validation_split is 0: the "
                                        "seed would pick nothing; set validation_split or drop the seed");
        if (o_.max_norm > 0 && !Net::has_max_norm_constraint)
            throw std::invalid_argument("scratchnet::fit: max_norm is set but no layer of " + Net::architecture() +
                                        " applies one (a layer with constrain_max_norm, such as Dense or Conv2D)");
        if (o_.epochs < 0)
            throw std::invalid_argument("scratchnet::fit: epochs must be >= 0, got " + std::to_string(o_.epochs));
        check_resume();
        if (!(o_.clip_norm >= 0) || !std::isfinite(o_.clip_norm))
            throw std::invalid_argument("scratchnet::fit: clip_norm must be finite and >= 0 (0: off)");
        if (!(o_.max_norm >= 0) || !std::isfinite(o_.max_norm))
            throw std::invalid_argument("scratchnet::fit: max_norm must be finite and >= 0 (0: off)");
        if (o_.validation_split < 0 || o_.validation_split >= sample_count(X_))
            throw std::invalid_argument("scratchnet::fit: validation_split must leave training samples: " +
                                        std::to_string(o_.validation_split) + " of " +
                                        std::to_string(sample_count(X_)) + " samples");
        if (o_.validation_split > 0 && has_validation_data)
            throw std::invalid_argument("scratchnet::fit: validation data and validation_split both given; pass one");
        if (!std::isfinite(o_.early_stopping.min_delta) || o_.early_stopping.min_delta < 0)
            throw std::invalid_argument("scratchnet::fit: early_stopping.min_delta must be finite and >= 0");
        if (o_.early_stopping.patience < 0)
            throw std::invalid_argument("scratchnet::fit: early_stopping.patience must be >= 0 (0: off)");
        // Set but off: a patience of 0 turns the rest off. (restore_best = true is
        // its default, so only false can be seen as set.)
        if (const EarlyStopping& es = o_.early_stopping;
            es.patience == 0 && (es.min_delta != 0 || es.monitor != Monitor::validation_loss || !es.restore_best))
            throw std::invalid_argument("scratchnet::fit: early_stopping.min_delta, monitor or restore_best is set, "
                                        "but patience is 0, which turns early stopping off: set its patience");
        if (const ReduceOnPlateau& p = o_.reduce_on_plateau, defaults{};
            p.patience == 0 && (p.factor != defaults.factor || p.cooldown != 0 || p.min_delta != 0 ||
                                p.min_factor != 0 || p.monitor != Monitor::validation_loss))
            throw std::invalid_argument("scratchnet::fit: reduce_on_plateau's factor, cooldown, min_delta, "
                                        "min_factor or monitor is set, but patience is 0, which turns it off: set "
                                        "its patience");
        if (o_.average_from < 0)
            throw std::invalid_argument("scratchnet::fit: average_from must be >= 0 (0: off), got " +
                                        std::to_string(o_.average_from));
        if (o_.early_stopping.patience > 0 && !has_validation_data && o_.validation_split == 0)
            throw std::invalid_argument("scratchnet::fit: early stopping watches validation figures: pass "
                                        "ValidationData or set validation_split");
        {
            const ReduceOnPlateau& p = o_.reduce_on_plateau;
            if (p.patience < 0 || p.cooldown < 0)
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau.patience and cooldown must be >= 0");
            if (!(p.factor > 0 && p.factor < 1))
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau.factor must lie in (0, 1), got " +
                                            std::to_string(p.factor));
            if (!(p.min_factor >= 0 && p.min_factor <= 1) || !(p.min_delta >= 0) || !std::isfinite(p.min_delta))
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau.min_factor must lie in [0, 1] and "
                                            "min_delta be finite and >= 0");
            if (p.patience > 0 && !has_validation_data && o_.validation_split == 0)
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau watches validation figures: pass "
                                            "ValidationData or set validation_split");
            if (p.patience > 0 && Net::task == Task::regression && p.monitor == Monitor::validation_accuracy)
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau cannot watch the validation accuracy "
                                            "of a regression network (it has none): use Monitor::validation_loss");
            if (p.patience > 0 && !HasLearningRate<Opt>)
                throw std::invalid_argument("scratchnet::fit: reduce_on_plateau needs an optimizer with "
                                            "learning_rate() and set_learning_rate(float)");
        }
        if (o_.schedule && !HasLearningRate<Opt>)
            throw std::invalid_argument("scratchnet::fit: a schedule needs an optimizer with learning_rate() and "
                                        "set_learning_rate(float)");
    }

    /// FitOptions::initial_epoch and resume: the epochs to skip, and a History that
    /// holds exactly those epochs and what the options on by then need of them.
    void check_resume() const {
        const int k = o_.initial_epoch;
        if (k < 0 || k > o_.epochs)
            throw std::invalid_argument("scratchnet::fit: initial_epoch must lie in [0, epochs] (epochs is the number "
                                        "of the last epoch, as in Keras), got " + std::to_string(k) + " with epochs " +
                                        std::to_string(o_.epochs));
        const bool averaging = o_.average_from > 0 && o_.average_from <= k;
        const History* h = o_.resume;
        if (h == nullptr) {
            const char* needs = averaging                           ? "weight averaging (average_from) began"
                                : o_.early_stopping.patience > 0    ? "early stopping is on"
                                : o_.reduce_on_plateau.patience > 0 ? "reduce_on_plateau is on"
                                                                    : nullptr;
            if (k > 0 && needs != nullptr)
                throw std::invalid_argument(std::string("scratchnet::fit: resuming at epoch ") + std::to_string(k) +
                                            " where " + needs + " needs the History of those epochs: set "
                                            "FitOptions::resume to what fit() or load_checkpoint() returned");
            return;
        }
        const auto fail = [](const std::string& why) {
            throw std::invalid_argument("scratchnet::fit: FitOptions::resume " + why);
        };
        if (h->size() != static_cast<std::size_t>(k) || (k > 0 && h->back().epoch != k))
            fail("holds " + std::to_string(h->size()) + " epochs, but initial_epoch is " + std::to_string(k) +
                 ": resume from the History of exactly the epochs trained");
        const ResumeState& r = h->resume_state;
        const auto sized = [](const Vector<double>& v, Index n) { return v.size() == 0 || v.size() == n; };
        if (!sized(r.training_parameters, Net::parameter_count) || !sized(r.average, Net::parameter_count) ||
            !sized(r.best_parameters, Net::parameter_count) || !sized(r.training_state, Net::state_count) ||
            !sized(r.best_state, Net::state_count))
            fail("comes from another network (its saved weights are of another size)");
        if (averaging && (r.averaged_epochs != k - o_.average_from + 1 || r.average.size() == 0 ||
                          r.training_parameters.size() == 0 || r.training_state.size() != Net::state_count))
            fail("was trained with other weight-averaging options: average_from " + std::to_string(o_.average_from) +
                 " means " + std::to_string(k - o_.average_from + 1) + " epochs averaged by epoch " +
                 std::to_string(k) + ", it holds " + std::to_string(r.averaged_epochs));
        if (!averaging && r.averaged_epochs > 0)
            fail("holds a weight average, but average_from does not begin it by epoch " + std::to_string(k));
        if (o_.early_stopping.patience > 0 && o_.early_stopping.restore_best && h->best_epoch > 0 &&
            r.best_parameters.size() == 0)
            fail("holds no parameters of its best epoch " + std::to_string(h->best_epoch) +
                 " (trained without restore_best), which early stopping's restore_best needs");
    }

    /// Takes the resumed History's records and state as this run's own.
    void take_up(const History& h) {
        const ResumeState& r = h.resume_state;
        history_.assign(h.begin(), h.end());
        if (r.training_parameters.size() > 0) {
            net_.parameters() = r.training_parameters.template cast<T>();
            if (r.training_state.size() > 0) net_.state() = r.training_state.template cast<T>();
        }
        if (r.averaged_epochs > 0) {
            average_ = r.average.template cast<T>();
            training_params_ = r.training_parameters.template cast<T>();
            training_state_ = r.training_state.template cast<T>();
            averaged_ = r.averaged_epochs;
            history_.averaged_epochs = r.averaged_epochs;
        }
        if (o_.early_stopping.patience > 0) {
            history_.best_epoch = h.best_epoch;
            best_value_ = r.best_value;
            if (o_.early_stopping.restore_best) {
                if (h.best_epoch > 0) {
                    best_params_ = r.best_parameters.template cast<T>();
                    best_state_ = r.best_state.template cast<T>();
                } else {
                    best_params_ = net_.parameters();
                    best_state_ = net_.state();
                }
            }
        }
        plateau_factor_ = r.plateau_factor;
        plateau_best_ = r.plateau_best;
        plateau_wait_ = r.plateau_wait;
        plateau_cooldown_ = r.plateau_cooldown;
        plateau_seen_ = r.plateau_seen;
    }

    /// What a later fit() needs to go on from here (History::resume_state).
    void keep_resume_state() {
        ResumeState& r = history_.resume_state;
        if (averaged_ > 0) {
            r.average = average_.template cast<double>();
            r.training_parameters = training_params_.template cast<double>();
            r.training_state = training_state_.template cast<double>();
            r.averaged_epochs = averaged_;
        } else if (history_.restored_best) {
            r.training_parameters = last_params_.template cast<double>();
            r.training_state = last_state_.template cast<double>();
        }
        if (o_.early_stopping.patience > 0) {
            r.best_value = best_value_;
            if (o_.early_stopping.restore_best && history_.best_epoch > 0) {
                r.best_parameters = best_params_.template cast<double>();
                r.best_state = best_state_.template cast<double>();
            }
        }
        r.plateau_factor = plateau_factor_;
        r.plateau_best = plateau_best_;
        r.plateau_wait = plateau_wait_;
        r.plateau_cooldown = plateau_cooldown_;
        r.plateau_seen = plateau_seen_;
    }

    /// Training samples in order_, validation samples (if split off) in held_out_.
    void split_samples() {
        const Index n = sample_count(X_);
        std::vector<Index> all(static_cast<std::size_t>(n));
        std::iota(all.begin(), all.end(), Index{0});
        if (o_.validation_seed && o_.validation_split > 0) {
            Rng rng(*o_.validation_seed);
            detail::shuffle(all.begin(), all.end(), rng);
            std::sort(all.begin(), all.end() - o_.validation_split);  // training order as if unsplit
            std::sort(all.end() - o_.validation_split, all.end());
        }
        const auto train = static_cast<std::size_t>(n - o_.validation_split);
        held_out_.assign(all.begin() + static_cast<std::ptrdiff_t>(train), all.end());
        all.resize(train);
        order_ = std::move(all);
    }

    /// A callback's answer, the same on every process that trains (where several do).
    bool agree(bool answer) { return gradient_.agree(answer); }

    void set_rate(int epoch, EpochRecord& record) {
        if constexpr (HasLearningRate<Opt>) {
            if (o_.schedule || plateau_on()) {
                const double factor = o_.schedule ? o_.schedule(epoch) : 1.0;
                if (!std::isfinite(factor) || factor < 0)
                    throw std::invalid_argument("scratchnet::fit: the schedule gave factor " +
                                                std::to_string(factor) + " for epoch " + std::to_string(epoch));
                optimizer_.set_learning_rate(static_cast<float>(base_rate_ * factor * plateau_factor_));
            }
            record.learning_rate = static_cast<double>(optimizer_.learning_rate());
        }
    }

    /// One pass over the training samples; false when a callback asked to stop.
    bool train_epoch(int epoch, EpochRecord& record) {
        if (o_.shuffle) detail::shuffle(order_.begin(), order_.end(), shuffle_rng_);
        const double start = monotonic_seconds();
        const Index n = static_cast<Index>(order_.size());
        double loss_sum = 0.0;
        Index correct = 0, seen = 0;
        bool go_on = true;
        for (Index b = 0; b < batches_ && go_on; ++b) {
            const Index begin = b * batch_size_;
            const Index m = std::min(batch_size_, n - begin);
            const auto r = batch_gradient(epoch, begin, m);
            if (r.nonfinite_layer >= 0 || !std::isfinite(r.loss_sum)) throw_nonfinite(r, epoch, b, begin, m);
            step();  // only now, with the batch known to be finite, do the parameters move
            loss_sum += static_cast<double>(r.loss_sum);
            correct += r.correct;
            seen += m;
            if (callbacks_.on_batch)
                go_on = agree(callbacks_.on_batch({epoch, o_.epochs, b + 1, batches_, seen, n,
                                                   loss_sum / static_cast<double>(seen), monotonic_seconds() - start}));
        }
        record.seconds = monotonic_seconds() - start;
        record.loss = loss_sum / static_cast<double>(seen);
        constexpr auto judged = static_cast<double>(judgements_per_sample(Net::task, Net::output_size));
        record.accuracy = Net::task == Task::regression
                              ? std::numeric_limits<double>::quiet_NaN()
                              : static_cast<double>(correct) / (judged * static_cast<double>(seen));
        return go_on;
    }

    /// Forward and backward over the m samples at order_[begin...], in training mode.
    typename Gradient::Result batch_gradient(int epoch, Index begin, Index m) {
        const Index* idx = order_.data() + begin;
        return gradient_.compute(
            net_, m, [&](Index from, Index count, Matrix<T>& Xk) { gather_inputs(X_, idx + from, count, Xk); },
            [&](Index from, Index count, Matrix<T>& Yk) {
                gather_targets(Y_, idx + from, count, Net::output_size, Yk);
            },
            Pass::training(epoch_stream(o_.seed, epoch), begin));
    }

    /// Names the cause: a sample whose inputs or targets are not finite (looked for
    /// only now, so finite data cost nothing), else the learning rate's likely part.
    [[noreturn]] void throw_nonfinite(const typename Gradient::Result& r, int epoch, Index b, Index begin, Index m) {
        gradient_.sum(net_, [](Index, Index) {});  // the whole gradient, for whoever inspects it
        const std::string batch = " in epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) + " of " +
                                  std::to_string(batches_);
        const Index* idx = order_.data() + begin;
        if (const Index k = first_nonfinite_sample(X_, idx, m); k >= 0)
            throw TrainingError("scratchnet::fit: the inputs of sample " + std::to_string(k) +
                                " hold NaN or infinity (found" + batch + "); clean the data");
        if constexpr (!LabelData<Targets>) {
            if (const Index k = first_nonfinite_sample(Y_, idx, m); k >= 0)
                throw TrainingError("scratchnet::fit: the targets of sample " + std::to_string(k) +
                                    " hold NaN or infinity (found" + batch + "); clean the data");
        }
        const std::string where = batch + " (the data are finite: try a smaller learning rate)";
        if (r.nonfinite_layer >= 0)
            throw TrainingError("scratchnet::fit: the output of layer " + std::to_string(r.nonfinite_layer) + " (" +
                                Net::layer_name(static_cast<std::size_t>(r.nonfinite_layer)) +
                                ") holds NaN or infinity" + where);
        throw TrainingError("scratchnet::fit: the loss became " +
                            std::string(std::isnan(r.loss_sum) ? "NaN" : "infinite") + where);
    }

    /// Sums the chunk gradients and moves the parameters: clipped, updated (in
    /// ranges on the pool where the optimizer offers them), constrained. Where
    /// several processes train, a failure in one is a failure in all.
    void step() {
        auto update = [&] { update_parameters(); };
        gradient_.agreed(update);
    }

    void update_parameters() {
        if (o_.clip_norm > 0) {
            gradient_.sum(net_, [](Index, Index) {});
            auto g = net_.gradients();
            const double norm = std::sqrt(g.template cast<double>().squaredNorm());
            if (norm > o_.clip_norm) g *= static_cast<T>(o_.clip_norm / norm);
            if constexpr (RangeOptimizer<Opt, Net>) {
                optimizer_.begin_step(net_);
                gradient_.for_each_block([&](Index from, Index to) { optimizer_.update(net_, from, to); });
            } else {
                optimizer_.step(net_);
            }
        } else if constexpr (RangeOptimizer<Opt, Net>) {
            optimizer_.begin_step(net_);
            gradient_.sum(net_, [&](Index from, Index to) { optimizer_.update(net_, from, to); });
        } else {
            gradient_.sum(net_, [](Index, Index) {});
            optimizer_.step(net_);
        }
        if (o_.max_norm > 0) net_.constrain_max_norm(static_cast<T>(o_.max_norm));
    }

    /// From average_from on: adds the epoch's parameters to the running mean and
    /// puts the mean in the network, the weights (and state) training goes on from
    /// set aside. Where the network has state and the average is `seen`, the state
    /// becomes the average's own (measure_average_state).
    void put_in_average(int epoch, bool seen) {
        if (o_.average_from <= 0 || epoch < o_.average_from) return;
        auto theta = net_.parameters();
        const int n = ++averaged_;
        history_.averaged_epochs = n;
        if (n == 1)
            average_ = theta;
        else
            average_ += (theta - average_) / static_cast<T>(n);
        training_params_ = theta;
        theta = average_;
        if constexpr (Net::state_count > 0) {
            training_state_ = net_.state();
            if (seen) measure_average_state(epoch);
        }
    }

    /// PyTorch's update_bn for the averaged weights: statistics measured under the
    /// training weights do not describe the average, so the state starts afresh and
    /// one forward pass in training mode over the epoch's training samples, in its
    /// batches and chunks, folds every chunk's measurement in with the layers' own
    /// rule (BatchNorm: its momentum, where update_bn takes a plain mean). The
    /// chunks are those of training, so the result is the same for any number of
    /// threads and processes.
    void measure_average_state(int epoch) {
        net_.initialize_state();
        const Index n = static_cast<Index>(order_.size());
        const std::uint64_t stream = mix64(epoch_stream(o_.seed, epoch) ^ 0xA5E2A6E5ULL);  // Dropout's own masks
        for (Index b = 0; b < batches_; ++b) {
            const Index begin = b * batch_size_;
            const Index m = std::min(batch_size_, n - begin);
            const Index* idx = order_.data() + begin;
            auto inputs = [&](Index from, Index count, Matrix<T>& Xk) { gather_inputs(X_, idx + from, count, Xk); };
            const Pass pass = Pass::training(stream, begin);
            if constexpr (HasStateMeasurement<Gradient, Net>) {
                gradient_.measure(net_, m, inputs, pass);
            } else {
                auto targets = [&](Index from, Index count, Matrix<T>& Yk) {
                    gather_targets(Y_, idx + from, count, Net::output_size, Yk);
                };
                gradient_.compute(net_, m, inputs, targets, pass);
            }
        }
        if (!net_.state().allFinite())
            throw TrainingError("scratchnet::fit: the statistics of the weights averaged by epoch " +
                                std::to_string(epoch) + " (a layer's state, such as BatchNorm's) hold NaN or "
                                "infinity: the average's outputs overflow");
    }

    void resume_training_weights() {
        if (averaged_ > 0) {
            net_.parameters() = training_params_;
            net_.state() = training_state_;
        }
    }

    void validate(EpochRecord& record) const {
        std::optional<EvaluationOf<Net>> e;
        if constexpr (has_validation_data)
            e = evaluate_subset(net_, validation_.inputs, validation_.targets, {}, "scratchnet::fit (validation data)",
                                o_.threads);
        else if (!held_out_.empty())
            e = evaluate_subset(net_, X_, Y_, Subset{held_out_.data(), static_cast<Index>(held_out_.size())},
                                "scratchnet::fit (validation split)", o_.threads);
        if (e) {
            record.validation_loss = e->loss;
            if constexpr (Net::task != Task::regression) record.validation_accuracy = e->accuracy;
        }
    }

    /// Tracks the best epoch; true when patience has run out.
    bool early_stop(const EpochRecord& record) {
        const EarlyStopping& es = o_.early_stopping;
        if (es.patience <= 0) return false;
        const bool by_loss = es.monitor == Monitor::validation_loss;
        const double value = by_loss ? *record.validation_loss : *record.validation_accuracy;
        const bool better = history_.best_epoch == 0 ||
                            (by_loss ? value < best_value_ - es.min_delta : value > best_value_ + es.min_delta);
        if (better) {
            history_.best_epoch = record.epoch;
            best_value_ = value;
            if (es.restore_best) {
                best_params_ = net_.parameters();
                best_state_ = net_.state();
            }
            return false;
        }
        if (record.epoch - history_.best_epoch < es.patience) return false;
        history_.stopped_epoch = record.epoch;
        return true;
    }

    void restore_rate() {
        if constexpr (HasLearningRate<Opt>) {
            if (o_.schedule || plateau_on()) optimizer_.set_learning_rate(static_cast<float>(base_rate_));
        }
    }

    bool plateau_on() const { return o_.reduce_on_plateau.patience > 0; }

    /// Keras' ReduceLROnPlateau after an epoch's validation: a cooldown epoch
    /// counts down and resets the wait; a better figure becomes the best; else,
    /// outside a cooldown, `patience` epochs without one lower the factor.
    void reduce_on_plateau(const EpochRecord& record) {
        const ReduceOnPlateau& p = o_.reduce_on_plateau;
        if (p.patience <= 0) return;
        const bool by_loss = p.monitor == Monitor::validation_loss;
        const double value = by_loss ? *record.validation_loss : *record.validation_accuracy;
        if (plateau_cooldown_ > 0) {
            --plateau_cooldown_;
            plateau_wait_ = 0;
        }
        const bool better = !plateau_seen_ || (by_loss ? value < plateau_best_ - p.min_delta
                                                       : value > plateau_best_ + p.min_delta);
        if (better) {
            plateau_best_ = value;
            plateau_seen_ = true;
            plateau_wait_ = 0;
        } else if (plateau_cooldown_ == 0 && ++plateau_wait_ >= p.patience) {
            plateau_factor_ = std::max(plateau_factor_ * p.factor, p.min_factor);
            plateau_cooldown_ = p.cooldown;
            plateau_wait_ = 0;
        }
    }

    void restore_best() {
        const EarlyStopping& es = o_.early_stopping;
        if (es.patience > 0 && es.restore_best && history_.best_epoch > 0 &&
            history_.best_epoch != static_cast<int>(history_.size())) {
            if (averaged_ == 0) {  // the weights training would go on from (resume_state)
                last_params_ = net_.parameters();
                last_state_ = net_.state();
            }
            net_.parameters() = best_params_;
            net_.state() = best_state_;
            history_.restored_best = true;
            // The best epoch's snapshot holds the average as it stood then.
            history_.averaged_epochs = o_.average_from > 0 && history_.best_epoch >= o_.average_from
                                           ? history_.best_epoch - o_.average_from + 1
                                           : 0;
        }
    }

    static constexpr bool has_validation_data = !std::is_same_v<Validation, NoValidation>;

    Net& net_;
    Opt& optimizer_;
    const Inputs& X_;
    const Targets& Y_;
    const Validation& validation_;
    const FitOptions& o_;
    const FitCallbacks& callbacks_;
    std::vector<Index> order_;     // training samples, shuffled each epoch
    std::vector<Index> held_out_;  // validation_split's samples
    Index batch_size_ = 0, batches_ = 0;
    Rng shuffle_rng_{o_.seed};
    double base_rate_ = 0.0;
    double best_value_ = 0.0;
    double plateau_factor_ = 1.0, plateau_best_ = 0.0;  // reduce_on_plateau
    int plateau_wait_ = 0, plateau_cooldown_ = 0;
    bool plateau_seen_ = false;
    Vector<T> best_params_, best_state_;
    Vector<T> average_, training_params_, training_state_;  // FitOptions::average_from
    int averaged_ = 0;                     // epochs in average_
    Vector<T> last_params_, last_state_;   // the last epoch's, where restore_best replaced them
    History history_;
    Gradient gradient_;  // last: its pool's tasks use the members above
};

}  // namespace detail

}  // namespace scratchnet
