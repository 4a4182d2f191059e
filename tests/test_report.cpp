// Seeing the model and the results: summary(), classification_report() against a
// hand computation, and History::write_csv.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "support/temp_dir.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace sn = scratchnet;
using doctest::Approx;

TEST_CASE("summary lists each layer's output shape and parameters, then the loss and the totals") {
    using Net = sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 2, 3>, sn::ReLU, sn::MaxPool2D<2>, sn::Flatten,
                            sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    // Conv2D<1,2,3>: 2 kernels of 3x3 and 2 biases = 20; Dense<8,3>: 24 + 3 = 27.
    CHECK(Net::summary() ==
          "Layer              Output shape  Parameters\n"
          "Input<1,6,6>       1x6x6                  0\n"
          "Conv2D<1,2,3,1,0>  2x4x4                 20\n"
          "ReLU               2x4x4                  0\n"
          "MaxPool2D<2,2>     2x2x2                  0\n"
          "Flatten            8                      0\n"
          "Dense<8,3>         3                     27\n"
          "Softmax            3                      0\n"
          "Loss: CrossEntropy\n"
          "Parameters: 47 trained\n");
    CHECK(Net::parameter_count == 47);
    using Norm = sn::Network<sn::Dense<4, 3>, sn::BatchNorm, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;
    CHECK(Norm::summary().find("Parameters: 29 trained, 6 of state not trained") != std::string::npos);
}

TEST_CASE("classification_report gives precision, recall, F1 and support as worked out by hand") {
    // truth 0 0 0 1 1 2, predicted 0 0 1 1 2 2:
    //   class 0: TP 2, FP 0, FN 1 -> precision 1, recall 2/3, F1 0.8
    //   class 1: TP 1, FP 1, FN 1 -> 1/2, 1/2, 1/2
    //   class 2: TP 1, FP 1, FN 0 -> 1/2, 1, 2/3
    sn::Labels truth(6), predicted(6);
    truth << 0, 0, 0, 1, 1, 2;
    predicted << 0, 0, 1, 1, 2, 2;
    const sn::ClassificationReport r = sn::classification_report(predicted, truth, 3);
    REQUIRE(r.classes.size() == 3);
    CHECK(r.classes[0].precision == 1.0);
    CHECK(r.classes[0].recall == Approx(2.0 / 3));
    CHECK(r.classes[0].f1 == Approx(0.8));
    CHECK(r.classes[1].f1 == Approx(0.5));
    CHECK(r.classes[2].recall == 1.0);
    CHECK(r.classes[2].f1 == Approx(2.0 / 3));
    CHECK(r.classes[0].support == 3);
    CHECK(r.accuracy == Approx(4.0 / 6));
    CHECK(r.macro.precision == Approx(2.0 / 3));
    CHECK(r.macro.recall == Approx((2.0 / 3 + 0.5 + 1) / 3));
    CHECK(r.macro.f1 == Approx((0.8 + 0.5 + 2.0 / 3) / 3));
    CHECK(r.weighted.precision == Approx((3 * 1.0 + 2 * 0.5 + 1 * 0.5) / 6));
    CHECK(r.weighted.recall == Approx(4.0 / 6));
    CHECK(r.weighted.f1 == Approx((3 * 0.8 + 2 * 0.5 + 2.0 / 3) / 6));
    CHECK(r.str({"cat", "dog", "bird"}).find("\n         cat     1.0000     0.6667     0.8000          3\n") !=
          std::string::npos);
    std::ostringstream printed;
    printed << r;
    CHECK(printed.str().find("weighted avg     0.7500     0.6667     0.6778          6") != std::string::npos);
    // A class never predicted has precision 0, not NaN (scikit-learn's zero_division).
    const sn::ClassificationReport none = sn::classification_report(sn::Labels::Zero(6), truth, 3);
    CHECK(none.classes[1].precision == 0.0);
    CHECK(none.classes[1].f1 == 0.0);
}

TEST_CASE("classification_report of a network equals the report of its predictions") {
    using Net = sn::Network<sn::Dense<2, 8>, sn::Tanh, sn::Dense<8, 3>, sn::Softmax, sn::CrossEntropy>;
    const Net net(3);
    sn::Matrix<float> X = sn::Matrix<float>::Random(2, 50);
    sn::Labels y(50);
    for (int j = 0; j < 50; ++j) y[j] = j % 3;
    const sn::ClassificationReport a = sn::classification_report(net, X, y, 2);
    const sn::ClassificationReport b = sn::classification_report(net.predict(X), y, 3);
    CHECK(a.str() == b.str());
}

TEST_CASE("History::write_csv writes every epoch's figures, an empty field where there is none") {
    sn::History h;
    h.push_back({.epoch = 1, .loss = 0.5, .accuracy = 0.75, .validation_loss = 0.25, .validation_accuracy = {},
                 .seconds = 1.5, .learning_rate = 0.1});
    h.push_back({.epoch = 2, .loss = 0.125, .accuracy = 1, .validation_loss = {}, .validation_accuracy = {},
                 .seconds = 2, .learning_rate = {}});
    fixtures::TempDir dir("history");
    const std::string path = (dir / "h.csv").string();
    h.write_csv(path);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() ==
          "epoch,loss,accuracy,validation_loss,validation_accuracy,seconds,learning_rate\n"
          "1,0.5,0.75,0.25,,1.5,0.10000000000000001\n"
          "2,0.125,1,,,2,\n");
    CHECK_THROWS_WITH_AS(h.write_csv((dir / "no" / "such" / "dir.csv").string()), doctest::Contains("dir.csv: cannot open"),
                         std::runtime_error);
    // The written file reads back with read_csv.
    const sn::CsvTable t = sn::read_csv(path, {.missing = sn::CsvMissing::nan});
    CHECK(t.numbers<double>({"loss"})(0, 1) == 0.125);
}
