// Trains a network on the numbers of any CSV file, from the command line:
//
//   tabular --csv FILE --label COLUMN [--task classification|binary|regression]
//           [--delimiter D] [--no-header] [--skip-rows N] [--hidden 32] [--epochs N] [--seed S]
//
// COLUMN is a name, an index (0 the first, -1 the last) or `last`; every other
// column is a feature and must hold numbers. Without --task, a label column of
// names, or of at most 20 distinct whole numbers, is a classification (binary
// with two classes); anything else a regression. The program splits the rows
// 80/20 (stratified by class), standardises the features on the training part,
// trains one hidden ReLU layer with Adam, and prints `test accuracy: X %` or
// `test R^2: X` as its last line.
//
// A network's widths are types, so this program is compiled for a few: inputs
// 16 or 128 (the features are padded with zeros, which no weight ever sees as
// anything but 0), hidden 16, 32 or 64, and for classes 4 or 16 softmax
// outputs (outputs no sample belongs to are trained towards 0). It prints what
// it chose. A program for one data set names its own widths:
//   sn::Network<sn::Dense<13, 32>, sn::ReLU, sn::Dense<32, 3>, sn::Softmax, sn::CrossEntropy>
#include <scratchnet/scratchnet.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace sn = scratchnet;

namespace {

struct Settings {
    std::string csv, label, task = "auto";
    std::string delimiter;
    bool no_header = false;
    std::size_t skip_rows = 0;
    int hidden = 32, epochs = 100, batch = 32;
    float lr = 0.003f;
    double test_fraction = 0.2;
    std::uint64_t seed = 1;
    std::string save_split;
};

/// The data, split and scaled: features padded to the network's input width later.
struct Prepared {
    std::vector<std::string> feature_names;
    std::string label_name;
    sn::Matrix<float> X_train, X_test;
    sn::Labels y_train, y_test;          // classification and binary
    sn::Matrix<float> Y_train, Y_test;   // regression (standardised)
    std::size_t classes = 0;
    std::vector<std::string> class_names;
};

sn::CsvColumn label_column(const sn::CsvTable& t, const std::string& label) {
    const auto& names = t.names();
    if (std::find(names.begin(), names.end(), label) != names.end()) return label;
    if (label == "last") return -1;
    int index = 0;
    const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), index);
    if (ec == std::errc() && end == label.data() + label.size()) return index;
    return label;  // read_csv's error names the columns there are
}

/// The task the label column suggests: names or few whole numbers are classes.
std::string guess_task(const sn::CsvTable& t, sn::Index column) {
    std::set<std::string_view> distinct;
    bool whole = true, numeric = true;
    for (sn::Index r = 0; r < t.rows(); ++r) {
        const std::string_view f = t.field(r, column);
        const char* last = f.data() + f.size();
        long long v = 0;
        const auto [end, ec] = std::from_chars(f.data(), last, v);
        whole = whole && ec == std::errc() && end == last;
        double d = 0;
        const auto [dend, dec] = std::from_chars(f.data(), last, d);
        numeric = numeric && dec == std::errc() && dend == last;
        distinct.insert(f);
    }
    if (!numeric || (whole && distinct.size() <= 20)) return distinct.size() == 2 ? "binary" : "classification";
    return "regression";
}

/// One part of the split as CSV: the scaled features, then the label (class
/// number, or the standardised target), so that another tool trains on exactly
/// these rows (examples/tabular_sklearn.py).
void write_part(const std::string& path, const Prepared& d, const sn::Matrix<float>& X, const sn::Labels& y,
                const sn::Matrix<float>& Y) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error(path + ": cannot open the file for writing");
    for (const std::string& name : d.feature_names) std::fprintf(f, "\"%s\",", name.c_str());
    std::fprintf(f, "\"%s\"\n", d.label_name.c_str());
    for (sn::Index j = 0; j < X.cols(); ++j) {
        for (sn::Index i = 0; i < X.rows(); ++i) std::fprintf(f, "%.9g,", static_cast<double>(X(i, j)));
        if (y.size() > 0) std::fprintf(f, "%d\n", y[j]);
        else std::fprintf(f, "%.9g\n", static_cast<double>(Y(0, j)));
    }
    if (std::fclose(f) != 0) throw std::runtime_error(path + ": write error");
}

