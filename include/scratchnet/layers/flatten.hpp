#pragma once
// Flatten: an image C x H x W read as a vector of C*H*W features. A batch column
// already lies in that order (shape.hpp), so Flatten moves no data: it is a view
// layer, sharing its input's buffer, with no forward and no backward.

#include "scratchnet/core.hpp"
#include "scratchnet/shape.hpp"

#include <string>

namespace scratchnet {

struct Flatten {
    static constexpr Index inputs = 0;
    static constexpr Index outputs = 0;
    static constexpr Index parameter_count = 0;
    static constexpr bool view = true;
    static constexpr Shape output_shape(Shape in) { return Shape{in.size(), 1, 1}; }
    static std::string name() { return "Flatten"; }
};

}  // namespace scratchnet
