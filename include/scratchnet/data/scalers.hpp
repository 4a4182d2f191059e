#pragma once
// Standardizer and MinMaxScaler: per-feature scaling fitted on training data and
// applied the same way to any data after it (scikit-learn's StandardScaler and
// MinMaxScaler). Data is scratchnet's layout, features x samples: each row a
// feature. Statistics are computed in double whatever the data's scalar.
//
//   sn::Standardizer scale;
//   X_train = scale.fit_transform(X_train);   // each feature: mean 0, std 1
//   X_test = scale.transform(X_test);         // with the training part's mean and std
//   scale.save("model.scaler");               // beside the model, for inference
//
// A constant feature (std 0, or max = min) is shifted and not scaled, as
// scikit-learn does, so it becomes 0 and never NaN. fit() refuses NaN and
// infinite values (naming the feature and the sample); transform() refuses data
// with another number of features. Scaler files are text; load() checks them as
// strictly as the model files (a ScalerError naming the file and what is wrong).

#include "scratchnet/core.hpp"
#include "scratchnet/path.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace scratchnet {

/// Thrown by a scaler's load() for an unreadable or malformed file; names it.
class ScalerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

/// What both scalers share: x' = (x - shift) / scale per feature, fitted, saved, loaded.
template <class Derived>
class AffineScaler {
public:
    bool fitted() const { return shift_.size() > 0; }
    Index features() const { return shift_.size(); }

    /// Fits on X (features x samples, at least one sample) and returns *this.
    template <class D>
    Derived& fit(const Eigen::MatrixBase<D>& X) {
        if (X.rows() == 0 || X.cols() == 0)
            throw std::invalid_argument(std::string(Derived::kName) + "::fit: no data (" + shape(X) + ")");
        for (Index j = 0; j < X.cols(); ++j)
            for (Index i = 0; i < X.rows(); ++i)
                if (!std::isfinite(static_cast<double>(X(i, j))))
                    throw std::invalid_argument(std::string(Derived::kName) + "::fit: feature " + std::to_string(i) +
                                                " of sample " + std::to_string(j) + " is not finite");
        static_cast<Derived&>(*this).fit_statistics(X.template cast<double>());
        return static_cast<Derived&>(*this);
    }

    /// X scaled: (x - shift) / scale per feature, in X's scalar type.
    template <class D>
    Matrix<typename D::Scalar> transform(const Eigen::MatrixBase<D>& X) const {
        check(X, "transform");
        return ((X.template cast<double>().colwise() - shift_).array().colwise() / scale_.array())
            .template cast<typename D::Scalar>();
    }

    template <class D>
    Matrix<typename D::Scalar> fit_transform(const Eigen::MatrixBase<D>& X) {
        fit(X);
        return transform(X);
    }

    /// The inverse: x = x' scale + shift (targets scaled for training, read back).
    template <class D>
    Matrix<typename D::Scalar> inverse_transform(const Eigen::MatrixBase<D>& X) const {
        check(X, "inverse_transform");
        return ((X.template cast<double>().array().colwise() * scale_.array()).matrix().colwise() + shift_)
            .template cast<typename D::Scalar>();
    }

    /// Writes the fitted scaler as text (every value to its last bit).
    void save(const Path& path) const {
        if (!fitted()) throw std::logic_error(std::string(Derived::kName) + "::save: not fitted");
        std::FILE* f = std::fopen(path.c_str(), "w");
        if (f == nullptr) throw ScalerError(path.string() + ": cannot open the file for writing");
        bool ok = std::fprintf(f, "scratchnet scaler 1\n%s %ld\n", Derived::kName, static_cast<long>(features())) > 0;
        for (const auto* v : {&shift_, &scale_}) {
            for (Index i = 0; i < v->size(); ++i) ok = ok && std::fprintf(f, i ? " %.17g" : "%.17g", (*v)[i]) > 0;
            ok = ok && std::fputc('\n', f) != EOF;
        }
        ok = std::fclose(f) == 0 && ok;
        if (!ok) throw ScalerError(path.string() + ": write error");
    }

