// libFuzzer target: any byte string given to the IDX/MNIST readers must end in
// a result or an IdxError, never a crash, a leak or undefined behaviour. The
// readers take paths (zlib reads raw and gzip through one file API), so each
// input goes through a file of its own.
#include <scratchnet/data/mnist.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/scratchnet-fuzz-idx-" + std::to_string(::getpid());
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    // A small cap keeps each execution fast; hostile sizes are the point anyway.
    const scratchnet::IdxOptions options{.max_bytes = 1u << 22};
    try {
        const auto a = scratchnet::read_idx(path, options);
        if (a.data.size() > options.max_bytes) __builtin_trap();
    } catch (const scratchnet::IdxError&) {
    }
    try {
        (void)scratchnet::read_mnist_image_bytes(path, options);
    } catch (const scratchnet::IdxError&) {
    }
    try {
        (void)scratchnet::read_mnist_labels(path, 10, options);
    } catch (const scratchnet::IdxError&) {
    }
    return 0;
}
