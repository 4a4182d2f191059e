// MNIST end to end: load the data (raw or gzip'd IDX), train, report per-epoch
// loss and train/test accuracy, the final test accuracy and the confusion matrix,
// and draw the training curves and a grid of test digits with their predictions.
// Defaults follow the course: 784-128-10, ReLU, softmax, cross-entropy, SGD 0.1,
// batch 128. --model lenet|cnn|resnet|resnet-wide trains a convolutional network instead. Also trains on Fashion-MNIST (--data /usr/share/datasets/fashion-mnist).
#include <scratchnet/scratchnet.hpp>

#include "common/plot.hpp"
#include "common/resnet.hpp"
#include "mnist_options.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <string>
#include <string_view>
#include <variant>

namespace sn = scratchnet;
namespace fs = std::filesystem;

namespace {

// One optimizer chosen at run time, so fit() is instantiated once per architecture.
// It forwards the range update too (a RangeOptimizer), so fit still spreads the
// update over its threads, fused with the gradient sum, as for a concrete optimizer.
struct AnyOptimizer {
    using range_update = AnyOptimizer;
    std::variant<sn::SGD, sn::Momentum, sn::Adam, sn::RMSprop, sn::AdamW, sn::Adadelta> impl;
    template <class Net>
    void step(Net& net) {
        std::visit([&](auto& o) { o.step(net); }, impl);
    }
    template <class Net>
    void begin_step(Net& net) {
        std::visit([&](auto& o) { o.begin_step(net); }, impl);
    }
    template <class Net>
    void update(Net& net, sn::Index begin, sn::Index end) {
        std::visit([&](auto& o) { o.update(net, begin, end); }, impl);
    }
    float learning_rate() const {
        return std::visit([](const auto& o) { return o.learning_rate(); }, impl);
    }
    void set_learning_rate(float lr) {
        std::visit([&](auto& o) { o.set_learning_rate(lr); }, impl);
    }
    // A CheckpointableOptimizer whose name is known at run time.
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

sn::BatchSplit batch_split(const Options& o) {
    if (o.split == "rows") return sn::BatchSplit::by_rows;
    if (o.split == "samples") return sn::BatchSplit::by_samples;
    return sn::BatchSplit::automatic;
}

AnyOptimizer make_optimizer(const Options& o) {
    if (o.optimizer == "sgd") return {sn::SGD{o.learning_rate, o.weight_decay}};
    if (o.optimizer == "rmsprop")
        return {sn::RMSprop{sn::RMSpropOptions{.learning_rate = o.learning_rate, .weight_decay = o.weight_decay}}};
    if (o.optimizer == "adamw") return {sn::AdamW{o.learning_rate, o.weight_decay}};
    if (o.optimizer == "adadelta")  // rho 0.95, epsilon 1e-7: Keras' mnist_cnn
        return {sn::Adadelta{sn::AdadeltaOptions{.learning_rate = o.learning_rate, .weight_decay = o.weight_decay}}};
    if (o.optimizer == "momentum" || o.optimizer == "nesterov")
        return {sn::Momentum{sn::MomentumOptions{.learning_rate = o.learning_rate,
                                                 .momentum = o.momentum,
                                                 .nesterov = o.optimizer == "nesterov",
                                                 .weight_decay = o.weight_decay}}};
    return {sn::Adam{sn::AdamOptions{.learning_rate = o.learning_rate, .weight_decay = o.weight_decay}}};
}

std::function<double(int)> make_schedule(const Options& o) {
    std::function<double(int)> main;
    if (o.schedule == "step") main = sn::StepDecay{.every = 5, .gamma = 0.5};
    if (o.schedule == "exp") main = sn::ExponentialDecay{.gamma = 0.95};
    // With weight averaging, the cosine anneals over the epochs before it and then
    // holds its floor while the average collects (Izmailov et al.'s SWA schedule).
    const int annealed = o.average_from > 0 ? std::min(o.epochs, o.average_from - 1) : o.epochs;
    if (o.schedule == "cosine") main = sn::CosineDecay{.epochs = std::max(1, annealed - o.warmup), .floor = o.lr_floor};
    if (o.warmup > 0) {
        if (!main) main = sn::ConstantRate{};
        return sn::Warmup<std::function<double(int)>>{.epochs = o.warmup, .then = main};
    }
    return main;
}

// `held_out`: what the per-epoch figures were measured on ("validation" or "test").
void write_history(const sn::History& h, const std::string& held_out, const fs::path& out) {
    {
        auto csv = examples::open_csv(out / "mnist_history.csv");  // closed (flushed) before gnuplot reads it
        csv << "epoch,train_loss,train_accuracy," << held_out << "_loss," << held_out << "_accuracy,seconds,learning_rate\n";
        for (const auto& r : h)
            csv << r.epoch << "," << r.loss << "," << r.accuracy << "," << r.validation_loss.value_or(NAN) << ","
                << r.validation_accuracy.value_or(NAN) << "," << r.seconds << "," << r.learning_rate.value_or(NAN)
                << "\n";
    }
    const std::string d = out.string();
    examples::gnuplot("set terminal pngcairo size 1200,450\nset output '" + d +
                          "/mnist_training.png'\nset datafile separator ','\nset key autotitle columnhead\n"
                          "set multiplot layout 1,2 title 'MNIST training'\n"
                          "set xlabel 'epoch'\nset ylabel 'cross-entropy'\nset title 'loss'\n"
                          "plot '" + d + "/mnist_history.csv' using 1:2 with linespoints lw 2 title 'train', '' using "
                          "1:4 with linespoints lw 2 title '" + held_out + "'\n"
                          "set ylabel 'accuracy (%)'\nset title 'accuracy'\nset key bottom right\n"
                          "plot '" + d + "/mnist_history.csv' using 1:($3*100) with linespoints lw 2 title 'train', '' "
                          "using 1:($5*100) with linespoints lw 2 title '" + held_out + "'\nunset multiplot\n",
                      out / "mnist_training.png");
}

// A grid of test digits: the first ones in the test set, then the first mistakes.
void write_predictions(const sn::ByteMatrix& images, const sn::Labels& truth, const sn::Labels& predicted,
                       const fs::path& out) {
    constexpr int rows = 6, cols = 10, side = 28, cell_w = 32, cell_h = 44;
    std::vector<sn::Index> shown;
    for (sn::Index i = 0; i < truth.size() && static_cast<int>(shown.size()) < (rows - 2) * cols; ++i) shown.push_back(i);
    for (sn::Index i = 0; i < truth.size() && static_cast<int>(shown.size()) < rows * cols; ++i)
        if (predicted[i] != truth[i] && std::find(shown.begin(), shown.end(), i) == shown.end()) shown.push_back(i);
    Eigen::MatrixXi canvas = Eigen::MatrixXi::Zero(rows * cell_h, cols * cell_w);
    std::string labels;
    for (std::size_t k = 0; k < shown.size(); ++k) {
        const int r = static_cast<int>(k) / cols, c = static_cast<int>(k) % cols;
        const sn::Index i = shown[k];
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x) canvas(r * cell_h + 14 + y, c * cell_w + 2 + x) = images(y * side + x, i);
        const bool right = predicted[i] == truth[i];
        labels += "set label '" + std::to_string(predicted[i]) + (right ? "" : " (" + std::to_string(truth[i]) + ")") +
                  "' at " + std::to_string(c * cell_w + 16) + "," + std::to_string(r * cell_h + 6) +
                  " center font ',11' tc rgb '" + (right ? "#1b7a2b" : "#d1202f") + "' front\n";
    }
    {
        std::ofstream m(out / "mnist_predictions.dat");
        for (int y = 0; y < canvas.rows(); ++y) {
            for (int x = 0; x < canvas.cols(); ++x) m << canvas(y, x) << (x + 1 < canvas.cols() ? " " : "\n");
        }
    }
    const std::string d = out.string();
    examples::gnuplot("set terminal pngcairo size 960,760\nset output '" + d +
                          "/mnist_predictions.png'\nset title 'Test digits: predicted label (true label where wrong, in "
                          "red); the last rows are mistakes'\nunset xtics\nunset ytics\nunset colorbox\nunset key\n"
                          "set palette gray negative\nset yrange [" + std::to_string(rows * cell_h) + ":-0.5] \n"
                          "set xrange [-0.5:" + std::to_string(cols * cell_w) + "]\nset size ratio -1\n" + labels +
                          "plot '" + d + "/mnist_predictions.dat' matrix with image\n",
                      out / "mnist_predictions.png");
}

template <class Net>
int run(const Options& o, const sn::MnistSet<sn::ByteMatrix>& data) {
    Net net(o.seed);
    if (!o.load.empty()) {
        sn::load(net, o.load);
        const sn::Evaluation e = sn::evaluate(net, data.test.images, data.test.labels);
        std::cout << "loaded " << o.load.string() << " (" << Net::architecture() << ")\n"
                  << std::fixed << std::setprecision(2) << "test accuracy: " << 100 * e.accuracy << " %  (test loss "
                  << std::setprecision(4) << e.loss << ")\n";
        return e.accuracy * 100 < o.min_accuracy ? 1 : 0;
    }
    std::cout << Net::architecture() << " (" << Net::parameter_count << " parameters), " << o.optimizer << " lr "
              << o.learning_rate << " (" << o.schedule << (o.warmup > 0 ? ", warm-up " + std::to_string(o.warmup) : "")
              << "), batch " << o.batch_size << ", threads " << o.threads << "\n";
    AnyOptimizer optimizer = make_optimizer(o);

    sn::FitOptions options{.epochs = o.epochs, .batch_size = o.batch_size, .seed = o.seed, .threads = o.threads,
                           .split = batch_split(o)};
    options.schedule = make_schedule(o);
    options.clip_norm = o.clip;
    options.max_norm = o.max_norm;
    options.average_from = o.average_from;
    options.early_stopping.patience = o.early_stopping;
    sn::History so_far;
    if (!o.resume.empty()) {
        so_far = sn::load_checkpoint(net, optimizer, o.resume);
        options.initial_epoch = static_cast<int>(so_far.size());
        options.resume = &so_far;
        std::cout << "resuming from " << o.resume.string() << " after epoch " << options.initial_epoch << "\n";
    }
    sn::ProgressBar progress(std::cout, sn::ProgressBar::stdout_is_terminal());
    // With --validation, the per-epoch figures (and early stopping) use samples
    // held out of the training set; the test set is only looked at at the end.
    // Without it, the test set is shown per epoch but chooses nothing.
    sn::History history;
    std::string held_out = "test";
    const auto train = [&](const auto& targets) {
        if (o.validation > 0) {
            options.validation_split = o.validation;
            options.validation_seed = o.seed;
            held_out = "validation";
            history = sn::fit(net, optimizer, data.train.images, targets, options, progress.callbacks());
        } else {
            if (o.early_stopping > 0) throw std::invalid_argument("--early-stopping needs --validation N");
            const sn::ValidationData<sn::ByteMatrix, sn::Labels> test{data.test.images, data.test.labels};
            history = sn::fit(net, optimizer, data.train.images, targets, test, options, progress.callbacks());
        }
    };
    if (o.label_smoothing > 0) {
        // PyTorch's label_smoothing: the targets (1 - e) one-hot + e / classes.
        const auto e = static_cast<float>(o.label_smoothing);
        sn::Matrix<float> smoothed =
            sn::Matrix<float>::Constant(Net::class_count, data.train.labels.size(), e / Net::class_count);
        for (sn::Index j = 0; j < smoothed.cols(); ++j) smoothed(data.train.labels[j], j) += 1 - e;
        train(smoothed);
    } else {
        train(data.train.labels);
    }
    if (history.averaged_epochs > 0)
        std::cout << "the network holds the average of the weights after epochs " << o.average_from << "-"
                  << o.average_from + history.averaged_epochs - 1 << "\n";
    if (history.stopped_epoch > 0)
        std::cout << "early stopping after epoch " << history.stopped_epoch << "; best validation loss in epoch "
                  << history.best_epoch << (history.restored_best ? " (its weights restored)" : "") << "\n";

    double train_seconds = 0;
    for (const auto& r : history) train_seconds += r.seconds;
    const sn::Evaluation e = sn::evaluate(net, data.test.images, data.test.labels);
    const sn::Labels predicted = [&] {
        sn::Labels p(data.test.labels.size());
        typename Net::Workspace ws;
        sn::Matrix<float> block;
        sn::Labels part;
        for (sn::Index begin = 0; begin < p.size(); begin += Net::inference_batch_size) {
            const sn::Index n = std::min<sn::Index>(Net::inference_batch_size, p.size() - begin);
            block = data.test.images.middleCols(begin, n).template cast<float>() / 255.0f;
            net.predict(typename Net::Batch(block.data(), block.rows(), n), ws, part);
            p.segment(begin, n) = part;
        }
        return p;
    }();
    std::cout << "\nconfusion matrix (rows: true class, columns: predicted)\n"
              << sn::confusion_matrix(predicted, data.test.labels, 10) << "\n\n";
    std::cout << std::fixed << std::setprecision(2) << "final test accuracy: " << 100 * e.accuracy
              << " %  (test loss " << std::setprecision(4) << e.loss << ", " << std::setprecision(2) << train_seconds
              << " s of training, " << train_seconds / static_cast<double>(std::max<std::size_t>(history.size(), 1)) << " s per epoch)\n";

    fs::create_directories(o.out);
    if (!o.save.empty()) {
        sn::save(net, o.save);
        std::cout << "saved the model to " << o.save.string() << "\n";
    }
    if (!o.checkpoint.empty()) {
        sn::save_checkpoint(net, optimizer, o.checkpoint, history);
        std::cout << "wrote a checkpoint after epoch " << history.size() << " to " << o.checkpoint.string() << "\n";
    }
    write_history(history, held_out, o.out);
    write_predictions(data.test.images, data.test.labels, predicted, o.out);
    std::cout << "wrote " << (o.out / "mnist_training.png").string() << ", "
              << (o.out / "mnist_predictions.png").string() << ", " << (o.out / "mnist_history.csv").string() << "\n";
    if (e.accuracy * 100 < o.min_accuracy) {
        std::cerr << "test accuracy " << 100 * e.accuracy << " % is below the required " << o.min_accuracy << " %\n";
        return 1;
    }
    return 0;
}

template <class... Layers>
using Classifier = sn::Network<Layers..., sn::Softmax, sn::CrossEntropy>;

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (const auto exit_code = parse_options(argc, argv, o)) return *exit_code;

