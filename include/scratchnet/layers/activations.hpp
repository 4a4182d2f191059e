#pragma once
// Activations, twice: as the course's free functions (sigmoid(z), relu_derivative(z),
// softmax(z), ...) and as the stateless layer types Sigmoid, ReLU, Tanh, Softmax and
// Identity that go into a Network.
//
// A layer type works in place on its own output A = f(Z) and back-propagates from A
// alone: every derivative below is written in terms of the output, so the network
// never keeps the pre-activation Z.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/kernels/packet_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace scratchnet {

namespace detail {

// sigma(z) = 1 / (1 + e^-z), written with e = exp(-|z|) so that the exponent is never
// positive: 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0. No overflow at +-1000.
template <class In, class Out>
void sigmoid_into(const Eigen::MatrixBase<In>& z, Eigen::MatrixBase<Out>& out) {
    out.derived() = z.derived().array().unaryExpr([](auto v) {
        using S = decltype(v);
        const S e = std::exp(-std::abs(v));
        return v >= S(0) ? S(1) / (S(1) + e) : e / (S(1) + e);
    }).matrix();
}

// softmax(z)_i = e^(z_i - m) / sum_k e^(z_k - m), m = max_k z_k, per column: the
// shift changes nothing mathematically and keeps every exponent <= 0.
template <class In, class Out>
void softmax_into(const Eigen::MatrixBase<In>& z, Eigen::MatrixBase<Out>& out) {
    for (Index j = 0; j < z.cols(); ++j) {
        const auto m = z.col(j).maxCoeff();
        out.col(j) = (z.col(j).array() - m).exp().matrix();
        out.col(j) /= out.col(j).sum();
    }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Free functions of the course. Matrix arguments are evaluated element-wise
// (softmax: column-wise) and returned as plain matrices.

/// sigma(z) = 1 / (1 + e^-z), stable for any z.
template <std::floating_point T>
T sigmoid(T z) {
    const T e = std::exp(-std::abs(z));
    return z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}
template <class D>
typename D::PlainObject sigmoid(const Eigen::MatrixBase<D>& z) {
    typename D::PlainObject out(z.rows(), z.cols());
    detail::sigmoid_into(z, out);
    return out;
}

/// sigma'(z) = sigma(z) (1 - sigma(z)).
template <std::floating_point T>
T sigmoid_derivative(T z) {
    const T s = sigmoid(z);
    return s * (T(1) - s);
}
template <class D>
typename D::PlainObject sigmoid_derivative(const Eigen::MatrixBase<D>& z) {
    typename D::PlainObject s = sigmoid(z);
    s.array() *= (1 - s.array());
    return s;
}

/// relu(z) = max(z, 0).
template <std::floating_point T>
T relu(T z) { return z > T(0) ? z : T(0); }
template <class D>
typename D::PlainObject relu(const Eigen::MatrixBase<D>& z) {
    return z.cwiseMax(typename D::Scalar(0));
}

/// relu'(z) = 1 for z > 0, else 0 (0 at the kink, as every framework chooses).
template <std::floating_point T>
T relu_derivative(T z) { return z > T(0) ? T(1) : T(0); }
template <class D>
typename D::PlainObject relu_derivative(const Eigen::MatrixBase<D>& z) {
    using S = typename D::Scalar;
    return (z.array() > S(0)).template cast<S>().matrix();
}

/// tanh(z) = (e^z - e^-z) / (e^z + e^-z).
template <std::floating_point T>
T tanh(T z) { return std::tanh(z); }
template <class D>
typename D::PlainObject tanh(const Eigen::MatrixBase<D>& z) {
    return z.array().tanh().matrix();
}

/// tanh'(z) = 1 - tanh(z)^2.
template <std::floating_point T>
T tanh_derivative(T z) {
    const T t = std::tanh(z);
    return T(1) - t * t;
}
template <class D>
typename D::PlainObject tanh_derivative(const Eigen::MatrixBase<D>& z) {
    using S = typename D::Scalar;
    return (S(1) - z.array().tanh().square()).matrix();
}

/// softmax of each column; every column of the result sums to 1.
template <class D>
typename D::PlainObject softmax(const Eigen::MatrixBase<D>& z) {
    typename D::PlainObject out(z.rows(), z.cols());
    detail::softmax_into(z, out);
    return out;
}

// ---------------------------------------------------------------------------
// Layer types: stateless elementwise layers in the sense of layer.hpp. Each is
// shape-preserving (inputs = outputs = 0 means "whatever the previous layer
// gives"), has no parameters, and provides
//   forward(A):      A <- f(A), in place
//   backward(A, dA): dA <- dL/dZ given A = f(Z) and dA = dL/dA, in place

/// Common part of the element-wise layer types.
struct ActivationLayer {
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = 0;
    static constexpr bool elementwise = true;
};

/// f(z) = z,  f' = 1. Lets a network end in raw scores (e.g. for MeanSquaredError).
struct Identity : ActivationLayer {
    static constexpr const char* name() { return "Identity"; }
    template <class T>
    static void forward(Matrix<T>&) {}
    template <class T>
    static void backward(const Matrix<T>&, Matrix<T>&) {}
};

/// f(z) = 1 / (1 + e^-z),  f'(z) = a (1 - a) with a = f(z).
struct Sigmoid : ActivationLayer {
    static constexpr const char* name() { return "Sigmoid"; }
    static constexpr bool gives_probabilities = true;  // each output in (0, 1): a loss may take its log
    template <class T>
    static void forward(Matrix<T>& A) { detail::sigmoid_into(A, A); }
    template <class T>
    static void backward(const Matrix<T>& A, Matrix<T>& dA) {
        dA.array() *= A.array() * (T(1) - A.array());
    }
};

/// f(z) = max(z, 0),  f'(z) = [a > 0].
struct ReLU : ActivationLayer {
    static constexpr Init init_before = Init::he;  // it zeroes half of its inputs' variance
    static constexpr bool kinked = true;
    static constexpr const char* name() { return "ReLU"; }
    template <class T>
    static void forward(Matrix<T>& A) { A = A.cwiseMax(T(0)); }
    template <class T>
    static void backward(const Matrix<T>& A, Matrix<T>& dA) {
        // dA where a > 0, else +0 (a NaN a too), lane by lane: Eigen 3.4's
        // select() has no SIMD path, and at -O2 g++ leaves it scalar.
        const T* a = A.data();
        T* d = dA.data();
        detail::for_each_packet<T>(A.size(), [&]<class P>(Index i) {
            P ai, di;
            detail::simd_load(ai, a + i);
            detail::simd_load(di, d + i);
            const P zero{};
            detail::simd_store(d + i, P(zero < ai ? di : zero));
        });
    }
};

// LeakyReLU's slope (and Dropout's rate) are double template arguments, a C++20
// feature clang 14 lacks: there the two are not offered (g++ 10+ and clang 18+ have it).
#if defined(__cpp_nontype_template_args) && __cpp_nontype_template_args >= 201911L
#define SCRATCHNET_HAS_DOUBLE_TEMPLATE_ARGS 1
/// f(z) = z for z > 0, s z otherwise (0 < s < 1),  f'(z) = [a > 0] + s [a <= 0]:
/// with s > 0 the output has the sign of the input, so the output alone tells
/// which branch a value took. `LeakyReLU` is the usual slope 0.01.
template <double Slope>
struct BasicLeakyReLU : ActivationLayer {
    static_assert(Slope > 0 && Slope < 1, "scratchnet::LeakyReLU<Slope>: the slope must lie in (0, 1)");
    static constexpr double slope = Slope;
    static constexpr Init init_before = Init::he;
    static constexpr bool kinked = true;
    static std::string name() {
        char buf[40];
        std::snprintf(buf, sizeof buf, "LeakyReLU<%.15g>", Slope);
        return buf;
    }
    template <class T>
    static void forward(Matrix<T>& A) { scale_unless_positive(A, A); }
    template <class T>
    static void backward(const Matrix<T>& A, Matrix<T>& dA) { scale_unless_positive(A, dA); }

private:
    /// x = x where a > 0, else s x (as ReLU's backward: by mask, not select()).
    template <class T>
    static void scale_unless_positive(const Matrix<T>& A, Matrix<T>& X) {
        const T* a = A.data();
        T* x = X.data();
        detail::for_each_packet<T>(A.size(), [&]<class P>(Index i) {
            P ai, xi, s;
            detail::simd_load(ai, a + i);
            detail::simd_load(xi, x + i);
            detail::simd_splat(s, T(Slope));
            const P zero{};
            detail::simd_store(x + i, P(zero < ai ? xi : P(s * xi)));
        });
    }
};
using LeakyReLU = BasicLeakyReLU<0.01>;
#endif

/// f(z) = tanh z,  f'(z) = 1 - a^2.
struct Tanh : ActivationLayer {
    static constexpr const char* name() { return "Tanh"; }
    template <class T>
    static void forward(Matrix<T>& A) { A.array() = A.array().tanh(); }
    template <class T>
    static void backward(const Matrix<T>& A, Matrix<T>& dA) {
        dA.array() *= T(1) - A.array().square();
    }
};

/// Column-wise softmax, p = softmax(z). Its Jacobian is diag(p) - p p^T, so the
/// vector-Jacobian product is  dz = p .* (dp - (p . dp)),  one dot per column.
/// (Followed by CrossEntropy the network skips this and uses dz = p - y directly.)
struct Softmax : ActivationLayer {
    static constexpr const char* name() { return "Softmax"; }
    static constexpr bool gives_probabilities = true;  // each output in (0, 1), each column summing to 1
    template <class T>
    static void forward(Matrix<T>& A) { detail::softmax_into(A, A); }
    template <class T>
    static void backward(const Matrix<T>& A, Matrix<T>& dA) {
        for (Index j = 0; j < A.cols(); ++j) {
            const T s = A.col(j).dot(dA.col(j));
            dA.col(j).array() = A.col(j).array() * (dA.col(j).array() - s);
        }
    }
};

}  // namespace scratchnet
