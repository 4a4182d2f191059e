#pragma once
// What a network's outputs mean, read off its type: class scores, one
// probability, or numbers to regress. predict(), accuracy(), evaluate(), fit's
// History and the Labels a network trains on all follow from it, so a regression
// network cannot report an accuracy and a one-output classifier is not judged
// by the argmax of a single row.

#include "scratchnet/activations.hpp"
#include "scratchnet/core.hpp"
#include "scratchnet/losses.hpp"

#include <type_traits>

namespace scratchnet {

enum class Task {
    /// Several outputs, one per class: the predicted class is the largest output
    /// (Softmax + CrossEntropy, or any squashing output layer).
    classification,
    /// One output read as p(class 1): the predicted class is 1 where p >= 0.5
    /// (a one-output Sigmoid network, or any one-output BinaryCrossEntropy network).
    binary,
    /// Outputs are numbers, not classes (MeanSquaredError on an Identity or Dense
    /// output, or a one-output network without a Sigmoid): no predicted class, no
    /// accuracy; evaluate() reports MSE, MAE and R^2.
    regression,
};

/// The task of a network whose last layer is OutputLayer, trained with Loss, with
/// `outputs` outputs.
template <class OutputLayer, class L, Index Outputs>
constexpr Task task_of() {
    constexpr bool squashing = std::is_same_v<OutputLayer, Softmax> || std::is_same_v<OutputLayer, Sigmoid> ||
                               std::is_same_v<OutputLayer, Tanh>;
    if constexpr (Outputs == 1)
        return std::is_same_v<OutputLayer, Sigmoid> || std::is_same_v<L, BinaryCrossEntropy> ? Task::binary
                                                                                             : Task::regression;
    else if constexpr (std::is_same_v<L, MeanSquaredError> && !squashing)
        return Task::regression;
    else
        return Task::classification;
}

/// Classes a Labels vector may name for a network of this task and width:
/// the outputs, 2 for a binary network, 0 (no labels) for regression.
constexpr Index class_count(Task task, Index outputs) {
    return task == Task::classification ? outputs : task == Task::binary ? 2 : 0;
}

namespace detail {

/// Predicted class of column j of outputs P (not for regression).
template <Task K, class D>
Index predicted_class(const Eigen::MatrixBase<D>& P, Index j) {
    static_assert(K != Task::regression);
    if constexpr (K == Task::binary) {
        return P(0, j) >= typename D::Scalar(0.5) ? 1 : 0;
    } else {
        Index k = 0;
        P.col(j).maxCoeff(&k);
        return k;
    }
}

}  // namespace detail
}  // namespace scratchnet
