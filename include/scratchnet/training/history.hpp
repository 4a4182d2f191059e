#pragma once
// What fit() reports: one EpochRecord per epoch in a History, and, while it runs,
// a BatchProgress per batch to the callbacks of FitCallbacks.

#include "scratchnet/core.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// One line of the training history.
struct EpochRecord {
    int epoch = 0;                 ///< 1-based
    double loss = 0.0;             ///< mean training loss over the epoch's batches
    /// Running training accuracy (as the batches were seen); NaN for a regression
    /// network, which has no accuracy.
    double accuracy = 0.0;
    std::optional<double> validation_loss;
    std::optional<double> validation_accuracy;  ///< none for a regression network
    double seconds = 0.0;          ///< training time of the epoch (validation excluded)
    std::optional<double> learning_rate;  ///< the optimizer's rate in this epoch, where it has one
};

/// What fit() needs, beyond the network's parameters and the optimizer's state,
/// to go on after the epochs of a History (FitOptions::resume). fit() fills it;
/// save_checkpoint() writes it and load_checkpoint() reads it back. Vectors are
/// empty where the option that needs them is off; values are held as double,
/// which holds every float exactly.
struct ResumeState {
    /// The parameters and layer state training goes on from, where the network was
    /// left holding others (a weight average, or the best epoch put back).
    Vector<double> training_parameters, training_state;
    /// Weight averaging: the running average and how many epochs it holds.
    Vector<double> average;
    int averaged_epochs = 0;
    /// Early stopping: the best monitored figure, and (restore_best) its epoch's
    /// parameters and layer state.
    double best_value = 0.0;
    Vector<double> best_parameters, best_state;
    /// Reduce on plateau: the factor reached, the best figure, the epochs waited
    /// and the cooldown left.
    double plateau_factor = 1.0, plateau_best = 0.0;
    int plateau_wait = 0, plateau_cooldown = 0;
    bool plateau_seen = false;
};

/// The epochs fit() ran, one record each, and how early stopping ended it.
struct History : std::vector<EpochRecord> {
    int best_epoch = 0;     ///< epoch of the best monitored validation figure (0: early stopping off)
    int stopped_epoch = 0;  ///< the epoch after which early stopping ended training (0: it did not)
    /// Whether fit() put back an earlier epoch's parameters (EarlyStopping::restore_best);
    /// false when the best epoch was the last, whose parameters the network already has.
    bool restored_best = false;
    /// Epochs whose final parameters make up the weight average the network holds
    /// (FitOptions::average_from); 0: no averaging took place.
    int averaged_epochs = 0;
    unsigned threads = 0;   ///< threads fit() ran on (FitOptions::threads after clamping)
    /// mpi::fit: seconds this process spent exchanging gradients and figures with
    /// the others (waiting for them included); 0 for fit().
    double communication_seconds = 0;
    /// Parallel tasks (batch chunks, gradient blocks) each of those threads ran:
    /// shows that the work was spread, not only that the results agree.
    std::vector<std::size_t> tasks_per_thread;
    /// Parallel steps the calling thread ran alone because the machine was too busy
    /// for splitting to pay (a descheduled thread held the others up); 0 on a quiet
    /// machine. The results are the same either way.
    std::size_t solo_runs = 0;
    /// What a later fit() needs to continue from here (FitOptions::resume).
    ResumeState resume_state;

    /// Writes one line per epoch as CSV: epoch, loss, accuracy, validation_loss,
    /// validation_accuracy, seconds, learning_rate (an empty field where an epoch
    /// has no such figure); every number to its last bit. Throws
    /// std::runtime_error naming the file if it cannot be written.
    void write_csv(const std::string& path) const {
        std::FILE* f = std::fopen(path.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("scratchnet::History::write_csv: " + path + ": cannot open for writing");
        const auto field = [f](const std::optional<double>& v) {
            if (v && !std::isnan(*v)) std::fprintf(f, ",%.17g", *v);
            else std::fputs(",", f);
        };
        std::fputs("epoch,loss,accuracy,validation_loss,validation_accuracy,seconds,learning_rate\n", f);
        for (const EpochRecord& r : *this) {
            std::fprintf(f, "%d", r.epoch);
            field(r.loss);
            field(r.accuracy);
            field(r.validation_loss);
            field(r.validation_accuracy);
            field(r.seconds);
            field(r.learning_rate);
            std::fputs("\n", f);
        }
        const bool failed = std::ferror(f) != 0;
        if (std::fclose(f) != 0 || failed)
            throw std::runtime_error("scratchnet::History::write_csv: " + path + ": write error");
    }
};

/// Where fit() is, passed to the per-batch callback.
struct BatchProgress {
    int epoch = 0, epochs = 0;  ///< 1-based epoch
    Index batch = 0, batches = 0;  ///< 1-based batch within the epoch
    Index samples = 0, samples_per_epoch = 0;  ///< seen so far in this epoch
    double running_loss = 0.0;  ///< mean loss over the epoch so far
    double seconds = 0.0;       ///< since the epoch began
};

/// Callbacks return true to go on, false to stop training after the current batch.
struct FitCallbacks {
    std::function<bool(const BatchProgress&)> on_batch;
    std::function<bool(const EpochRecord&)> on_epoch;
};

}  // namespace scratchnet
