#pragma once
// A minimal fork-join pool for splitting one batch across cores. Every task
// writes only buffers of its own (chosen by its index, never by the thread that
// runs it), so results never depend on scheduling. The calling thread takes part,
// so threads = 1 starts no thread at all.
//
// Who runs what: task i belongs first to thread i % threads, which keeps a
// thread on the same data from one run to the next; a thread that has run out
// of its own tasks takes the unclaimed ones of the others. So a thread that the
// operating system has descheduled (the machine is busy with something else)
// does not hold the batch up for tasks it has not started.
//
// Training calls run() hundreds of times a second with little work per task.
// A worker that went to sleep on a condition variable takes tens to hundreds of
// microseconds to wake (more on a virtual machine, where an idle vCPU is halted),
// so workers and the caller first spin for a short while (with the CPU's pause
// hint) and only then block. They spin only while the pools' threads together do
// not outnumber the processors: a spinning thread on a shared core delays the very
// thread it waits for. A pool never has more threads than the machine has.
//
// When the machine is shared, a worker may be descheduled in the middle of a
// task, and the caller then waits a whole time slice of the scheduler for it.
// The caller measures each run: when it waited for the others longer than it
// worked itself, and longer than a wake-up takes, splitting did not pay, and the
// pool runs the next runs on the calling thread alone (same tasks, same
// results), then tries again (a pool's first runs, which touch its buffers for
// the first time, are not judged; on a machine that looked quiet, one late run
// needs a second soon after). On a quiet machine such runs do not happen. The
// caller itself may be the one that shares a core: its own tasks then finish
// late and the others wait for nothing, but everything it runs between the runs
// (the optimizer, the loss) goes at the speed of a shared core while a worker
// holds the free one. So the caller also measures, every kShareWindow split runs,
// the share of the wall-clock time it was given a processor; below kFairShare
// the split did not pay either. (Alone, its workers asleep, it is moved to the
// free processor.) How
// busy the machine is belongs to the machine, not to one pool: the pools of a
// process share it (BusyMachine), so a fit() that starts on a busy machine starts
// alone, and each try that fails again doubles the next stretch alone (up to a
// second or so of runs) until splitting has paid many runs in a row.
//
// Cancellation (pthread_cancel of a thread inside run()): run() holds it off
// until every task is done, so no worker ever touches a stack frame that
// unwinding has left; the pool's destructor joins its workers with cancellation
// held off too.
//
// Why POSIX threads and not std::thread: <thread>, <mutex> and
// <condition_variable> with the <chrono> and <stop_token> they pull in are a
// large share of what the library would add to every including file's compile
// time. The pool needs create, join, one mutex and two condition variables;
// <pthread.h> gives them, and libstdc++ has already included it for its own
// atomics. (scratchnet is POSIX-only; see path.hpp.)

#include "scratchnet/detail/monotonic_clock.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <pthread.h>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace scratchnet::detail {

/// The processor's hint that this is a spin-wait loop (x86 pause, Arm yield).
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

/// Holds off pthread_cancel in its scope (the request waits for the next
/// cancellation point after it).
class NoCancel {
public:
    NoCancel() { ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old_); }
    ~NoCancel() { ::pthread_setcancelstate(old_, nullptr); }
    NoCancel(const NoCancel&) = delete;
    NoCancel& operator=(const NoCancel&) = delete;

private:
    int old_ = 0;
};