template <sn::Index Inputs>
sn::Matrix<float> padded(const sn::Matrix<float>& X) {
    sn::Matrix<float> out = sn::Matrix<float>::Zero(Inputs, X.cols());
    out.topRows(X.rows()) = X;
    return out;
}

template <class Net>
int train(const Prepared& d, const Settings& s) {
    Net net(s.seed);
    std::cout << Net::summary();
    std::cout << "network: " << Net::architecture() << " (" << d.X_train.rows() << " features in " << Net::input_size
              << " inputs";
    if (d.classes > 2) std::cout << ", " << d.classes << " classes in " << Net::output_size << " outputs";
    std::cout << ")\n";
    const sn::Matrix<float> Xtr = padded<Net::input_size>(d.X_train), Xte = padded<Net::input_size>(d.X_test);
    sn::Adam adam(s.lr);
    sn::FitOptions o{.epochs = s.epochs, .batch_size = s.batch, .seed = s.seed};
    if constexpr (Net::task == sn::Task::regression) {
        sn::fit(net, adam, Xtr, d.Y_train, o);
        const auto e = sn::evaluate(net, Xte, d.Y_test);
        std::printf("test MSE (standardised target): %.4f, MAE %.4f\n", e.mse, e.mae);
        std::printf("test R^2: %.4f\n", e.r2);
    } else {
        sn::fit(net, adam, Xtr, d.y_train, o);
        const double train_accuracy = sn::accuracy(net, Xtr, d.y_train);
        const auto e = sn::evaluate(net, Xte, d.y_test);
        std::printf("train accuracy: %.2f %%, test loss %.4f\n", 100 * train_accuracy, e.loss);
        // The padded outputs belong to no class: left out unless a sample was predicted there.
        Eigen::MatrixXi C = sn::confusion_matrix(net, Xte, d.y_test);
        const auto k = static_cast<sn::Index>(d.classes);
        if (C.rows() > k && C.rightCols(C.cols() - k).sum() == 0) C = C.topLeftCorner(k, k).eval();
        std::cout << "\n" << sn::classification_report(C).str(d.class_names) << "\n";
        std::printf("test accuracy: %.2f %%\n", 100 * e.accuracy);
    }
    return 0;
}

template <sn::Index Inputs, sn::Index Hidden>
int with_widths(const Prepared& d, const Settings& s, const std::string& task) {
    if (task == "binary")
        return train<sn::Network<sn::Dense<Inputs, Hidden>, sn::ReLU, sn::Dense<Hidden, 1>, sn::Sigmoid,
                                 sn::BinaryCrossEntropy>>(d, s);
    if (task == "regression")
        return train<sn::Network<sn::Dense<Inputs, Hidden>, sn::ReLU, sn::Dense<Hidden, 1>, sn::Identity,
                                 sn::MeanSquaredError>>(d, s);
    if (d.classes <= 4)
        return train<sn::Network<sn::Dense<Inputs, Hidden>, sn::ReLU, sn::Dense<Hidden, 4>, sn::Softmax,
                                 sn::CrossEntropy>>(d, s);
    return train<sn::Network<sn::Dense<Inputs, Hidden>, sn::ReLU, sn::Dense<Hidden, 16>, sn::Softmax,
                             sn::CrossEntropy>>(d, s);
}

