#pragma once
// A minimal fork-join pool for splitting one batch across cores. Task i always
// runs on worker i % threads, and every task writes only its own buffers, so
// results never depend on scheduling. The calling thread takes part (it runs the
// tasks of worker 0), so threads = 1 starts no thread at all.
//
// Training calls run() hundreds of times a second with ~100 us of work per task.
// A worker that went to sleep on a condition variable takes tens to hundreds of
// microseconds to wake (more on a virtual machine, where an idle vCPU is halted),
// so workers and the caller first spin for a short while and only then block.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace scratchnet::detail {

class ThreadPool {
public:
    /// threads = 0: one per hardware thread.
    explicit ThreadPool(unsigned threads)
        : threads_(threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency())) {
        workers_.reserve(threads_ - 1);
        for (unsigned w = 1; w < threads_; ++w) workers_.emplace_back([this, w] { work(w); });
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() {
        {
            std::lock_guard lock(mutex_);
            stopping_.store(true, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }

    unsigned size() const { return threads_; }

    /// Runs task(i) for i in [0, tasks) and returns when all are done. The first
    /// exception thrown by a task is rethrown here. The task is passed by pointer
    /// and a plain function (no std::function), so a call allocates nothing.
    template <class F>
    void run(std::size_t tasks, F& task) {
        if (threads_ == 1 || tasks <= 1) {
            for (std::size_t i = 0; i < tasks; ++i) task(i);
            return;
        }
        context_ = &task;
        call_ = [](void* f, std::size_t i) { (*static_cast<F*>(f))(i); };
        tasks_ = tasks;
        error_ = nullptr;
        pending_.store(threads_ - 1, std::memory_order_relaxed);
        {
            std::lock_guard lock(mutex_);  // pairs with the sleepers' predicate check
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        run_share(0);
        if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock lock(mutex_);
            done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
        }
        if (error_) std::rethrow_exception(error_);
    }

private:
    template <class Ready>
    static bool spin_until(Ready ready) {
        const auto limit = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        for (int i = 0;; ++i) {
            if (ready()) return true;
            if ((i & 63) == 63 && std::chrono::steady_clock::now() > limit) return false;
        }
    }

    void run_share(unsigned w) {
        try {
            for (std::size_t i = w; i < tasks_; i += threads_) call_(context_, i);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void work(unsigned w) {
        std::size_t seen = 0;
        for (;;) {
            const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(fresh)) {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, fresh);
            }
            seen = generation_.load(std::memory_order_acquire);
            if (stopping_.load(std::memory_order_relaxed)) return;
            run_share(w);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lock(mutex_);
                done_.notify_one();
            }
        }
    }

    unsigned threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
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