class ThreadPool {
public:
    /// threads = 0: one per online processor; more than that are clamped to it
    /// unless clamp is false (tests that need more threads than cores).
    explicit ThreadPool(unsigned threads, bool clamp = true)
        : threads_(clamp ? std::min(threads != 0 ? threads : online_processors(), online_processors())
                         : std::max(threads, 1u)),
          tasks_run_(threads_, 0), slots_(threads_) {
        live_threads().fetch_add(threads_, std::memory_order_relaxed);
        starts_.reserve(threads_ - 1);  // no reallocation: workers hold pointers into it
        workers_.reserve(threads_ - 1);
        for (unsigned w = 1; w < threads_; ++w) {
            starts_.push_back({this, w});
            pthread_t worker{};
            if (const int rc = ::pthread_create(&worker, nullptr, &entry, &starts_.back()); rc != 0) {
                stop_workers();
                live_threads().fetch_sub(threads_, std::memory_order_relaxed);
                throw std::system_error(rc, std::generic_category(), "scratchnet: cannot start a worker thread");
            }
            workers_.push_back(worker);
        }
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() {
        stop_workers();
        live_threads().fetch_sub(threads_, std::memory_order_relaxed);
        ::pthread_cond_destroy(&done_);
        ::pthread_cond_destroy(&wake_);
        ::pthread_mutex_destroy(&mutex_);
    }

    unsigned size() const { return threads_; }

    /// Whether waiting threads spin before they sleep: only while the threads of
    /// all live pools do not outnumber the processors.
    static bool may_spin() { return live_threads().load(std::memory_order_relaxed) <= online_processors(); }

    /// Tasks thread w ran over this pool's life (w = 0: the calling thread).
    /// Read it between run() calls.
    std::size_t tasks_run(unsigned w) const { return tasks_run_[w]; }

    /// Forgets what the pools have learnt of how busy the machine is (for tests
    /// of the split itself, which a stretch alone left by an earlier test would
    /// skip).
    static void forget_busy_machine() {
        busy_machine().solo_left.store(0, std::memory_order_relaxed);
        busy_machine().stretch.store(kSoloRuns, std::memory_order_relaxed);
        busy_machine().paying_runs.store(0, std::memory_order_relaxed);
    }

    /// Runs of this pool's life that the calling thread ran alone because the
    /// machine was too busy for the split to pay (see the top of this file).
    std::size_t solo_runs() const { return solo_runs_; }

    /// Runs task(i) for i in [0, tasks) and returns when all are done. The first
    /// exception thrown by a task is rethrown here. The task is passed by pointer
    /// and a plain function (no std::function), so a call allocates nothing.
    /// A task that takes (i, w) is also told the thread w in [0, size()) that runs
    /// it, for scratch buffers of that thread (results must still follow from i).
    template <class F>
    void run(std::size_t tasks, F& task) {
        constexpr bool told_thread = std::is_invocable_v<F&, std::size_t, unsigned>;
        if (tasks > 0xFFFFFFFFu) throw std::length_error("scratchnet: more than 2^32 tasks in one run");
        if (threads_ == 1 || tasks <= 1 || busy_machine().solo_left.load(std::memory_order_relaxed) > 0) {
            if (threads_ > 1 && tasks > 1) {
                busy_machine().solo_left.fetch_sub(1, std::memory_order_relaxed);
                ++solo_runs_;
            }
            for (std::size_t i = 0; i < tasks; ++i) {
                if constexpr (told_thread)
                    task(i, 0u);
                else
                    task(i);
            }
            tasks_run_[0] += tasks;
            return;
        }
        const NoCancel no_cancel;  // workers use `task`, in this frame, until every task is done
        context_ = &task;
        if constexpr (told_thread)
            call_ = [](void* f, std::size_t i, unsigned w) { (*static_cast<F*>(f))(i, w); };
        else
            call_ = [](void* f, std::size_t i, unsigned) { (*static_cast<F*>(f))(i); };
        completed_.store(0, std::memory_order_relaxed);
        error_ = nullptr;
        ++generation_count_;
        const std::uint64_t fresh = std::uint64_t(generation_count_) << 32;
        for (Slot& slot : slots_) slot.claim.store(fresh, std::memory_order_release);
        run_.store(fresh | tasks, std::memory_order_release);
        {
            const Lock lock(mutex_);  // pairs with the sleepers' predicate check
            generation_.store(generation_count_, std::memory_order_release);
        }
        ::pthread_cond_broadcast(&wake_);
        const double start = monotonic_seconds();
        run_tasks(0, generation_count_);
        const double worked = monotonic_seconds();
        const auto finished = [this, tasks] { return completed_.load(std::memory_order_acquire) == tasks; };
        if (!spin_until(finished)) {
            const double asleep = monotonic_seconds();
            {
                const Lock lock(mutex_);
                while (!finished()) ::pthread_cond_wait(&done_, &mutex_);
            }
            share_asleep_ += monotonic_seconds() - asleep;
        }
        judge_run(worked - start, monotonic_seconds() - worked);
        judge_share();
        if (error_) std::rethrow_exception(error_);
    }

private:
    struct Start {
        ThreadPool* pool;
        unsigned worker;
    };

    // Thread w's claim on its own tasks w, w + threads, w + 2 threads, ...: the
    // run's generation in the high 32 bits, how many it has handed out in the low.
    // A stale claim (an older generation) never matches, so a thread that wakes
    // late takes nothing from a run it did not belong to.
    struct alignas(64) Slot {
        std::atomic<std::uint64_t> claim{0};
    };

    class Lock {
    public:
        explicit Lock(pthread_mutex_t& m) : m_(m) { ::pthread_mutex_lock(&m_); }
        ~Lock() { ::pthread_mutex_unlock(&m_); }
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;

    private:
        pthread_mutex_t& m_;
    };

    static unsigned online_processors() {  // read once: sysconf reads /sys
        static const unsigned count = [] {
            const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
            return n > 0 ? static_cast<unsigned>(n) : 1u;
        }();
        return count;
    }

    static void* entry(void* start) {
        const auto* s = static_cast<const Start*>(start);
        s->pool->work(s->worker);
        return nullptr;
    }

    /// What the pools of this process have learnt of the machine (judge_run):
    /// runs left to go alone, and the length of the next such stretch. Relaxed
    /// atomics: a hint about speed, never about results.
    struct BusyMachine {
        std::atomic<int> solo_left{0};
        std::atomic<int> stretch{kSoloRuns};
        std::atomic<int> paying_runs{0};  // split runs that paid since the last that did not
    };
    static BusyMachine& busy_machine() {
        static BusyMachine busy;
        return busy;
    }

    /// Threads of all live pools in this process.
    static std::atomic<unsigned>& live_threads() {
        static std::atomic<unsigned> count{0};
        return count;
    }

    template <class Ready>
    static bool spin_until(Ready ready) {
        if (!may_spin()) return ready();
        const double limit = monotonic_seconds() + 200e-6;
        for (int i = 0;; ++i) {
            if (ready()) return true;
            spin_pause();
            if ((i & 63) == 63 && monotonic_seconds() > limit) return false;
        }
    }

    /// The next unclaimed task of slot s in generation g (which has `tasks`
    /// tasks), or kNone when none is left.
    std::size_t claim(unsigned s, std::uint32_t g, std::size_t tasks) {
        std::uint64_t c = slots_[s].claim.load(std::memory_order_acquire);
        for (;;) {
            if (std::uint32_t(c >> 32) != g) return kNone;
            const std::size_t i = s + std::size_t(c & 0xFFFFFFFFu) * threads_;
            if (i >= tasks) return kNone;
            if (slots_[s].claim.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                                      std::memory_order_acquire))
                return i;
        }
    }