template <sn::Index Inputs>
int with_inputs(const Prepared& d, const Settings& s, const std::string& task) {
    if (s.hidden <= 16) return with_widths<Inputs, 16>(d, s, task);
    if (s.hidden <= 32) return with_widths<Inputs, 32>(d, s, task);
    return with_widths<Inputs, 64>(d, s, task);
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    CLI::App app{"Train a network on the numbers of a CSV file"};
    app.add_option("--csv", s.csv, "the CSV file")->required();
    app.add_option("--label", s.label, "the target column: a name, an index (-1 the last) or `last`")->required();
    app.add_option("--task", s.task, "what the label is (auto: names or <= 20 whole numbers are classes)")
        ->check(CLI::IsMember({"auto", "classification", "binary", "regression"}))
        ->capture_default_str();
    app.add_option("--delimiter", s.delimiter, "one character, or `tab` (default: detected)");
    app.add_flag("--no-header", s.no_header, "the first line is data, not column names");
    app.add_option("--skip-rows", s.skip_rows, "lines to skip before the header")->capture_default_str();
    app.add_option("--hidden", s.hidden, "hidden units (compiled: 16, 32, 64; the next one up is used)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--epochs", s.epochs, "passes over the training part")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--batch", s.batch, "mini-batch size")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--lr", s.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--test-fraction", s.test_fraction, "held out for the test figure")
        ->check(CLI::Range(0.01, 0.99))
        ->capture_default_str();
    app.add_option("--seed", s.seed, "split, weights and shuffling")->capture_default_str();
    app.add_option("--save-split", s.save_split,
                   "write the scaled training and test rows to DIR/train.csv and DIR/test.csv");
    CLI11_PARSE(app, argc, argv);

    try {
        sn::CsvOptions csv;
        if (s.delimiter == "tab" || s.delimiter == "\\t") csv.delimiter = '\t';
        else if (s.delimiter.size() == 1) csv.delimiter = s.delimiter[0];
        else if (!s.delimiter.empty()) throw std::invalid_argument("--delimiter: one character or `tab`, not \"" + s.delimiter + "\"");
        csv.header = !s.no_header;
        csv.skip_rows = s.skip_rows;
        const sn::CsvTable table = sn::read_csv(s.csv, csv);
        const sn::Index label = table.column(label_column(table, s.label));
        const std::string task = s.task == "auto" ? guess_task(table, label) : s.task;
        const sn::Matrix<float> X = table.numbers_except({label});
        std::printf("%s: %ld rows, %ld features, label column %ld (\"%s\"), task %s%s\n", s.csv.c_str(),
                    static_cast<long>(table.rows()), static_cast<long>(X.rows()), static_cast<long>(label),
                    table.names()[static_cast<std::size_t>(label)].c_str(), task.c_str(),
                    s.task == "auto" ? " (guessed; --task to choose)" : "");
        if (X.rows() > 128) throw std::invalid_argument("this program is compiled for at most 128 features");

        Prepared d;
        for (sn::Index c = 0; c < table.cols(); ++c)
            if (c != label) d.feature_names.push_back(table.names()[static_cast<std::size_t>(c)]);
        d.label_name = table.names()[static_cast<std::size_t>(label)];
        sn::Standardizer scale;
        if (task == "regression") {
            const sn::Matrix<float> Y = table.numbers({label});
            auto split = sn::train_test_split(X, Y, s.test_fraction, s.seed);
            sn::Standardizer target;
            d.Y_train = target.fit_transform(split.y_train);
            d.Y_test = target.transform(split.y_test);
            d.X_train = scale.fit_transform(split.X_train);
            d.X_test = scale.transform(split.X_test);
        } else {
            const sn::CsvClasses classes = table.classes(label);
            d.classes = classes.names.size();
            d.class_names = classes.names;
            std::printf("classes:");
            for (std::size_t k = 0; k < classes.names.size(); ++k) std::printf(" %zu=%s", k, classes.names[k].c_str());
            std::printf("\n");
            if (task == "binary" && d.classes != 2)
                throw std::invalid_argument("--task binary needs 2 classes; the label column has " + std::to_string(d.classes));
            if (d.classes > 16) throw std::invalid_argument("this program is compiled for at most 16 classes");
            auto split = sn::train_test_split(X, classes.labels, s.test_fraction, s.seed);
            d.y_train = split.y_train;
            d.y_test = split.y_test;
            d.X_train = scale.fit_transform(split.X_train);
            d.X_test = scale.transform(split.X_test);
        }
        std::printf("split: %ld training rows, %ld test rows (seed %llu)\n", static_cast<long>(d.X_train.cols()),
                    static_cast<long>(d.X_test.cols()), static_cast<unsigned long long>(s.seed));
        if (!s.save_split.empty()) {
            write_part(s.save_split + "/train.csv", d, d.X_train, d.y_train, d.Y_train);
            write_part(s.save_split + "/test.csv", d, d.X_test, d.y_test, d.Y_test);
        }
        return X.rows() <= 16 ? with_inputs<16>(d, s, task) : with_inputs<128>(d, s, task);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tabular: %s\n", e.what());
        return 1;
    }
}
