#include "sizes.hpp"

#include <cstdio>

int main() {
    const auto a = layout::portable(), b = layout::avx512();
    const char* names[] = {"GemmSite<float>", "GemmSite<double>", "Network", "Network::Workspace", "BatchGradient"};
    int differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) {
            std::printf("%s: %zu bytes portable, %zu with AVX-512\n", names[i], a[i], b[i]);
            ++differ;
        }
    if (differ == 0) std::printf("the same layout in both builds\n");
    return differ == 0 ? 0 : 1;
}
