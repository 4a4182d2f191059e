#include "mnist_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>

#ifndef SCRATCHNET_DEFAULT_MNIST_DIR  // set by the build to its MNIST cache directory
#define SCRATCHNET_DEFAULT_MNIST_DIR "data/mnist"
#endif

std::optional<int> parse_options(int argc, char** argv, Options& o) {
    const char* env = std::getenv("SCRATCHNET_MNIST_DIR");
    o.data = env != nullptr && *env != '\0' ? std::filesystem::path(env) : std::filesystem::path(SCRATCHNET_DEFAULT_MNIST_DIR);
    o.threads = std::max(1u, std::thread::hardware_concurrency());
    CLI::App app{"Train a network on MNIST (or Fashion-MNIST)"};
    app.add_option("--data", o.data, "directory with the four IDX files (raw or .gz); env SCRATCHNET_MNIST_DIR")
        ->capture_default_str();
    app.add_option("--model", o.model,
                   "mlp: dense layers (--hidden); lenet: LeNet-5 (conv 6@5x5, pool, conv 16@5x5, pool, 120, 84); "
                   "cnn: Keras' mnist_cnn (conv 32@3x3, conv 64@3x3, pool, dropout 0.25, 128, dropout 0.5); "
                   "resnet: conv 16@3x3 + BatchNorm, residual blocks at 16, 32 and 64 channels (28, 14, 7 pixels), "
                   "global average pooling; resnet-wide: the same at 24, 48 and 96 channels")
        ->check(CLI::IsMember({"mlp", "lenet", "cnn", "resnet", "resnet-wide"}))
        ->capture_default_str();
    app.add_option("--hidden", o.hidden, "hidden layers (ReLU) of --model mlp")
        ->check(CLI::IsMember({"128", "512-256", "512-512", "1024-1024-2048"}))
        ->capture_default_str();
    app.add_option("--optimizer", o.optimizer)->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adam", "rmsprop", "adamw", "adadelta"}))->capture_default_str();
    app.add_option("--lr", o.learning_rate, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--momentum", o.momentum, "momentum of --optimizer momentum|nesterov")->capture_default_str()->check(CLI::Range(0.0, 0.999));
    app.add_option("--weight-decay", o.weight_decay, "L2 weight decay (AdamW: decoupled)")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--schedule", o.schedule, "learning-rate schedule (step: x0.5 every 5 epochs; exp: x0.95 per epoch)")
        ->check(CLI::IsMember({"constant", "step", "exp", "cosine"}))
        ->capture_default_str();
    app.add_option("--warmup", o.warmup, "epochs of linear warm-up before the schedule")->check(CLI::NonNegativeNumber);
    app.add_option("--lr-floor", o.lr_floor, "cosine: the fraction of --lr it anneals to and then keeps")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--average-from", o.average_from,
                   "average the weights of the epochs from this one on (SWA; cosine then anneals over the epochs before it)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--dropout", o.dropout, "dropout after each hidden layer: 0.2 (512-512) or 0.5 (1024-1024-2048, with 0.2 on the inputs)")
        ->check(CLI::Range(0.0, 0.5));
    app.add_option("--early-stopping", o.early_stopping, "stop after this many epochs without a better validation loss (needs --validation)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--validation", o.validation, "hold out this many training samples (drawn with --seed) for validation")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--clip", o.clip, "clip each batch gradient to this global norm")->check(CLI::NonNegativeNumber);
    app.add_option("--label-smoothing", o.label_smoothing,
                   "train on the targets (1 - e) one-hot + e / classes (PyTorch's label_smoothing); test figures use the labels")
        ->check(CLI::Range(0.0, 0.5));
    app.add_option("--max-norm", o.max_norm, "max-norm constraint on each unit's incoming weights")->check(CLI::NonNegativeNumber);
    app.add_option("--batch", o.batch_size, "mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--epochs", o.epochs)->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--seed", o.seed, "weights and shuffling")->capture_default_str();
    app.add_option("--threads", o.threads, "worker threads (results do not depend on it)")->capture_default_str();
    app.add_option("--split", o.split, "how a batch is spread over the threads (rows: layer 0 split by its rows); results depend on it")
        ->check(CLI::IsMember({"auto", "samples", "rows"}))
        ->capture_default_str();
    app.add_option("--out", o.out, "directory for pictures and CSV")->capture_default_str();
    app.add_option("--min-accuracy", o.min_accuracy, "exit with an error below this test accuracy (%)");
    app.add_option("--save", o.save, "save the trained model to this file");
    app.add_option("--load", o.load, "evaluate this saved model (same --model and --hidden) instead of training");
    app.add_option("--checkpoint", o.checkpoint,
                   "after training, write a checkpoint (model, optimizer state, history) to this file");
    app.add_option("--resume", o.resume,
                   "go on from this checkpoint (same options) up to --epochs: the bits of one run of them all");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return std::nullopt;
}