    try {
        const auto start = std::chrono::steady_clock::now();
        const auto data = sn::load_mnist_bytes(o.data);
        std::cout << "loaded " << o.data.string() << ": " << data.train.images.cols() << " training and "
                  << data.test.images.cols() << " test images in " << std::setprecision(3)
                  << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
        // Image shapes are part of the type too: MNIST's columns are 1 x 28 x 28 images
        // in the order Input<1, 28, 28> expects, so the same data feed every model.
        if (o.lr_floor > 0 && o.schedule != "cosine") throw std::invalid_argument("--lr-floor goes with --schedule cosine");
        if (o.schedule == "cosine" && o.average_from > 0 && o.average_from <= o.epochs) {
            // The cosine reaches its floor as the averaging begins: a floor of 0
            // would average weights that no longer move.
            if (o.lr_floor <= 0) throw std::invalid_argument("--average-from with --schedule cosine needs --lr-floor > 0");
            if (o.average_from <= o.warmup + 1)
                throw std::invalid_argument("--average-from must leave the warm-up and at least one cosine epoch before it");
        }
        if (o.model != "mlp" && (o.hidden != "128" || o.dropout > 0))
            throw std::invalid_argument("--hidden and --dropout describe --model mlp; --model " + o.model +
                                        " is fixed (its Dropout is part of it)");
        if (o.model == "lenet")
            return run<Classifier<sn::Input<1, 28, 28>, sn::Conv2D<1, 6, 5, 1, 2>, sn::ReLU, sn::MaxPool2D<2>,
                                  sn::Conv2D<6, 16, 5>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten, sn::Dense<400, 120>,
                                  sn::ReLU, sn::Dense<120, 84>, sn::ReLU, sn::Dense<84, 10>>>(o, data);
        if (o.model == "resnet")  // the README's residual network (common/resnet.hpp)
            return run<examples::MnistResNet<sn::Softmax, sn::CrossEntropy>>(o, data);
        if (o.model == "resnet-wide")  // the same family, half as wide again
            return run<examples::WideResNet<sn::Softmax, sn::CrossEntropy>>(o, data);
        if (o.model == "cnn")
            return run<Classifier<sn::Input<1, 28, 28>, sn::Conv2D<1, 32, 3>, sn::ReLU, sn::Conv2D<32, 64, 3>, sn::ReLU,
                                  sn::MaxPool2D<2>, sn::Dropout<0.25>, sn::Flatten, sn::Dense<9216, 128>, sn::ReLU,
                                  sn::Dropout<0.5>, sn::Dense<128, 10>>>(o, data);
        // Dropout<Rate> is part of the type: the rates on offer are those of the two
        // dropout networks of the literature (Keras' mnist_mlp; Srivastava et al.).
        const bool drop = o.dropout > 0;
        if (drop && !((o.hidden == "512-512" && o.dropout == 0.2) || (o.hidden == "1024-1024-2048" && o.dropout == 0.5)))
            throw std::invalid_argument("--dropout: 0.2 goes with --hidden 512-512 and 0.5 with 1024-1024-2048");
        if (o.hidden == "512-256")
            return run<Classifier<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 256>, sn::ReLU, sn::Dense<256, 10>>>(o, data);
        if (o.hidden == "512-512" && drop)
            return run<Classifier<sn::Dense<784, 512>, sn::ReLU, sn::Dropout<0.2>, sn::Dense<512, 512>, sn::ReLU,
                                  sn::Dropout<0.2>, sn::Dense<512, 10>>>(o, data);
        if (o.hidden == "512-512")
            return run<Classifier<sn::Dense<784, 512>, sn::ReLU, sn::Dense<512, 512>, sn::ReLU, sn::Dense<512, 10>>>(o, data);
        if (o.hidden == "1024-1024-2048") {
            if (!drop) throw std::invalid_argument("--hidden 1024-1024-2048 is the dropout network: add --dropout 0.5");
            return run<Classifier<sn::Dropout<0.2>, sn::Dense<784, 1024>, sn::ReLU, sn::Dropout<0.5>,
                                  sn::Dense<1024, 1024>, sn::ReLU, sn::Dropout<0.5>, sn::Dense<1024, 2048>, sn::ReLU,
                                  sn::Dropout<0.5>, sn::Dense<2048, 10>>>(o, data);
        }
        return run<Classifier<sn::Dense<784, 128>, sn::ReLU, sn::Dense<128, 10>>>(o, data);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
