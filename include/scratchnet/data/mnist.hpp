#pragma once
// MNIST (and Fashion-MNIST, same format): one file at a time with
// read_mnist_images() / read_mnist_labels(), or a whole directory with
// load_mnist(). Files may be raw or gzip'd, named the usual way
// (train-images-idx3-ubyte) or the other common way (train-images.idx3-ubyte).

#include "scratchnet/core.hpp"
#include "scratchnet/data/idx.hpp"
#include "scratchnet/path.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace scratchnet {

/// Images kept as bytes, one image per column (rows*cols x N, 0..255). A quarter
/// of the memory of floats; fit() and evaluate() convert each batch as they go.
inline ByteMatrix read_mnist_image_bytes(const Path& path, const IdxOptions& options = {}) {
    IdxArray raw = read_idx(path, options);
    const std::string who = "scratchnet::read_mnist_images: " + path.string() + ": ";
    if (raw.dims.size() != 3)
        throw IdxError(who + "expected 3 dimensions (count x rows x cols), the file has " +
                       std::to_string(raw.dims.size()));
    if (raw.dims[0] == 0) throw IdxError(who + "the file holds no images");
    if (raw.dims[1] == 0 || raw.dims[2] == 0)
        throw IdxError(who + "images of " + std::to_string(raw.dims[1]) + " x " + std::to_string(raw.dims[2]) +
                       " pixels are empty");
    // IDX stores image after image, each row-major: exactly a column-major
    // (pixels x count) matrix, so one copy and no reordering. (A plain copy
    // rather than an Eigen expression: this inline function is compiled in every
    // file that includes scratchnet, used or not.)
    ByteMatrix images(static_cast<Index>(raw.dims[1] * raw.dims[2]), static_cast<Index>(raw.dims[0]));
    std::copy(raw.data.begin(), raw.data.end(), images.data());
    return images;
}

/// Images as floats in [0, 1], one image per column (784 x N for MNIST).
inline Matrix<float> read_mnist_images(const Path& path, const IdxOptions& options = {}) {
    const ByteMatrix bytes = read_mnist_image_bytes(path, options);
    Matrix<float> images(bytes.rows(), bytes.cols());
    std::transform(bytes.data(), bytes.data() + bytes.size(), images.data(),
                   [](std::uint8_t v) { return static_cast<float>(v) * (1.0f / 255.0f); });
    return images;
}

/// Labels as integers, checked to lie in 0..classes-1 (0..9 for MNIST).
inline Labels read_mnist_labels(const Path& path, int classes = 10, const IdxOptions& options = {}) {
    IdxArray raw = read_idx(path, options);
    const std::string who = "scratchnet::read_mnist_labels: " + path.string() + ": ";
    if (raw.dims.size() != 1)
        throw IdxError(who + "expected 1 dimension (count), the file has " + std::to_string(raw.dims.size()));
    if (raw.dims[0] == 0) throw IdxError(who + "the file holds no labels");
    Labels y(static_cast<Index>(raw.data.size()));
    for (std::size_t i = 0; i < raw.data.size(); ++i) {
        if (raw.data[i] >= classes)
            throw IdxError(who + "label " + std::to_string(raw.data[i]) + " at index " + std::to_string(i) +
                           " is outside 0.." + std::to_string(classes - 1));
        y[static_cast<Index>(i)] = raw.data[i];
    }
    return y;
}

/// One-hot matrix (classes x N) of integer labels.
template <class T = float>
Matrix<T> one_hot(const Labels& labels, Index classes) {
    if (classes <= 0)
        throw std::invalid_argument("scratchnet::one_hot: classes must be positive, got " + std::to_string(classes));
    for (Index i = 0; i < labels.size(); ++i)
        if (labels[i] < 0 || labels[i] >= classes)
            throw std::invalid_argument("scratchnet::one_hot: label " + std::to_string(labels[i]) + " of sample " +
                                        std::to_string(i) + " is outside 0.." + std::to_string(classes - 1));
    Matrix<T> Y = Matrix<T>::Zero(classes, labels.size());
    for (Index j = 0; j < labels.size(); ++j) Y(labels[j], j) = T(1);
    return Y;
}

