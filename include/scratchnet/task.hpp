#pragma once
// What a network's outputs mean, read off its loss: class scores, one probability,
// independent yes/no labels, or numbers to regress. predict(), accuracy(),
// evaluate(), fit's History and the targets a network trains on all follow from it.
//
// The loss declares it (losses.hpp: `static constexpr Task task`); a loss that
// declares nothing is a regression loss, so a user's own loss never has accuracy
// and argmax applied to values it did not mean as classes.

#include "scratchnet/core.hpp"

#include <concepts>

namespace scratchnet {

enum class Task {
    /// Several outputs, one per class: the predicted class is the largest output
    /// (CrossEntropy). Targets: one-hot columns (or Labels).
    classification,
    /// One output read as p(class 1): the predicted class is 1 where p >= 0.5
    /// (a one-output BinaryCrossEntropy network). Targets: 0/1 (or Labels).
    binary,
    /// Several outputs, each an independent yes/no (BinaryCrossEntropy over more
    /// than one output): each predicted 1 where p >= 0.5. Targets: a 0/1 matrix,
    /// outputs x samples. Accuracy is per label (Keras' binary accuracy).
    multilabel,
    /// Outputs are numbers, not classes (any loss that declares no task, such as
    /// MeanSquaredError): no predicted class, no accuracy; evaluate() reports MSE,
    /// MAE and R^2.
    regression,
};

namespace detail {
/// The task loss L declares, or regression.
template <class L>
constexpr Task declared_task() {
    if constexpr (requires { { L::task } -> std::convertible_to<Task>; })
        return L::task;
    else
        return Task::regression;
}
}  // namespace detail

/// The task of a network trained with loss L over `Outputs` outputs. The loss
/// decides; the output count only tells a binary network (one output) from a
/// multi-label one (several). OutputLayer does not take part (the output layer's
/// own trait, gives_probabilities, is checked against the loss by the network).
template <class OutputLayer, class L, Index Outputs>
constexpr Task task_of() {
    constexpr Task declared = detail::declared_task<L>();
    if constexpr (declared == Task::binary || declared == Task::multilabel)
        return Outputs == 1 ? Task::binary : Task::multilabel;
    else
        return declared;
}

/// Classes a Labels vector may name for a network of this task and width:
/// the outputs, 2 for a binary network, 0 (no Labels) for multilabel and regression.
constexpr Index class_count(Task task, Index outputs) {
    return task == Task::classification ? outputs : task == Task::binary ? 2 : 0;
}

/// Whether a network of this task predicts classes (and so has an accuracy).
constexpr bool has_classes(Task task) { return task != Task::regression; }

/// Judgements per sample that accuracy counts: one per output for multilabel (each
/// label right or wrong), else one.
constexpr Index judgements_per_sample(Task task, Index outputs) {
    return task == Task::multilabel ? outputs : 1;
}

namespace detail {

/// Predicted class of column j of outputs P (classification and binary).
template <Task K, class D>
Index predicted_class(const Eigen::MatrixBase<D>& P, Index j) {
    static_assert(K == Task::classification || K == Task::binary);
    if constexpr (K == Task::binary) {
        return P(0, j) >= typename D::Scalar(0.5) ? 1 : 0;
    } else {
        Index k = 0;
        P.col(j).maxCoeff(&k);
        return k;
    }
}

/// Judgements of column j of outputs P that agree with targets Y: 0 or 1, or for
/// multilabel the number of labels whose p >= 0.5 matches the target's.
template <Task K, class DP, class DY>
Index hits(const Eigen::MatrixBase<DP>& P, const Eigen::MatrixBase<DY>& Y, Index j) {
    static_assert(K != Task::regression);
    if constexpr (K == Task::multilabel) {
        using SP = typename DP::Scalar;
        using SY = typename DY::Scalar;
        Index n = 0;
        for (Index i = 0; i < P.rows(); ++i) n += (P(i, j) >= SP(0.5)) == (Y(i, j) >= SY(0.5)) ? 1 : 0;
        return n;
    } else {
        return predicted_class<K>(P, j) == predicted_class<K>(Y, j) ? 1 : 0;
    }
}

}  // namespace detail
}  // namespace scratchnet
