#pragma once
// classification_report(): precision, recall, F1 and support per class, with the
// macro and support-weighted averages and the accuracy, as scikit-learn's
// classification_report gives them (a ratio with nothing to divide is 0).
//
//   std::cout << sn::classification_report(net, X_test, y_test);
//   std::cout << sn::classification_report(net, X_test, y_test).str(classes.names);

#include "scratchnet/core.hpp"
#include "scratchnet/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace scratchnet {

/// One class's figures.
struct ClassScores {
    double precision = 0;  ///< of the samples predicted this class, the fraction that are
    double recall = 0;     ///< of the samples of this class, the fraction predicted so
    double f1 = 0;         ///< harmonic mean of the two
    Index support = 0;     ///< samples of this class
};

struct ClassificationReport {
    std::vector<ClassScores> classes;
    ClassScores macro;     ///< unweighted mean over the classes (support: all samples)
    ClassScores weighted;  ///< mean weighted by support
    double accuracy = 0;

    /// The table as scikit-learn prints it; names[k] labels class k where given.
    std::string str(const std::vector<std::string>& names = {}) const {
        std::size_t width = 12;
        for (std::size_t k = 0; k < classes.size(); ++k)
            width = std::max(width, k < names.size() ? names[k].size() : std::to_string(k).size());
        std::string out;
        char line[256];
        const auto row = [&](const std::string& name, const ClassScores& s) {
            std::snprintf(line, sizeof line, "%*s %10.4f %10.4f %10.4f %10ld\n", static_cast<int>(width),
                          name.c_str(), s.precision, s.recall, s.f1, static_cast<long>(s.support));
            out += line;
        };
        std::snprintf(line, sizeof line, "%*s %10s %10s %10s %10s\n\n", static_cast<int>(width), "", "precision",
                      "recall", "f1-score", "support");
        out += line;
        for (std::size_t k = 0; k < classes.size(); ++k) row(k < names.size() ? names[k] : std::to_string(k), classes[k]);
        std::snprintf(line, sizeof line, "\n%*s %10s %10s %10.4f %10ld\n", static_cast<int>(width), "accuracy", "", "",
                      accuracy, static_cast<long>(macro.support));
        out += line;
        row("macro avg", macro);
        row("weighted avg", weighted);
        return out;
    }

    friend std::ostream& operator<<(std::ostream& os, const ClassificationReport& r) { return os << r.str(); }
};

/// The report of a confusion matrix C (C(i, j): samples of class i predicted j).
inline ClassificationReport classification_report(const Eigen::MatrixXi& C) {
    if (C.rows() != C.cols() || C.rows() == 0)
        throw std::invalid_argument("scratchnet::classification_report: the confusion matrix must be square and not empty");
    const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    ClassificationReport r;
    Index total = 0, right = 0;
    for (Index k = 0; k < C.rows(); ++k) {
        const double tp = C(k, k), predicted = C.col(k).sum(), actual = C.row(k).sum();
        ClassScores s;
        s.precision = ratio(tp, predicted);
        s.recall = ratio(tp, actual);
        s.f1 = ratio(2 * s.precision * s.recall, s.precision + s.recall);
        s.support = C.row(k).sum();
        r.classes.push_back(s);
        total += s.support;
        right += C(k, k);
    }
    const auto n = static_cast<double>(r.classes.size());
    for (const ClassScores& s : r.classes) {
        r.macro.precision += s.precision / n;
        r.macro.recall += s.recall / n;
        r.macro.f1 += s.f1 / n;
        const double w = ratio(static_cast<double>(s.support), static_cast<double>(total));
        r.weighted.precision += w * s.precision;
        r.weighted.recall += w * s.recall;
        r.weighted.f1 += w * s.f1;
    }
    r.macro.support = r.weighted.support = total;
    r.accuracy = ratio(static_cast<double>(right), static_cast<double>(total));
    return r;
}

/// The report of predicted against true labels, classes 0..classes-1.
inline ClassificationReport classification_report(const Labels& predicted, const Labels& truth, Index classes) {
    return classification_report(confusion_matrix(predicted, truth, classes));
}

/// The report of `net` on (X, y). Threads as evaluate().
template <class Net, class Inputs>
ClassificationReport classification_report(const Net& net, const Inputs& X, const Labels& y, unsigned threads = 0) {
    return classification_report(confusion_matrix(net, X, y, threads));
}

}  // namespace scratchnet
