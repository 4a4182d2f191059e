#pragma once
// FitOptions: everything fit() can be told, with its defaults. for_each_field()
// lists the fields once, for code that must treat every option alike (mpi::fit
// checks that all processes train with the same ones): a field added to the
// struct but not to that list is a compile error there.

#include "scratchnet/core.hpp"

#include <cstdint>
#include <functional>
#include <optional>

namespace scratchnet {

/// How fit() spreads a batch over its threads. Both give the same bits for any
/// thread count, but add layer 0's gradient in different orders, so results
/// differ between them (as between chunk sizes).
enum class BatchSplit {
    automatic,  ///< the library's choice: by_samples (by_rows wins on some machines only)
    by_samples, ///< fixed column chunks of chunk_size; every thread reads all of W
    by_rows,    ///< layer 0's products by output rows, the rest by samples; fit throws
                ///< std::invalid_argument unless layer 0 is Dense with a multiple of 16 outputs
};

/// What early stopping watches.
enum class Monitor {
    validation_loss,     ///< lower is better
    validation_accuracy, ///< higher is better
};

/// Stop when the monitored validation figure has not improved by more than
/// min_delta for `patience` epochs. Needs validation data (ValidationData or
/// FitOptions::validation_split); fit() throws std::invalid_argument without.
struct EarlyStopping {
    int patience = 0;          ///< 0: off
    double min_delta = 0.0;    ///< an improvement must exceed this
    Monitor monitor = Monitor::validation_loss;
    /// At the end of fit(), put back the parameters of the best epoch (also when
    /// training ran to the last epoch without stopping).
    bool restore_best = true;

    /// f(name, value) for each field, in declaration order.
    template <class F>
    void for_each_field(F&& f) const {
        // The binding names every member: it stops compiling when one is added.
        const auto& [patience_, min_delta_, monitor_, restore_best_] = *this;
        f("patience", patience_);
        f("min_delta", min_delta_);
        f("monitor", monitor_);
        f("restore_best", restore_best_);
    }
};

/// Multiplies the learning rate by `factor` when the monitored validation figure
/// has not improved by more than min_delta for `patience` epochs, then lets
/// `cooldown` epochs pass before it counts again; never below min_factor times
/// the rate fit() started with (Keras' ReduceLROnPlateau, with min_lr as a
/// fraction). On top of a schedule: the rate is start x schedule(epoch) x the
/// reductions so far. Needs validation data and an optimizer with a learning
/// rate. The figures it reads are the same bits on every process, so mpi::fit's
/// processes reduce together.
struct ReduceOnPlateau {
    int patience = 0;         ///< 0: off
    double factor = 0.1;      ///< in (0, 1)
    int cooldown = 0;
    double min_delta = 0.0;
    double min_factor = 0.0;  ///< in [0, 1]
    Monitor monitor = Monitor::validation_loss;

