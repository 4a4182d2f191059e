#pragma once
// gradient_check(): compares back-propagation with centred differences,
//   dL/dθ_k ≈ (L(θ + h e_k) - L(θ - h e_k)) / 2h,
// always in double (a float network is checked through a double copy of itself,
// so the check measures the maths, not float rounding), and reports the worst
// relative error  |a - n| / max(|a| + |n|, floor)  over the parameters checked.
//
// Kinks: where a ReLU's input lies within a step of 0, L(θ ± h) sit on two
// different pieces and their difference is no derivative, so a correct network
// would fail. The check watches the signs of every kinked layer's outputs
// (layer.hpp) at each evaluation; a parameter whose steps cross a kink is
// checked again with a step 100 times smaller, and left out (and counted) if
// that crosses one too.

#include "scratchnet/core.hpp"
#include "scratchnet/layer.hpp"
#include "scratchnet/training/batch_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <type_traits>
#include <ostream>
#include <vector>

namespace scratchnet {

struct GradientCheckOptions {
    /// Step h.
    double step = 1e-3;
    /// Combine the centred differences at h and 2h as (4 D(h) - D(2h)) / 3, which
    /// cancels the h^2 error term (Richardson extrapolation; the five-point stencil).
    /// Truncation error then falls as h^4, so a larger h keeps rounding error
    /// (eps |L| / h) small as well.
    bool richardson = true;
    /// Where the steps of a parameter cross a kink, the step of its second try
    /// (step * kink_step_factor); 0: leave such parameters out at once.
    double kink_step_factor = 1e-2;
    /// Check this many parameters drawn without replacement from `seed`; 0 = all.
    Index sample = 0;
    std::uint64_t seed = 0;
    /// Denominator floor: where both gradients are below it, the absolute
    /// difference is what gets judged (a zero gradient has no relative scale).
    double floor = 1e-8;
    /// The report converts to true when max_relative_error is below this.
    double tolerance = 1e-7;
    /// The pass checked. Mode::training checks what fit() trains (Dropout with
    /// one fixed mask, from `pass_stream`, through every evaluation of the loss).
    Mode mode = Mode::inference;
    std::uint64_t pass_stream = 1;
};

/// What gradient_check() found. `if (report)` reads "the gradients agree".
struct GradientCheckReport {
    double max_relative_error = 0.0;
    Index worst_parameter = -1;  ///< index into parameters() of the worst entry
    std::size_t worst_layer = 0; ///< layer owning it
    double analytic = 0.0;       ///< back-propagated gradient there
    double numeric = 0.0;        ///< centred difference there
    Index checked = 0;           ///< how many parameters were compared
    Index rechecked = 0;         ///< of those, compared with the smaller step (the first crossed a kink)
    Index at_kinks = 0;          ///< left out: even the smaller step crossed a kink
    double tolerance = 0.0;

    explicit operator bool() const { return checked > 0 && max_relative_error < tolerance; }

