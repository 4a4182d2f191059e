#include "sizes.hpp"
std::array<std::size_t, 5> layout::portable() { return sizes(); }
