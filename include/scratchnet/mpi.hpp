#pragma once
// Data-parallel training over MPI: scratchnet::mpi::fit trains one network on many
// processes, and its parameters come out bit-identical to scratchnet::fit in one
// process with the same options, for any number of processes and threads.
//
// Not included by scratchnet.hpp: the core needs only Eigen and zlib. Link
// scratchnet::mpi (find_package(scratchnet CONFIG REQUIRED COMPONENTS mpi)).
//
// How a step runs on P processes. Every process holds the whole data set and the
// same shuffle (fit's seed), so all agree on each batch. fit cuts a batch into
// fixed chunks of FitOptions::chunk_size samples; process q computes chunks
// [q C / P, (q + 1) C / P) of the C chunks, each into a gradient buffer of its own.
// Then a reduce-scatter in the library's own order: process r owns parameters
// [r N / P, (r + 1) N / P), receives every chunk's part of them (one
// MPI_Alltoallv) and adds the chunks up in chunk order, exactly as fit adds them
// in one process; an MPI_Allgatherv gives every process the whole summed
// gradient, and each applies the same optimizer update (in fit's fixed blocks), so
// parameters and optimizer state stay identical everywhere. MPI_Allreduce would
// not do: its summation order depends on P and on the algorithm Open MPI picks.
// Per step, a process that computed c of the C chunks sends c N (P - 1) / P
// scalars and receives (C - c) N / P in the reduce-scatter, then sends N / P and
// receives N (P - 1) / P in the allgather, plus a few numbers per chunk (loss,
// hits, NaN finds).
//
// Faults: every process learns every chunk's loss, hits and NaN finds, and
// whether some process failed (computing, gathering its samples, allocating),
// before anyone moves on, so such a failure on one stops all of them with the
// same error instead of a hang; a throwing callback or schedule likewise. An MPI
// error itself (a dead node) is MPI's to report. Data, options or networks
// that differ between processes are refused before training, naming the ranks.
// Callbacks run on every process; training stops on all of them when any one's
// callback says stop. Print and write files on rank 0 only (session.rank() == 0).

#include "scratchnet/scratchnet.hpp"
#include "scratchnet/mpi/agreement.hpp"
#include "scratchnet/mpi/distributed_gradient.hpp"
#include "scratchnet/mpi/fit.hpp"
#include "scratchnet/mpi/session.hpp"
