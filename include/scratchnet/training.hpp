#pragma once
// Everything for training: fit() and train_step() with their options, history and
// callbacks, the learning-rate schedules and the progress line (training/).

#include "scratchnet/training/fit.hpp"
#include "scratchnet/training/history.hpp"
#include "scratchnet/training/options.hpp"
#include "scratchnet/training/progress.hpp"
#include "scratchnet/training/schedules.hpp"
#include "scratchnet/training/trainer.hpp"
