#pragma once
// scratchnet: feedforward neural networks as types, over Eigen. Include this one
// header for everything public.

#include "scratchnet/activations.hpp"
#include "scratchnet/core.hpp"
#include "scratchnet/data/idx.hpp"
#include "scratchnet/data/mnist.hpp"
#include "scratchnet/dense.hpp"
#include "scratchnet/dropout.hpp"
#include "scratchnet/gradient_check.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/losses.hpp"
#include "scratchnet/metrics.hpp"
#include "scratchnet/network.hpp"
#include "scratchnet/neuron.hpp"
#include "scratchnet/optimizers.hpp"
#include "scratchnet/path.hpp"
#include "scratchnet/progress.hpp"
#include "scratchnet/serialize.hpp"
#include "scratchnet/training.hpp"
#include "scratchnet/version.hpp"