    /// f(name, value) for each field, in declaration order.
    template <class F>
    void for_each_field(F&& f) const {
        const auto& [patience_, factor_, cooldown_, min_delta_, min_factor_, monitor_] = *this;
        f("patience", patience_);
        f("factor", factor_);
        f("cooldown", cooldown_);
        f("min_delta", min_delta_);
        f("min_factor", min_factor_);
        f("monitor", monitor_);
    }
};

struct History;

struct FitOptions {
    /// The number of the last epoch (1-based), as in Keras: with initial_epoch k,
    /// fit() runs epochs k+1 .. epochs.
    int epochs = 1;
    Index batch_size = 32;
    std::uint64_t seed = 0;     ///< seeds the per-epoch shuffles and Dropout's masks
    bool shuffle = true;
    bool drop_last = false;     ///< drop a final partial batch instead of training on it
    /// Worker threads: 0 (the default) is one per hardware thread; a request for
    /// more than the machine has is clamped to that. Results never depend on it.
    unsigned threads = 0;
    /// Columns per parallel chunk. Results depend on this (how a batch is summed),
    /// never on `threads`.
    Index chunk_size = 64;
    /// Stop with TrainingError as soon as any layer's output holds a NaN or an
    /// infinity, naming the layer (costs one read of each output per batch).
    bool check_finite = true;
    /// How a batch is spread over the threads (see BatchSplit).
    BatchSplit split = BatchSplit::automatic;
    /// Learning-rate factor of each epoch (training/schedules.hpp: StepDecay, ExponentialDecay,
    /// CosineDecay, Warmup<...>, or any callable). Empty: the optimizer's rate
    /// throughout. Needs an optimizer with learning_rate() and set_learning_rate().
    std::function<double(int epoch)> schedule{};
    /// > 0: scale each batch gradient down to this global L2 norm where it is
    /// larger (Pascanu et al. 2013).
    double clip_norm = 0.0;
    /// > 0: after each step, scale each unit's incoming weights down to this L2
    /// norm where larger (Srivastava et al. 2014; layers with constrain_max_norm()).
    double max_norm = 0.0;
    /// Validation samples carved out of the training set: never trained on, and
    /// evaluated after each epoch. The last `validation_split` samples, or, with
    /// validation_seed, that many drawn from it. No data are copied.
    Index validation_split = 0;
    std::optional<std::uint64_t> validation_seed{};
    EarlyStopping early_stopping{};
    /// > 0: stochastic weight averaging (Izmailov et al. 2018). From this epoch
    /// (1-based) on, the parameters at the end of each epoch join an equal-weight
    /// average. Validation, early stopping and on_epoch see the average, training
    /// goes on from the weights it reached (optimizer state untouched), and fit()
    /// leaves the average in the network. An epoch that on_batch cut short joins
    /// the average as it ended; an exception thrown during an epoch leaves the
    /// network with that epoch's training weights. A layer's state (BatchNorm's
    /// statistics) is measured afresh for the average where it is seen (validation,
    /// on_epoch, the last epoch): one training-mode forward pass over the training
    /// samples, as PyTorch's update_bn. Pair it with a schedule that
    /// holds a constant, moderate rate while averaging (CosineDecay with a floor).
    int average_from = 0;
    /// Lowers the rate when validation stops improving (off unless patience > 0).
    ReduceOnPlateau reduce_on_plateau{};
    /// Resuming (Keras' initial_epoch): the epochs already trained. fit() runs
    /// epochs initial_epoch+1 .. epochs, with each epoch's shuffle, Dropout masks
    /// and scheduled rate exactly as in one fit() of all of them, so that with the
    /// network and optimizer of a checkpoint (save_checkpoint) the result is the
    /// same bits.
    int initial_epoch = 0;
    /// The History of those epochs (from fit() or load_checkpoint()): its records
    /// open the new History, and its resume_state carries weight averaging, early
    /// stopping and reduce-on-plateau on. Required when initial_epoch > 0 and one of
    /// those is on by then; read while fit() starts, not kept.
    const History* resume = nullptr;

    /// f(name, value) for each field, in declaration order (early_stopping and
    /// reduce_on_plateau as one value each: they have a for_each_field of their own).
    template <class F>
    void for_each_field(F&& f) const {
        // The binding names every member: it stops compiling when one is added, so a
        // new option cannot be left out of the code that visits them all.
        const auto& [epochs_, batch_size_, seed_, shuffle_, drop_last_, threads_, chunk_size_, check_finite_, split_,
                     schedule_, clip_norm_, max_norm_, validation_split_, validation_seed_, early_stopping_,
                     average_from_, reduce_on_plateau_, initial_epoch_, resume_] = *this;
        f("epochs", epochs_);
        f("batch_size", batch_size_);
        f("seed", seed_);
        f("shuffle", shuffle_);
        f("drop_last", drop_last_);
        f("threads", threads_);
        f("chunk_size", chunk_size_);
        f("check_finite", check_finite_);
        f("split", split_);
        f("schedule", schedule_);
        f("clip_norm", clip_norm_);
        f("max_norm", max_norm_);
        f("validation_split", validation_split_);
        f("validation_seed", validation_seed_);
        f("early_stopping", early_stopping_);
        f("average_from", average_from_);
        f("reduce_on_plateau", reduce_on_plateau_);
        f("initial_epoch", initial_epoch_);
        f("resume", resume_);
    }
};

}  // namespace scratchnet
