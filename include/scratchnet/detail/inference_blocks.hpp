#pragma once
// Inference over a data set in fixed blocks of samples, the blocks spread over
// threads. A block's result depends only on its samples (the block boundaries
// depend on the block size, never on the thread count), and whatever is added up
// across blocks is added in block order by the caller, so any thread count gives
// the bits of one thread.

#include "scratchnet/detail/thread_pool.hpp"

#include <algorithm>
#include <climits>
#include <cstddef>

namespace scratchnet::detail {

/// Runs block(b, lane) for every b in [0, blocks) on up to `threads` threads (0:
/// one per processor, as fit()), where lane in [0, lanes) names the thread's own
/// scratch buffers. prepare(lanes) runs first, on the calling thread. With one
/// lane the blocks run in order on the calling thread, and no thread is started.
template <class Prepare, class Block>
void run_blocks(std::size_t blocks, unsigned threads, Prepare&& prepare, Block&& block) {
    const std::size_t wanted = std::min<std::size_t>(threads == 0 ? UINT_MAX : threads, blocks);
    if (wanted <= 1) {
        prepare(1u);
        for (std::size_t b = 0; b < blocks; ++b) block(b, 0u);
        return;
    }
    ThreadPool pool(static_cast<unsigned>(wanted));
    prepare(pool.size());
    pool.run(blocks, block);
}

}  // namespace scratchnet::detail
