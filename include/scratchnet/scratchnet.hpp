#pragma once
// scratchnet: feedforward neural networks as types, over Eigen. Include this one
// header for everything public but the optional MPI training (scratchnet/mpi.hpp).
//
// The house, by role:
//   core.hpp shape.hpp      matrices, the random generator, image shapes
//   layer.hpp layers/       the layer contract; Dense, Conv2D, pooling, Dropout, BatchNorm, Residual, ...
//   losses.hpp task.hpp     the loss contract and the losses; what outputs mean
//   network.hpp             the typed network
//   optimizers/             the optimizer contract and one file per optimizer
//   training/               fit(): options, trainer, batch scheduler
//   kernels/                GEMM, Winograd and SIMD loops (internal)
//   data/                   IDX and MNIST loaders, CSV tables, scalers, train/test split
//   tensors.hpp weights/    layers' named tensors; safetensors files (weights from PyTorch and back)
//   serialize.hpp checkpoint.hpp  model files; checkpoints that resume training exactly
//   metrics.hpp report.hpp gradient_check.hpp neuron.hpp

#include "scratchnet/checkpoint.hpp"
#include "scratchnet/core.hpp"
#include "scratchnet/data/csv.hpp"
#include "scratchnet/data/idx.hpp"
#include "scratchnet/data/mnist.hpp"
#include "scratchnet/data/scalers.hpp"
#include "scratchnet/data/split.hpp"
#include "scratchnet/isa.hpp"
#include "scratchnet/gradient_check.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/layers/activations.hpp"
#include "scratchnet/layers/batch_norm.hpp"
#include "scratchnet/layers/conv2d.hpp"
#include "scratchnet/layers/dense.hpp"
#include "scratchnet/layers/dropout.hpp"
#include "scratchnet/layers/flatten.hpp"
#include "scratchnet/layers/global_avg_pool.hpp"
#include "scratchnet/layers/pooling.hpp"
#include "scratchnet/layers/residual.hpp"
#include "scratchnet/losses.hpp"
#include "scratchnet/metrics.hpp"
#include "scratchnet/network.hpp"
#include "scratchnet/neuron.hpp"
#include "scratchnet/optimizers/adadelta.hpp"
#include "scratchnet/optimizers/adam.hpp"
#include "scratchnet/optimizers/adamw.hpp"
#include "scratchnet/optimizers/momentum.hpp"
#include "scratchnet/optimizers/optimizer.hpp"
#include "scratchnet/optimizers/rmsprop.hpp"
#include "scratchnet/optimizers/sgd.hpp"
#include "scratchnet/path.hpp"
#include "scratchnet/report.hpp"
#include "scratchnet/serialize.hpp"
#include "scratchnet/shape.hpp"
#include "scratchnet/tensors.hpp"
#include "scratchnet/training.hpp"
#include "scratchnet/version.hpp"
#include "scratchnet/weights/safetensors.hpp"