template <class Images>
struct MnistSplit {
    Images images;  ///< one image per column
    Labels labels;  ///< 0..9
};

template <class Images>
struct MnistSet {
    MnistSplit<Images> train;  ///< 60000 samples for MNIST
    MnistSplit<Images> test;   ///< 10000 samples
};

namespace detail {

/// The file for `stem` ("train-images", "idx3") in dir, in any usual spelling.
inline Path find_mnist_file(const Path& dir, const std::string& stem,
                                             const std::string& idx) {
    const std::array<std::string, 4> names{stem + "-" + idx + "-ubyte", stem + "-" + idx + "-ubyte.gz",
                                           stem + "." + idx + "-ubyte", stem + "." + idx + "-ubyte.gz"};
    for (const auto& name : names) {
        const auto p = dir / name;
        if (file_status(p).kind != FileKind::missing) return p;
    }
    throw IdxError("scratchnet::load_mnist: " + dir.string() + ": no " + names[0] + " (tried " + names[0] + ", " +
                   names[1] + ", " + names[2] + ", " + names[3] + ")");
}

template <class Images, class ReadImages>
MnistSplit<Images> load_split(const Path& dir, const std::string& prefix, ReadImages read_images,
                              const IdxOptions& options) {
    const auto image_path = find_mnist_file(dir, prefix + "-images", "idx3");
    const auto label_path = find_mnist_file(dir, prefix + "-labels", "idx1");
    // Labels first (small), then the images' header: a count mismatch is reported
    // before the image data is allocated.
    Labels labels = read_mnist_labels(label_path, 10, options);
    const auto dims = read_idx_dims(image_path, options);
    if (!dims.empty() && dims[0] != static_cast<std::size_t>(labels.size()))
        throw IdxError("scratchnet::load_mnist: " + image_path.string() + " holds " + std::to_string(dims[0]) +
                       " images but " + label_path.string() + " holds " + std::to_string(labels.size()) + " labels");
    MnistSplit<Images> s{read_images(image_path, options), std::move(labels)};
    if (s.images.cols() != s.labels.size())
        throw IdxError("scratchnet::load_mnist: " + image_path.string() + " holds " + std::to_string(s.images.cols()) +
                       " images but " + label_path.string() + " holds " + std::to_string(s.labels.size()) + " labels");
    return s;
}

template <class Images, class ReadImages>
MnistSet<Images> load_mnist_as(const Path& dir, ReadImages read_images, const IdxOptions& options) {
    if (const FileKind kind = file_status(dir).kind; kind != FileKind::directory)
        throw IdxError("scratchnet::load_mnist: " + dir.string() +
                       (kind == FileKind::missing ? ": no such directory" : ": not a directory"));
    MnistSet<Images> set{load_split<Images>(dir, "train", read_images, options),
                         load_split<Images>(dir, "t10k", read_images, options)};
    if (set.train.images.rows() != set.test.images.rows())
        throw IdxError("scratchnet::load_mnist: " + dir.string() + ": training images have " +
                       std::to_string(set.train.images.rows()) + " pixels, test images " +
                       std::to_string(set.test.images.rows()));
    return set;
}

}  // namespace detail

/// The four MNIST files of `dir` (train-*, t10k-*), images as floats in [0, 1].
inline MnistSet<Matrix<float>> load_mnist(const Path& dir, const IdxOptions& options = {}) {
    return detail::load_mnist_as<Matrix<float>>(
        dir, [](const Path& p, const IdxOptions& o) { return read_mnist_images(p, o); }, options);
}

/// As load_mnist(), images kept as bytes (47 MB instead of 188 MB for the training set).
inline MnistSet<ByteMatrix> load_mnist_bytes(const Path& dir, const IdxOptions& options = {}) {
    return detail::load_mnist_as<ByteMatrix>(
        dir, [](const Path& p, const IdxOptions& o) { return read_mnist_image_bytes(p, o); },
        options);
}

}  // namespace scratchnet
