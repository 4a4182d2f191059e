#pragma once
// Neuron<Activation>: the course's first model, a = f(w . x + b), on its own.

#include "scratchnet/layers/activations.hpp"
#include "scratchnet/core.hpp"

#include <stdexcept>
#include <string>

namespace scratchnet {

template <class Activation, class T = double>
class Neuron {
public:
    /// A neuron with the given weights (one per input) and bias.
    Neuron(Vector<T> weights, T bias) : weights_(std::move(weights)), bias_(bias) {}

    /// a = f(w . x + b).
    T forward(const Vector<T>& x) const {
        if (x.size() != weights_.size())
            throw std::invalid_argument("scratchnet::Neuron::forward: x has " + std::to_string(x.size()) +
                                        " entries but the neuron has " + std::to_string(weights_.size()) +
                                        " weights");
        Matrix<T> z(1, 1);
        z(0, 0) = weights_.dot(x) + bias_;
        Activation::forward(z);
        return z(0, 0);
    }

    const Vector<T>& weights() const { return weights_; }
    Vector<T>& weights() { return weights_; }
    T bias() const { return bias_; }
    T& bias() { return bias_; }

private:
    Vector<T> weights_;
    T bias_;
};

}  // namespace scratchnet