    friend std::ostream& operator<<(std::ostream& os, const GradientCheckReport& r) {
        os << "gradient check: " << r.checked << " parameters, max relative error " << r.max_relative_error;
        if (r.worst_parameter >= 0)
            os << " at parameter " << r.worst_parameter << " (layer " << r.worst_layer << ": analytic " << r.analytic
               << ", numeric " << r.numeric << ")";
        os << (static_cast<bool>(r) ? " < " : " >= ") << r.tolerance;
        if (r.rechecked > 0 || r.at_kinks > 0)
            os << "; " << r.rechecked << " rechecked with a smaller step and " << r.at_kinks
               << " left out, their differences crossing a kink";
        if (!static_cast<bool>(r))
            os << (r.checked == 0 ? " (no parameter could be compared)"
                                  : " (the back-propagated gradient disagrees with the loss: check backward())");
        return os;
    }
};

/// Checks net's back-propagated gradient of the mean loss on (X, Y) against
/// centred differences. Y: targets (outputs x samples) or Labels, as fit() takes.
/// `net` is not modified.
template <class Net, class DX, class DY>
GradientCheckReport gradient_check(const Net& net, const Eigen::MatrixBase<DX>& X, const Eigen::MatrixBase<DY>& Y,
                                   const GradientCheckOptions& options = {}) {
    using Double = typename Net::template rebind<double>;
    Double d(std::uint64_t{0});
    d.parameters() = net.parameters().template cast<double>();
    d.state() = net.state().template cast<double>();
    Matrix<double> Xd = X.template cast<double>();
    if constexpr (std::is_same_v<typename DX::Scalar, std::uint8_t>) Xd /= 255.0;  // as fit() reads bytes
    Matrix<double> Yd;
    if constexpr (detail::LabelData<DY>) {
        detail::check_data<Net>(Xd, Y.derived(), "scratchnet::gradient_check");
        detail::encode_labels(Y.derived(), Net::output_size, Yd);
    } else {
        Yd = Y.template cast<double>();
    }
    const typename Double::Batch Xb(Xd.data(), Xd.rows(), Xd.cols()), Yb(Yd.data(), Yd.rows(), Yd.cols());
    typename Double::Workspace ws;
    ws.pass = options.mode == Mode::training ? Pass::training(options.pass_stream) : Pass{};
    ws.record_kinks = true;
    const double batch = static_cast<double>(Xd.cols());
    std::uint64_t base_signature = 0;
    bool crossed = false;  // some evaluation since the last reset left the base's side of a kink
    const auto mean_loss = [&] {
        d.forward(Xb, ws);
        crossed = crossed || ws.kink_signature != base_signature;
        return d.loss_sum(Yb, ws) / batch;
    };

    mean_loss();
    base_signature = ws.kink_signature;
    Vector<double> analytic(Net::parameter_count);
    d.backward(Xb, Yb, ws, analytic.data(), 1.0 / batch);

    std::vector<Index> order(static_cast<std::size_t>(Net::parameter_count));
    std::iota(order.begin(), order.end(), Index{0});
    if (options.sample > 0 && options.sample < Net::parameter_count) {
        Rng rng(options.seed);
        detail::shuffle(order.begin(), order.end(), rng);
        order.resize(static_cast<std::size_t>(options.sample));
        std::sort(order.begin(), order.end());
    }

    GradientCheckReport report;
    report.tolerance = options.tolerance;
    auto theta = d.parameters();
    for (const Index k : order) {
        const double saved = theta[k];
        const auto centred = [&](double step) {
            theta[k] = saved + step;
            const double plus = mean_loss();
            theta[k] = saved - step;
            const double minus = mean_loss();
            theta[k] = saved;
            return (plus - minus) / (2.0 * step);
        };
        const auto difference = [&](double h) {
            crossed = false;
            const double d1 = centred(h);
            return options.richardson ? (4.0 * d1 - centred(2.0 * h)) / 3.0 : d1;
        };
        double numeric = difference(options.step);
        if (crossed) {
            if (options.kink_step_factor > 0) numeric = difference(options.step * options.kink_step_factor);
            if (crossed || options.kink_step_factor <= 0) {
                ++report.at_kinks;
                continue;
            }
            ++report.rechecked;
        }
        const double a = analytic[k];
        double error = std::abs(a - numeric) / std::max(std::abs(a) + std::abs(numeric), options.floor);
        if (std::isnan(error)) error = std::numeric_limits<double>::infinity();  // NaN must not pass
        ++report.checked;
        if (error > report.max_relative_error || report.worst_parameter < 0) {
            report.max_relative_error = error;
            report.worst_parameter = k;
            report.worst_layer = Net::layer_of_parameter(k);
            report.analytic = a;
            report.numeric = numeric;
        }
    }
    return report;
}

}  // namespace scratchnet
