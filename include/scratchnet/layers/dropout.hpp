#pragma once
// Dropout<Rate>: inverted dropout (Srivastava et al. 2014). In a training pass each
// value is kept with probability q = 1 - Rate and scaled by 1/q, so its expected
// value is unchanged and an inference pass is the identity (no rescaling there).
//   forward:   a_i <- m_i a_i,   m_i = [u_i < q] / q,  u_i uniform in [0, 1)
//   backward:  da_i <- m_i da_i
// u_i is a hash of (the pass's stream, the sample's place, i): the mask of a sample
// does not depend on which thread, chunk or batch split computes it, so training
// stays bit-identical for any thread count.

#include "scratchnet/layers/activations.hpp"
#include "scratchnet/core.hpp"
#include "scratchnet/kernels/dispatch.hpp"
#include "scratchnet/layer.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

// Needs double template arguments (see activations.hpp).
#ifdef SCRATCHNET_HAS_DOUBLE_TEMPLATE_ARGS
namespace scratchnet {

namespace detail {
template <double Rate, class T>
class DropoutLayer;
}

/// The spec written in Network<...>: `Dropout<0.2>` drops 20 % of the values.
template <double Rate>
struct Dropout {
    static_assert(Rate >= 0.0 && Rate < 1.0, "scratchnet::Dropout<Rate>: the rate must lie in [0, 1)");
    static_assert(Rate == 0.0 || 1.0 - Rate < 1.0, "scratchnet::Dropout<Rate>: the rate is too small to tell from 0");
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = 0;
    static constexpr bool elementwise = true;
    static constexpr double rate = Rate;
    template <class T>
    using bind = detail::DropoutLayer<Rate, T>;
    static std::string name() {
        char buf[40];
        std::snprintf(buf, sizeof buf, "Dropout<%.15g>", Rate);
        return buf;
    }
};

namespace detail {

template <double Rate, class T>
class DropoutLayer : public Dropout<Rate> {
public:
    /// The mask of the last training pass, already scaled: 0 or 1/q.
    struct Scratch {
        Matrix<T> mask;
    };

    void forward(Matrix<T>& A, Scratch& s, const Pass& pass) const {
        if (!pass.training() || Rate == 0.0) return;
        s.mask.resize(A.rows(), A.cols());
        const T scale = static_cast<T>(1.0 / (1.0 - Rate));
        run_for_active_isa([&] {
            for (Index j = 0; j < A.cols(); ++j) {
                const std::uint64_t key = pass.column_key(j);
                T* m = s.mask.col(j).data();
                T* a = A.col(j).data();
                for (Index i = 0; i < A.rows(); ++i) {
                    m[i] = Pass::random_bits(key, static_cast<std::uint64_t>(i)) < kKeepBelow ? scale : T(0);
                    a[i] *= m[i];
                }
            }
        });
    }

    void backward(const Matrix<T>&, Matrix<T>& dA, Scratch& s, const Pass& pass) const {
        if (!pass.training() || Rate == 0.0) return;
        dA.array() *= s.mask.array();
    }

private:
    // Keep where 64 uniform bits fall below q 2^64 (q < 1, so this fits; q has 53
    // significant bits, all of which survive).
    static constexpr std::uint64_t kKeepBelow =
        Rate == 0.0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>((1.0 - Rate) * 0x1p64);
};

}  // namespace detail
}  // namespace scratchnet
#endif  // SCRATCHNET_HAS_DOUBLE_TEMPLATE_ARGS
