// XOR, the course's first network: 2-4-2 with tanh and softmax, trained by
// mini-batch gradient descent to 100 %. Prints each input with its prediction and
// draws the loss curve and the decision boundary.
#include <scratchnet/scratchnet.hpp>

#include "common/plot.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>

namespace sn = scratchnet;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    int epochs = 2000;
    float learning_rate = 0.5f;
    std::uint64_t seed = 1;
    fs::path out = ".";
    CLI::App app{"Train a 2-4-2 network on XOR"};
    app.add_option("--epochs", epochs, "passes over the four samples")->capture_default_str();
    app.add_option("--lr", learning_rate, "SGD learning rate")->capture_default_str();
    app.add_option("--seed", seed, "weights and shuffling")->capture_default_str();
    app.add_option("--out", out, "directory for the pictures and CSV")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    fs::create_directories(out);

    using Net = sn::Network<sn::Dense<2, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;
    Net net(seed);
    sn::Matrix<float> X(2, 4);
    X << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    sn::Labels y(4);
    y << 0, 1, 1, 0;

    sn::SGD sgd{learning_rate};
    const sn::History history = sn::fit(net, sgd, X, y, {.epochs = epochs, .batch_size = 4, .seed = seed});

    const sn::Labels predicted = net.predict(X);
    const sn::Matrix<float> P = net.forward(X);
    std::cout << std::fixed << "x1 x2 -> predicted (p(1))  expected\n";
    for (int j = 0; j < 4; ++j)
        std::cout << std::setprecision(0) << " " << X(0, j) << "  " << X(1, j) << "  -> " << predicted[j] << " ("
                  << std::setprecision(3) << P(1, j) << ")      " << y[j] << "\n";
    const double acc = sn::accuracy(predicted, y);
    std::cout << "final loss " << std::setprecision(5) << history.back().loss << ", accuracy " << std::setprecision(1)
              << 100 * acc << " %\n";

    {
        auto csv = examples::open_csv(out / "xor_loss.csv");
        csv << "epoch,loss\n";
        for (const auto& r : history) csv << r.epoch << "," << r.loss << "\n";
    }
    {
        // p(class 1) over a grid covering the four points: the decision boundary is p = 0.5.
        constexpr int n = 101;
        sn::Matrix<float> G(2, n * n);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                G(0, i * n + j) = -0.5f + 2.0f * static_cast<float>(i) / (n - 1);
                G(1, i * n + j) = -0.5f + 2.0f * static_cast<float>(j) / (n - 1);
            }
        const sn::Matrix<float> PG = net.forward(G);
        auto csv = examples::open_csv(out / "xor_grid.csv");
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) csv << G(0, i * n + j) << " " << G(1, i * n + j) << " " << PG(1, i * n + j) << "\n";
            csv << "\n";
        }
    }
    const std::string dir = out.string();
    examples::gnuplot("set terminal pngcairo size 800,500\nset output '" + dir +
                          "/xor_loss.png'\nset title 'XOR: training loss'\nset xlabel 'epoch'\nset ylabel "
                          "'cross-entropy'\nset logscale y\nset datafile separator ','\nplot '" +
                          dir + "/xor_loss.csv' every ::1 using 1:2 with lines lw 2 title 'loss'\n",
                      out / "xor_loss.png");
    examples::gnuplot("set terminal pngcairo size 700,600\nset output '" + dir +
                          "/xor_boundary.png'\nset title 'XOR: p(class 1) and the decision boundary p = 0.5'\n"
                          "set view map\nset xrange [-0.5:1.5]\nset yrange [-0.5:1.5]\nset cbrange [0:1]\n"
                          "set palette defined (0 '#3b6fb6', 0.5 'white', 1 '#d1495b')\n"
                          "set contour base\nset cntrparam levels discrete 0.5\nunset clabel\nunset surface\n"
                          "set table '" + dir + "/xor_contour.dat'\nsplot '" + dir + "/xor_grid.csv' using 1:2:3\n"
                          "unset table\nunset contour\n"
                          "$points << EOD\n0 0 0\n0 1 1\n1 0 1\n1 1 0\nEOD\n"
                          "set key outside bottom center horizontal\n"
                          "plot '" + dir + "/xor_grid.csv' using 1:2:3 with image notitle, '" + dir +
                          "/xor_contour.dat' using 1:2 with lines lc 'black' lw 2 title 'p = 0.5', "
                          "$points using 1:2:($3 > 0 ? 7 : 5) with points pt variable ps 3 lc 'black' title "
                          "'samples (circle: class 1, square: class 0)'\n",
                      out / "xor_boundary.png");
    std::cout << "wrote " << dir << "/xor_loss.png, " << dir << "/xor_boundary.png (data: xor_loss.csv, xor_grid.csv)\n";
    return acc == 1.0 ? 0 : 1;
}