    /// Reads a file save() wrote for this kind of scaler.
    void load(const Path& path) {
        const std::string who = path.string() + ": ";
        const FileStatus status = file_status(path);
        if (status.kind != FileKind::regular)
            throw ScalerError(who + (status.kind == FileKind::missing ? "no such file" : "not a regular file"));
        if (status.size > (std::uint64_t{64} << 20)) throw ScalerError(who + "too large for a scaler file");
        std::string text(static_cast<std::size_t>(status.size), '\0');
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) throw ScalerError(who + "cannot open the file");
        const std::size_t got = std::fread(text.data(), 1, text.size(), f);
        std::fclose(f);
        text.resize(got);
        std::string_view s = text;
        const auto line = [&]() {
            const std::size_t end = s.find('\n');
            if (end == std::string_view::npos) throw ScalerError(who + "truncated (a line without its end)");
            const std::string_view l = s.substr(0, end);
            s.remove_prefix(end + 1);
            return l;
        };
        if (line() != "scratchnet scaler 1") throw ScalerError(who + "not a scratchnet scaler file");
        const std::string_view kind = line();
        const std::string expected = std::string(Derived::kName) + " ";
        if (kind.substr(0, expected.size()) != expected)
            throw ScalerError(who + "a scaler of another kind (this is a " + Derived::kName + ")");
        long n = 0;
        const std::string_view count = kind.substr(expected.size());
        const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
        if (ec != std::errc() || end != count.data() + count.size() || n <= 0)
            throw ScalerError(who + "a bad feature count");
        Vector<double> values[2];
        for (Vector<double>& v : values) {
            std::vector<double> read;
            std::string_view l = line();
            while (!l.empty()) {
                double x = 0;
                const auto [next, error] = std::from_chars(l.data(), l.data() + l.size(), x);
                if (error != std::errc() || !std::isfinite(x))
                    throw ScalerError(who + "a value that is not a finite number");
                read.push_back(x);
                l.remove_prefix(static_cast<std::size_t>(next - l.data()));
                if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
            }
            if (static_cast<long>(read.size()) != n)
                throw ScalerError(who + std::to_string(read.size()) + " values where the file says " +
                                  std::to_string(n) + " features");
            v = Eigen::Map<const Vector<double>>(read.data(), n);
        }
        if (!s.empty()) throw ScalerError(who + "unexpected bytes after the values");
        if ((values[1].array() <= 0).any()) throw ScalerError(who + "a scale that is not positive");
        shift_ = values[0];
        scale_ = values[1];
    }

protected:
    Vector<double> shift_, scale_;

private:
    template <class D>
    static std::string shape(const Eigen::MatrixBase<D>& X) {
        return std::to_string(X.rows()) + " x " + std::to_string(X.cols());
    }
    template <class D>
    void check(const Eigen::MatrixBase<D>& X, const char* what) const {
        if (!fitted()) throw std::logic_error(std::string(Derived::kName) + "::" + what + ": fit() it first");
        if (X.rows() != features())
            throw std::invalid_argument(std::string(Derived::kName) + "::" + what + ": the data has " +
                                        std::to_string(X.rows()) + " features (rows), the scaler was fitted on " +
                                        std::to_string(features()));
    }
};

}  // namespace detail

/// Each feature to mean 0 and standard deviation 1 (the population's, as
/// scikit-learn's StandardScaler): x' = (x - mean) / std.
class Standardizer : public detail::AffineScaler<Standardizer> {
public:
    static constexpr const char* kName = "Standardizer";
    const Vector<double>& mean() const { return shift_; }
    /// The standard deviations (1 for a constant feature).
    const Vector<double>& scale() const { return scale_; }

private:
    friend class detail::AffineScaler<Standardizer>;
    void fit_statistics(const Matrix<double>& X) {
        shift_ = X.rowwise().mean();
        scale_ = ((X.colwise() - shift_).array().square().rowwise().sum() / static_cast<double>(X.cols())).sqrt();
        for (Index i = 0; i < X.rows(); ++i)
            if (X.row(i).maxCoeff() == X.row(i).minCoeff() || scale_[i] == 0) scale_[i] = 1;
    }
};

/// Each feature to [lo, hi] (default [0, 1]) over the data it was fitted on:
/// x' = lo + (x - min) (hi - lo) / (max - min).
class MinMaxScaler : public detail::AffineScaler<MinMaxScaler> {
public:
    static constexpr const char* kName = "MinMaxScaler";
    explicit MinMaxScaler(double lo = 0, double hi = 1) : lo_(lo), hi_(hi) {
        if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
            throw std::invalid_argument("MinMaxScaler: the range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                        "] is empty or not finite");
    }

private:
    friend class detail::AffineScaler<MinMaxScaler>;
    // Written as (x - shift) / scale with shift = min - lo scale and scale =
    // (max - min) / (hi - lo), so both scalers share transform, save and load.
    void fit_statistics(const Matrix<double>& X) {
        const Vector<double> lo = X.rowwise().minCoeff(), hi = X.rowwise().maxCoeff();
        scale_ = (hi - lo) / (hi_ - lo_);
        for (Index i = 0; i < X.rows(); ++i)
            if (hi[i] == lo[i]) scale_[i] = 1;
        shift_ = lo - lo_ * scale_;
    }
    double lo_, hi_;
};

}  // namespace scratchnet