    /// Thread w runs its own tasks of generation g, then takes the others' that
    /// nobody has claimed yet. A claimed task means run g is still under way, so
    /// context_ and call_ are g's.
    void run_tasks(unsigned w, std::uint32_t g) {
        const std::uint64_t r = run_.load(std::memory_order_acquire);
        if (std::uint32_t(r >> 32) != g) return;  // woke after run g: it is over
        const std::size_t tasks = std::size_t(r & 0xFFFFFFFFu);
        for (unsigned k = 0; k < threads_; ++k) {
            const unsigned s = (w + k) % threads_;
            for (std::size_t i = claim(s, g, tasks); i != kNone; i = claim(s, g, tasks)) {
                try {
                    call_(context_, i, w);
                } catch (...) {
                    const Lock lock(mutex_);
                    if (!error_) error_ = std::current_exception();
                }
                ++tasks_run_[w];
                // The last task done wakes the caller if it sleeps.
                if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == tasks && w != 0) {
                    const Lock lock(mutex_);
                    ::pthread_cond_signal(&done_);
                }
            }
        }
    }

    /// After a split run: the caller worked `worked` seconds itself and then
    /// waited `waited` for the others. On a quiet machine the caller waits at most
    /// for the one task another thread is finishing, and a thread that was asleep
    /// wakes within tens of microseconds. Waiting longer than that and longer than
    /// it worked means a thread held a task while descheduled: the next runs go solo.
    ///
    /// Not judged: a pool's first kWarmUpRuns split runs, in which each thread
    /// touches its buffers for the first time (a worker's first task of a large
    /// network can take several times the caller's). And while the machine looks
    /// quiet (the stretch at its start), one late run may be chance (a kernel
    /// thread, the hypervisor): it takes a second within kConfirmRuns split runs.
    void judge_run(double worked, double waited) {
        BusyMachine& busy = busy_machine();
        if (generation_count_ <= kWarmUpRuns) return;
        if (waited > worked && waited > kDescheduled) {
            const bool confirmed = busy.stretch.load(std::memory_order_relaxed) > kSoloRuns ||
                                   (last_late_run_ != 0 && generation_count_ - last_late_run_ <= kConfirmRuns);
            last_late_run_ = generation_count_;
            if (confirmed) go_solo(busy);
        } else if (busy.paying_runs.fetch_add(1, std::memory_order_relaxed) + 1 >= kQuietRuns) {
            busy.stretch.store(kSoloRuns, std::memory_order_relaxed);  // the machine is quiet again
        }
    }

    /// Every kShareWindow split runs in a row by the same calling thread: the share
    /// of the window's wall-clock time that thread ran, the time it slept waiting
    /// for the workers left out. A solo stretch, or another caller, starts a new
    /// window.
    void judge_share() {
        const pthread_t caller = ::pthread_self();
        if (share_runs_ == 0 || solo_runs_ != share_solo_runs_ || !::pthread_equal(caller, share_caller_)) {
            share_runs_ = 1;
            share_solo_runs_ = solo_runs_;
            share_caller_ = caller;
            share_cpu_ = thread_cpu_seconds();
            share_wall_ = monotonic_seconds();
            share_asleep_ = 0;
            return;
        }
        if (++share_runs_ <= kShareWindow) return;
        const double cpu = thread_cpu_seconds(), wall = monotonic_seconds();
        const bool shared = cpu - share_cpu_ < kFairShare * (wall - share_wall_ - share_asleep_);
        share_runs_ = 0;
        if (shared) go_solo(busy_machine());
    }

    /// The next kSoloRuns .. kMaxSoloRuns runs (each failed try doubles it) go solo.
    static void go_solo(BusyMachine& busy) {
        const int stretch = busy.stretch.load(std::memory_order_relaxed);
        busy.solo_left.store(stretch, std::memory_order_relaxed);
        busy.stretch.store(std::min(2 * stretch, kMaxSoloRuns), std::memory_order_relaxed);
        busy.paying_runs.store(0, std::memory_order_relaxed);
    }

    void work(unsigned w) {
        std::uint32_t seen = 0;
        for (;;) {
            const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(fresh)) {
                const Lock lock(mutex_);
                while (!fresh()) ::pthread_cond_wait(&wake_, &mutex_);
            }
            seen = generation_.load(std::memory_order_acquire);
            if (stopping_.load(std::memory_order_relaxed)) return;
            run_tasks(w, seen);
        }
    }

    // Also the constructor's cleanup when a later worker fails to start.
    void stop_workers() noexcept {
        const NoCancel no_cancel;  // pthread_join is a cancellation point; a destructor must not unwind
        {
            const Lock lock(mutex_);
            stopping_.store(true, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        ::pthread_cond_broadcast(&wake_);
        for (const pthread_t worker : workers_) ::pthread_join(worker, nullptr);
        workers_.clear();
    }

    static constexpr std::size_t kNone = ~std::size_t(0);
    static constexpr int kSoloRuns = 256;         // then the split is tried again
    static constexpr int kMaxSoloRuns = 4096;     // a stretch never longer (about a second of training runs)
    static constexpr int kQuietRuns = 64;         // split runs in a row that paid: the stretch starts over
    static constexpr double kDescheduled = 100e-6;  // seconds: more than a wake-up, less than a time slice
    static constexpr std::uint32_t kWarmUpRuns = 4;   // a pool's first split runs, not judged
    static constexpr std::uint32_t kConfirmRuns = 16;  // a late run on a quiet machine needs another this close
    static constexpr int kShareWindow = 32;       // split runs per measure of the caller's processor share
    static constexpr double kFairShare = 0.8;     // below: the caller shares its core with other work

    unsigned threads_;
    std::vector<std::size_t> tasks_run_;  // entry w written only by thread w, inside run()
    std::vector<Slot> slots_;
    std::vector<Start> starts_;
    std::vector<pthread_t> workers_;
    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake_ = PTHREAD_COND_INITIALIZER;
    pthread_cond_t done_ = PTHREAD_COND_INITIALIZER;
    // Written by run() before the slots are opened (release); read by a thread
    // only after it has claimed a task of the run (acquire).
    void* context_ = nullptr;
    void (*call_)(void*, std::size_t, unsigned) = nullptr;
    std::exception_ptr error_;  // written under mutex_
    std::atomic<std::uint64_t> run_{0};  // the current run: its generation (high 32 bits) and task count
    std::atomic<std::size_t> completed_{0};
    std::uint32_t generation_count_ = 0;  // the caller's count of split runs
    std::uint32_t last_late_run_ = 0;     // the last split run judge_run found late (0: none)
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<bool> stopping_{false};  // set before the final generation_ bump
    std::size_t solo_runs_ = 0;  // runs this pool's caller ran alone
    // judge_share's window: split runs in it, the solo count and caller it began
    // with, that caller's processor time and the wall clock then, and the time
    // it has slept in run() since.
    int share_runs_ = 0;
    std::size_t share_solo_runs_ = 0;
    pthread_t share_caller_{};
    double share_cpu_ = 0, share_wall_ = 0, share_asleep_ = 0;
};

}  // namespace scratchnet::detail
