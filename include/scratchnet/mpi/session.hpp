#pragma once
// The MPI session that mpi::fit runs in, MPI's errors as mpi::Error, and the
// broadcast of rank 0's parameters.

#include "scratchnet/core.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet::mpi {

/// An MPI error, a process that failed, or processes that disagree.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
inline void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string("scratchnet::mpi: ") + what + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, float>)
        return MPI_FLOAT;
    else
        return MPI_DOUBLE;
}
}  // namespace detail

/// MPI for the lifetime of this object: MPI_Init_thread (funneled: only the
/// thread that made the session calls MPI; fit's worker threads never do) and
/// MPI_Finalize. Where the application already initialised MPI, the session
/// adopts it and leaves finalising to the application. Its own communicator
/// (a duplicate of MPI_COMM_WORLD) keeps the library's messages apart from the
/// application's.
///
/// One process leaving early must not leave the others waiting for it in a
/// collective step for ever: a Session destroyed by an exception (one that leaves
/// its scope, on this process alone) ends the whole job with MPI_Abort, naming
/// the rank. A process that stops for a reason of its own calls abort(why).
class Session {
public:
    Session(int& argc, char**& argv) : Session(&argc, &argv) {}
    /// For a program that has no argc/argv at hand (or already called MPI_Init).
    Session() : Session(nullptr, nullptr) {}

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() {
        if (std::uncaught_exceptions() > exceptions_at_start_)
            abort("an exception is leaving the MPI session on this process (catch it inside the session's scope "
                  "and pass its message to Session::abort to see it here)");
        if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
        if (owns_) MPI_Finalize();
    }

    /// Ends every process of the job now (MPI_Abort with `code`), printing `why`
    /// and this rank on standard error: what a process that cannot go on calls,
    /// where returning would leave the others waiting for it.
    [[noreturn]] void abort(const std::string& why, int code = 1) const {
        std::fprintf(stderr, "scratchnet::mpi: rank %d ends the job: %s\n", rank_, why.c_str());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
        std::abort();  // MPI_Abort does not return
    }

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// The library's communicator: the processes of MPI_COMM_WORLD.
    MPI_Comm communicator() const { return comm_; }

private:
    Session(int* argc, char*** argv) {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (!initialised) {
            int provided = 0;
            detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_ = true;
        }
        detail::check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
        // Errors come back as codes (turned into exceptions) rather than aborting.
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    bool owns_ = false;
    int exceptions_at_start_ = std::uncaught_exceptions();
};

/// Gives every process rank 0's parameters (and the layers' state, where they keep some).
template <class Net>
void broadcast(const Session& session, Net& net) {
    using T = typename Net::Scalar;
    detail::check(MPI_Bcast(net.parameters().data(), static_cast<int>(Net::parameter_count), detail::datatype<T>(), 0,
                            session.communicator()),
                  "MPI_Bcast of the parameters");
    if constexpr (Net::state_count > 0)
        detail::check(MPI_Bcast(net.state().data(), static_cast<int>(Net::state_count), detail::datatype<T>(), 0,
                                session.communicator()),
                      "MPI_Bcast of the state");
}

}  // namespace scratchnet::mpi
