#pragma once
// C += alpha * op(A) * op(B) through Eigen's own GEMM kernel, with the packing
// buffers kept between calls.
//
// Why not just `C.noalias() = A * B`? For products this size Eigen packs each
// operand into a buffer of kc x mc scalars (400 KB for 784x128 floats) and,
// above EIGEN_STACK_ALLOCATION_LIMIT (128 KB), takes it from the heap on every
// call. A GemmSite owns that buffer and re-sizes it only when the shape changes,
// so a training step at a fixed batch size allocates nothing. The kernel is the
// same; only its scratch memory lives longer. This uses Eigen 3.4's internal
// general_matrix_matrix_product, the entry point of its product evaluator.
//
// For float on a CPU with AVX2 or AVX-512 a site runs scratchnet's own kernels
// instead (kernels/gemm_avx2.hpp, kernels/gemm_avx512.hpp), with their packed
// panels kept the same way. Which one runs is chosen at run time (isa.hpp), never
// by the build's flags: the class's layout and its behaviour are the same in
// every translation unit, whatever -march each was built with.

#include "scratchnet/core.hpp"
#include "scratchnet/isa.hpp"
#include "scratchnet/kernels/gemm_avx2.hpp"
#include "scratchnet/kernels/gemm_avx512.hpp"

// Eigen's internal product interface (general_matrix_matrix_product,
// gemm_blocking_space) is the one Eigen 3.4 has; other versions differ.
#if !EIGEN_VERSION_AT_LEAST(3, 4, 0) || EIGEN_VERSION_AT_LEAST(3, 4, 90)
#error "scratchnet needs Eigen 3.4.x (it uses Eigen 3.4's internal GEMM interface); this Eigen is another version"
#endif

#include <type_traits>
#include <utility>

namespace scratchnet::detail {

/// One product site (say, "layer 2's weight gradient"). Order of A and B:
/// Eigen::ColMajor for the matrix as stored, Eigen::RowMajor for its transpose.
template <class T, int OrderA, int OrderB>
class GemmSite {
    using Blocking = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, T, T, Eigen::Dynamic, Eigen::Dynamic,
                                                          Eigen::Dynamic, 1, false>;
    using Kernel = Eigen::internal::general_matrix_matrix_product<Index, T, OrderA, false, T, OrderB, false,
                                                                  Eigen::ColMajor, 1>;

public:
    /// Whether each element of C comes out the same whichever rows of C one call
    /// covers, so that a product may be cut into row ranges anywhere with the same
    /// bits. scratchnet's kernels compute every element as one FMA chain over the
    /// depth; Eigen's treats the last rows of a call differently (its one-packet
    /// panels split the depth into two interleaved sums), so with Eigen a product
    /// is cut only at fixed places.
    static bool rows_split_exactly() { return std::is_same_v<T, float> && active_isa() != Isa::portable; }

    /// C (rows x cols, column-major) += alpha * op(A) * op(B), inner dimension depth;
    /// with accumulate = false, C = alpha * op(A) * op(B) (C's old values unread).
    /// a and b point at the stored matrices; lda/ldb are their outer strides.
    void run(Index rows, Index cols, Index depth, const T* a, Index lda, const T* b, Index ldb, T* c, Index ldc,
             T alpha = T(1), bool accumulate = true) {
        if (rows == 0 || cols == 0) return;
        if (depth == 0) {  // an empty product is all zeros
            if (!accumulate) set_zero(rows, cols, c, ldc);
            return;
        }
#ifdef SCRATCHNET_X86_KERNELS
        if constexpr (std::is_same_v<T, float>) {
            constexpr bool a_transposed = OrderA == Eigen::RowMajor;
            constexpr bool b_transposed = OrderB == Eigen::RowMajor;
            // resize() keeps the buffer when the size is unchanged: no allocation.
            switch (active_isa()) {
                case Isa::avx512:
                    apack_.resize(avx512::packed_a_size(rows, depth));
                    bpack_.resize(avx512::packed_b_size(avx512::kNr, depth));
                    avx512::pack_a(a_transposed, rows, depth, a, lda, apack_.data());
                    avx512::gemm(a_transposed, b_transposed, rows, cols, depth, a, lda, apack_.data(), b, ldb,
                                 bpack_.data(), c, ldc, alpha, accumulate);
                    return;
                case Isa::avx2:
                    apack_.resize(avx2::packed_a_size(rows, depth));
                    bpack_.resize(avx2::packed_b_size(avx2::kNr, depth));
                    avx2::pack_a(a_transposed, rows, depth, a, lda, apack_.data());
                    avx2::gemm(a_transposed, b_transposed, rows, cols, depth, a, lda, apack_.data(), b, ldb,
                               bpack_.data(), c, ldc, alpha, accumulate);
                    return;
                case Isa::portable:
                    break;
            }
        }
#endif
        if (!accumulate) set_zero(rows, cols, c, ldc);  // Eigen's kernel only accumulates
        if (!blocking_ || rows != rows_ || cols != cols_ || depth != depth_) {
            blocking_.reset(new Blocking(rows, cols, depth, 1, true));
            blocking_->allocateAll();
            rows_ = rows;
            cols_ = cols;
            depth_ = depth;
        }
        Kernel::run(rows, cols, depth, a, lda, b, ldb, c, 1, ldc, alpha, *blocking_, nullptr);
    }

private:
    static void set_zero(Index rows, Index cols, T* c, Index ldc) {
        for (Index j = 0; j < cols; ++j) Eigen::Map<Vector<T>>(c + j * ldc, rows).setZero();
    }

    Vector<float> apack_, bpack_;  // scratchnet's kernels' panels
    // Owns Eigen's blocking object on the heap. Movable, never copied: a copy of
    // the object itself would free its buffers twice. (Hand-written rather than
    // std::unique_ptr, whose <memory> every including file would parse.)
    class OwnedBlocking {
    public:
        OwnedBlocking() = default;
        OwnedBlocking(OwnedBlocking&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
        OwnedBlocking& operator=(OwnedBlocking&& other) noexcept {
            std::swap(p_, other.p_);
            return *this;
        }
        ~OwnedBlocking() { delete p_; }
        void reset(Blocking* p) noexcept {
            delete p_;
            p_ = p;
        }
        explicit operator bool() const noexcept { return p_ != nullptr; }
        Blocking* operator->() const noexcept { return p_; }
        Blocking& operator*() const noexcept { return *p_; }

    private:
        Blocking* p_ = nullptr;
    };
    OwnedBlocking blocking_;
    Index rows_ = -1, cols_ = -1, depth_ = -1;
};

}  // namespace scratchnet::detail
