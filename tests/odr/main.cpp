// Two files of one program built with different -march flags (train_plain.cpp
// with the project's, train_native.cpp with -march=native) train the same network
// type on data the native file allocated; this file frees it. Exit 0 when both
// run, each gives the same bits on 1 and 2 threads, and the two agree: to the bit
// where the program's kernels decide (the GEMMs, chosen at run time), else to
// rounding (Eigen's element-wise code is compiled for each file's flags).
#include "train.hpp"

#include <cstdio>

int main() {
    int failures = 0;
    const auto expect = [&](bool ok, const char* what) {
        std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
        failures += ok ? 0 : 1;
    };
    {
        scratchnet::Matrix<float> X;
        scratchnet::Labels y;
        odr::make_data(X, y);
        const odr::Trained plain = odr::train_plain(X, y), native = odr::train_native(X, y);
        expect(plain.one_thread == plain.two_threads, "the plain file gives the same bits on 1 and 2 threads");
        expect(native.one_thread == native.two_threads, "the native file gives the same bits on 1 and 2 threads");
        const float scale = plain.one_thread.cwiseAbs().maxCoeff();
        const float differ = (plain.one_thread - native.one_thread).cwiseAbs().maxCoeff();
        std::printf("largest difference between the files' parameters: %g (of %g)\n", double(differ), double(scale));
        expect(differ <= 1e-4f * scale, "the two files' parameters agree to rounding");
        std::printf("training accuracy: %.4f plain, %.4f native\n", plain.accuracy, native.accuracy);
        expect(plain.accuracy > 0.5 && native.accuracy > 0.5, "both learned (training accuracy above 50 %, chance 10 %)");
    }  // X and y, allocated in the native file, are freed here
    return failures == 0 ? 0 : 1;
}
