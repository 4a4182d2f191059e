#pragma once
// A progress display for people watching fit(): on a terminal, a bar redrawn in
// place with batches done, running loss, samples/s and ETA; elsewhere (a log, a
// pipe, CI) one plain line per epoch. It writes only to the stream it is given;
// the rest of the library never prints.

#include "scratchnet/detail/monotonic_clock.hpp"
#include "scratchnet/training.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ostream>
#include <string>
#include <unistd.h>

namespace scratchnet {

namespace detail {
/// printf into the end of s. (Not <sstream>/<iomanip>: together with <fstream>
/// they cost every file that includes scratchnet.hpp a tenth of a second.)
#if defined(__GNUC__)
[[gnu::format(printf, 2, 3)]]
#endif
inline void append_format(std::string& s, const char* format, ...) {
    char buffer[256];
    std::va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
    va_end(args);
    if (n > 0) s.append(buffer, static_cast<std::size_t>(n) < sizeof buffer ? static_cast<std::size_t>(n) : sizeof buffer - 1);
}
}  // namespace detail

class ProgressBar {
public:
    /// interactive: redraw a bar in place (pass stdout_is_terminal() for std::cout).
    explicit ProgressBar(std::ostream& out, bool interactive) : out_(out), interactive_(interactive) {}

    static bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

    /// Callbacks for fit(); `next` (if given) runs after the display and decides
    /// whether training goes on.
    FitCallbacks callbacks(FitCallbacks next = {}) {
        FitCallbacks cb;
        cb.on_batch = [this, next](const BatchProgress& p) {
            epochs_ = p.epochs;
            if (interactive_) draw(p);
            return next.on_batch ? next.on_batch(p) : true;
        };
        cb.on_epoch = [this, next](const EpochRecord& r) {
            line(r);
            return next.on_epoch ? next.on_epoch(r) : true;
        };
        return cb;
    }

private:
    void draw(const BatchProgress& p) {
        const double now = detail::monotonic_seconds();
        if (p.batch != p.batches && now - last_draw_ < 0.1) return;
        last_draw_ = now;
        constexpr int width = 30;
        const double done = static_cast<double>(p.batch) / static_cast<double>(p.batches);
        const int filled = static_cast<int>(done * width);
        const double rate = p.seconds > 0 ? static_cast<double>(p.samples) / p.seconds : 0.0;
        const double eta = done > 0 ? p.seconds * (1 - done) / done : 0.0;
        std::string s;
        detail::append_format(s, "\repoch %d/%d [", p.epoch, p.epochs);
        s.append(static_cast<std::size_t>(filled), '=').append(static_cast<std::size_t>(width - filled), ' ');
        detail::append_format(s, "] %lld/%lld  loss %.4f  %.0f samples/s  ETA %.1f s ", static_cast<long long>(p.batch),
                              static_cast<long long>(p.batches), p.running_loss, rate, eta);
        out_ << s << std::flush;
    }

    void line(const EpochRecord& r) {
        std::string s;
        if (interactive_) s += "\r\033[K";  // clear the bar
        detail::append_format(s, "epoch %3d", r.epoch);
        if (epochs_ > 0) detail::append_format(s, "/%d", epochs_);
        detail::append_format(s, "  loss %.4f", r.loss);
        if (std::isfinite(r.accuracy)) detail::append_format(s, "  train acc %.2f %%", 100 * r.accuracy);  // NaN: regression
        if (r.validation_loss) detail::append_format(s, "  val loss %.4f", *r.validation_loss);
        if (r.validation_accuracy) detail::append_format(s, "  val acc %.2f %%", 100 * *r.validation_accuracy);
        detail::append_format(s, "  %.2f s\n", r.seconds);
        out_ << s << std::flush;
    }

    std::ostream& out_;
    bool interactive_;
    int epochs_ = 0;
    double last_draw_ = -1.0;  // monotonic seconds; -1: never drawn
};

}  // namespace scratchnet
