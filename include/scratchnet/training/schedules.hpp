#pragma once
// Learning-rate schedules: small types that give the rate of each epoch as a
// multiple of the optimizer's own rate. fit() takes one in FitOptions::schedule,
//     options.schedule = sn::CosineDecay{.epochs = 20};
// sets the optimizer's rate before every epoch, records it in History, and puts
// the optimizer's rate back when it returns.
//
// A schedule is anything callable as  double factor = schedule(epoch):
//   requires: epoch >= 1 (1-based, as in History).
//   ensures:  a finite factor >= 0 (fit refuses anything else, naming the epoch).

#include <cmath>
#include <stdexcept>
#include <string>
#include <numbers>

namespace scratchnet {

/// factor 1 in every epoch.
struct ConstantRate {
    double operator()(int) const { return 1.0; }
};

/// factor = gamma^floor((epoch - 1) / every): the rate drops by gamma every `every` epochs.
struct StepDecay {
    int every = 10;
    double gamma = 0.5;
    double operator()(int epoch) const {
        if (every <= 0)
            throw std::invalid_argument("scratchnet::StepDecay: every must be positive, got " + std::to_string(every));
        return std::pow(gamma, (epoch - 1) / every);
    }
};

/// factor = gamma^(epoch - 1).
struct ExponentialDecay {
    double gamma = 0.95;
    double operator()(int epoch) const { return std::pow(gamma, epoch - 1); }
};

/// Cosine annealing over `epochs` epochs (Loshchilov and Hutter, 2017), from 1 down
/// to `floor`: factor = floor + (1 - floor) (1 + cos(pi (epoch - 1) / epochs)) / 2.
/// The last epoch still trains at a small positive rate; past `epochs`, `floor`.
struct CosineDecay {
    int epochs = 10;
    double floor = 0.0;
    double operator()(int epoch) const {
        if (epoch > epochs) return floor;
        const double t = static_cast<double>(epoch - 1) / static_cast<double>(epochs > 0 ? epochs : 1);
        return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
    }
};

/// A linear warm-up of `epochs` epochs before schedule S: epoch e <= epochs trains
/// at e / (epochs + 1) of S's first factor, then S runs as if from its epoch 1.
/// (Large rates on an untrained network can throw it somewhere it never leaves.)
template <class S>
struct Warmup {
    int epochs = 1;
    S then{};
    double operator()(int epoch) const {
        if (epoch <= epochs) return then(1) * static_cast<double>(epoch) / static_cast<double>(epochs + 1);
        return then(epoch - epochs);
    }
};
template <class S>
Warmup(int, S) -> Warmup<S>;

}  // namespace scratchnet
