#pragma once
// A progress display for people watching fit(): on a terminal, a bar redrawn in
// place with batches done, running loss, samples/s and ETA; elsewhere (a log, a
// pipe, CI) one plain line per epoch. It writes only to the stream it is given;
// the rest of the library never prints.

#include "scratchnet/training.hpp"

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace scratchnet {

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
        const auto now = std::chrono::steady_clock::now();
        if (p.batch != p.batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        constexpr int width = 30;
        const double done = static_cast<double>(p.batch) / static_cast<double>(p.batches);
        const int filled = static_cast<int>(done * width);
        const double rate = p.seconds > 0 ? static_cast<double>(p.samples) / p.seconds : 0.0;
        const double eta = done > 0 ? p.seconds * (1 - done) / done : 0.0;
        std::ostringstream s;
        s << "\repoch " << p.epoch << "/" << p.epochs << " [" << std::string(static_cast<std::size_t>(filled), '=')
          << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << p.batch << "/" << p.batches
          << "  loss " << std::fixed << std::setprecision(4) << p.running_loss << "  " << std::setprecision(0) << rate
          << " samples/s  ETA " << std::setprecision(1) << eta << " s ";
        out_ << s.str() << std::flush;
    }

    void line(const EpochRecord& r) {
        std::ostringstream s;
        if (interactive_) s << "\r\033[K";  // clear the bar
        s << "epoch " << std::setw(3) << r.epoch;
        if (epochs_ > 0) s << "/" << epochs_;
        s << "  loss " << std::fixed << std::setprecision(4) << r.loss << "  train acc " << std::setprecision(2)
          << 100 * r.accuracy << " %";
        if (r.validation_loss) s << "  test loss " << std::setprecision(4) << *r.validation_loss;
        if (r.validation_accuracy) s << "  test acc " << std::setprecision(2) << 100 * *r.validation_accuracy << " %";
        s << "  " << std::setprecision(2) << r.seconds << " s\n";
        out_ << s.str() << std::flush;
    }

    std::ostream& out_;
    bool interactive_;
    int epochs_ = 0;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace scratchnet
