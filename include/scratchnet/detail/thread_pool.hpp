#pragma once
// A minimal fork-join pool for splitting one batch across cores. Task i always
// runs on worker i % threads, and every task writes only its own buffers, so
// results never depend on scheduling. The calling thread takes part (it runs the
// tasks of worker 0), so threads = 1 starts no thread at all.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace scratchnet::detail {

class ThreadPool {
public:
    explicit ThreadPool(unsigned threads) : threads_(threads == 0 ? 1 : threads) {
        workers_.reserve(threads_ - 1);
        for (unsigned w = 1; w < threads_; ++w) workers_.emplace_back([this, w] { work(w); });
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            ++generation_;
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
        {
            std::lock_guard lock(mutex_);
            context_ = &task;
            call_ = [](void* f, std::size_t i) { (*static_cast<F*>(f))(i); };
            tasks_ = tasks;
            pending_ = threads_ - 1;
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        run_share(0);
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        context_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

private:
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
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (stopping_) return;
            }
            run_share(w);
            std::lock_guard lock(mutex_);
            if (--pending_ == 0) done_.notify_one();
        }
    }

    unsigned threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    void* context_ = nullptr;
    void (*call_)(void*, std::size_t) = nullptr;
    std::size_t tasks_ = 0;
    unsigned pending_ = 0;
    std::size_t generation_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace scratchnet::detail
