#pragma once
// A minimal fork-join pool for splitting one batch across cores. Task i always
// runs on worker i % threads, and every task writes only its own buffers, so
// results never depend on scheduling. The calling thread takes part (it runs the
// tasks of worker 0), so threads = 1 starts no thread at all.
//
// Training calls run() hundreds of times a second with little work per task.
// A worker that went to sleep on a condition variable takes tens to hundreds of
// microseconds to wake (more on a virtual machine, where an idle vCPU is halted),
// so workers and the caller first spin for a short while (with the CPU's pause
// hint) and only then block. They spin only while the pools' threads together do
// not outnumber the processors: a spinning thread on a shared core delays the very
// thread it waits for. A pool never has more threads than the machine has.
//
// Cancellation (pthread_cancel of a thread inside run()): run() holds it off
// until the workers are done with the caller's task, so no worker ever touches a
// stack frame that unwinding has left; the pool's destructor joins its workers
// with cancellation held off too.
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
#include <exception>
#include <pthread.h>
#include <system_error>
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
          tasks_run_(threads_, 0) {
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

    /// Runs task(i) for i in [0, tasks) and returns when all are done. The first
    /// exception thrown by a task is rethrown here. The task is passed by pointer
    /// and a plain function (no std::function), so a call allocates nothing.
    template <class F>
    void run(std::size_t tasks, F& task) {
        if (threads_ == 1 || tasks <= 1) {
            for (std::size_t i = 0; i < tasks; ++i) task(i);
            tasks_run_[0] += tasks;
            return;
        }
        const NoCancel no_cancel;  // the workers use `task`, in this frame, until pending_ is 0
        context_ = &task;
        call_ = [](void* f, std::size_t i) { (*static_cast<F*>(f))(i); };
        tasks_ = tasks;
        error_ = nullptr;
        pending_.store(threads_ - 1, std::memory_order_relaxed);
        {
            const Lock lock(mutex_);  // pairs with the sleepers' predicate check
            generation_.fetch_add(1, std::memory_order_release);
        }
        ::pthread_cond_broadcast(&wake_);
        run_share(0);
        const auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
        if (!spin_until(finished)) {
            const Lock lock(mutex_);
            while (!finished()) ::pthread_cond_wait(&done_, &mutex_);
        }
        if (error_) std::rethrow_exception(error_);
    }

private:
    struct Start {
        ThreadPool* pool;
        unsigned worker;
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

    void run_share(unsigned w) {
        try {
            for (std::size_t i = w; i < tasks_; i += threads_) {
                call_(context_, i);
                ++tasks_run_[w];
            }
        } catch (...) {
            const Lock lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void work(unsigned w) {
        std::size_t seen = 0;
        for (;;) {
            const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(fresh)) {
                const Lock lock(mutex_);
                while (!fresh()) ::pthread_cond_wait(&wake_, &mutex_);
            }
            seen = generation_.load(std::memory_order_acquire);
            if (stopping_.load(std::memory_order_relaxed)) return;
            run_share(w);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                const Lock lock(mutex_);
                ::pthread_cond_signal(&done_);
            }
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

    unsigned threads_;
    std::vector<std::size_t> tasks_run_;  // entry w written only by thread w, inside run()
    std::vector<Start> starts_;
    std::vector<pthread_t> workers_;
    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake_ = PTHREAD_COND_INITIALIZER;
    pthread_cond_t done_ = PTHREAD_COND_INITIALIZER;
    // Written by run() before generation_ is bumped (release), read by workers after
    // they see the new generation (acquire).
    void* context_ = nullptr;
    void (*call_)(void*, std::size_t) = nullptr;
    std::size_t tasks_ = 0;
    std::exception_ptr error_;
    std::atomic<unsigned> pending_{0};
    std::atomic<std::size_t> generation_{0};
    std::atomic<bool> stopping_{false};  // set before the final generation_ bump
};

}  // namespace scratchnet::detail
