// IDX and MNIST loading, on small files the tests write themselves: raw and gzip,
// good and each kind of bad. No test needs the real MNIST download.
#include <doctest/doctest.h>
#include <scratchnet/data/mnist.hpp>

#include "corpus.hpp"
#include "support/temp_dir.hpp"

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace sn = scratchnet;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct TempDir : fixtures::TempDir {
    TempDir() : fixtures::TempDir("idx") {}
};

Bytes header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
    return b;
}

Bytes idx(const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes b = header(0x08, dims);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes iota_bytes(std::size_t n, int mod = 256) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % static_cast<std::size_t>(mod));
    return b;
}

void write(const fs::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (b.size() < 100'000) test_corpus::add("idx", std::string(b.begin(), b.end()));
}

Bytes gzip(const Bytes& raw) {
    uLong bound = compressBound(static_cast<uLong>(raw.size())) + 32;
    Bytes out(bound);
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);  // +16: gzip wrapper
    z.next_in = const_cast<Bytef*>(raw.data());
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string error_of(const fs::path& p) {
    try {
        sn::read_idx(p);
    } catch (const sn::IdxError& e) {
        return e.what();
    }
    return "no error";
}

// The message names the file and contains the reason.
void check_rejected(const fs::path& p, const std::string& reason) {
    const std::string what = error_of(p);
    CHECK_MESSAGE(what.find(p.string()) != std::string::npos, what);
    CHECK_MESSAGE(what.find(reason) != std::string::npos, what);
}

}  // namespace

TEST_CASE("read_idx reads a raw and a gzip'd file to the same dims and bytes") {
    TempDir dir;
    const Bytes payload = iota_bytes(3 * 4 * 5);
    write(dir / "a-idx3-ubyte", idx({3, 4, 5}, payload));
    write(dir / "a-idx3-ubyte.gz", gzip(idx({3, 4, 5}, payload)));
    write(dir / "gzip-without-the-name", gzip(idx({3, 4, 5}, payload)));  // recognised by content
    for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz", "gzip-without-the-name"}) {
        const sn::IdxArray a = sn::read_idx(dir / name);
        CHECK(a.dims == std::vector<std::size_t>{3, 4, 5});
        CHECK(a.data == payload);
    }
}

TEST_CASE("read_idx rejects each kind of bad raw file, naming the file and the reason") {
    TempDir dir;
    write(dir / "empty", {});
    check_rejected(dir / "empty", "the file is empty");
    write(dir / "short-magic", {0, 0, 8});
    check_rejected(dir / "short-magic", "ends inside the 4-byte magic number");
    write(dir / "bad-magic", Bytes{1, 0, 8, 1, 0, 0, 0, 2, 1, 2});
    check_rejected(dir / "bad-magic", "not an IDX file");
    Bytes unknown = idx({2}, {1, 2});
    unknown[2] = 0x42;
    write(dir / "unknown-type", unknown);
    check_rejected(dir / "unknown-type", "unknown IDX data type byte 66");
    Bytes floats = header(0x0D, {2});
    floats.resize(floats.size() + 8);
    write(dir / "float-type", floats);
    check_rejected(dir / "float-type", "data type float is not supported");
    write(dir / "zero-dims", Bytes{0, 0, 8, 0});
    check_rejected(dir / "zero-dims", "dimension count 0 is outside 1..4");
    write(dir / "many-dims", Bytes{0, 0, 8, 9});
    check_rejected(dir / "many-dims", "dimension count 9 is outside 1..4");
    Bytes short_header = header(0x08, {3, 4, 5});
    short_header.resize(10);
    write(dir / "short-header", short_header);
    check_rejected(dir / "short-header", "the header ends before its 3 dimension sizes");
    write(dir / "overflow", header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
    check_rejected(dir / "overflow", "overflow 64 bits");
    write(dir / "huge-claim", header(0x08, {0x80000000u, 28, 28}));  // 2^31 images in a 16-byte file
    check_rejected(dir / "huge-claim", "more than the limit");
    write(dir / "claims-more", idx({100}, iota_bytes(99)));
    check_rejected(dir / "claims-more", "declares 100 bytes of data but the file holds 99");
    write(dir / "trailing", idx({100}, iota_bytes(101)));
    check_rejected(dir / "trailing", "1 trailing bytes");
    check_rejected(dir / "does-not-exist", "no such file");
    fs::create_directories(dir / "a-directory");
    check_rejected(dir / "a-directory", "is a directory");
}

TEST_CASE("file names come as std::filesystem::path, std::string or const char*") {
    TempDir dir;
    const Bytes payload = iota_bytes(6);
    const fs::path file = dir / "six-idx1-ubyte";
    write(file, idx({6}, payload));
    const std::string name = file.string();
    CHECK(sn::read_idx(file).data == payload);
    CHECK(sn::read_idx(name).data == payload);
    CHECK(sn::read_idx(name.c_str()).data == payload);
    CHECK((sn::Path("dir") / "file").string() == "dir/file");
    CHECK((sn::Path("dir/") / "file").string() == "dir/file");
    // A character device exists but is no file to read.
    check_rejected("/dev/null", "is not a regular file");
}

TEST_CASE("read_idx refuses a declared size above the configured cap before reading data") {
    TempDir dir;
    write(dir / "f", idx({1000}, iota_bytes(1000)));
    CHECK_THROWS_WITH_AS(sn::read_idx(dir / "f", {.max_bytes = 999}),
                         doctest::Contains("more than the limit of 999"), sn::IdxError);
    CHECK(sn::read_idx(dir / "f", {.max_bytes = 1000}).data.size() == 1000);
}

TEST_CASE("read_idx rejects bad gzip: cut mid-stream, bad CRC, too short, expanding past the header") {
    TempDir dir;
    const Bytes good = gzip(idx({4000}, iota_bytes(4000, 7)));
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
    write(dir / "cut.gz", cut);
    check_rejected(dir / "cut.gz", "gzip");
    Bytes bad_crc = good;
    bad_crc[bad_crc.size() - 6] ^= 0xFF;  // the CRC-32 sits in the 8-byte trailer
    write(dir / "crc.gz", bad_crc);
    check_rejected(dir / "crc.gz", "gzip");
    write(dir / "short.gz", gzip(idx({4000}, iota_bytes(3999))));
    check_rejected(dir / "short.gz", "declares 4000 bytes of data but the stream holds 3999");
    // 10 MB of zeros compress to ~10 KB; the header claims 100 bytes.
    Bytes bomb = header(0x08, {100});
    bomb.resize(bomb.size() + 10'000'000, 0);
    write(dir / "bomb.gz", gzip(bomb));
    CHECK(fs::file_size(dir / "bomb.gz") < 100'000);
    check_rejected(dir / "bomb.gz", "decodes past the declared 100 bytes");
    write(dir / "empty.gz", gzip({}));
    check_rejected(dir / "empty.gz", "the file is empty");
    Bytes junk = good;
    for (char c : std::string("JUNK")) junk.push_back(static_cast<std::uint8_t>(c));
    write(dir / "junk.gz", junk);
    check_rejected(dir / "junk.gz", "unexpected bytes after the end of the gzip stream");
    Bytes two = good;  // a second gzip member: not an IDX file either
    two.insert(two.end(), good.begin(), good.end());
    write(dir / "two-members.gz", two);
    check_rejected(dir / "two-members.gz", "unexpected bytes after the end of the gzip stream");
    Bytes zeros = good;
    zeros.resize(zeros.size() + 16, 0);
    write(dir / "zero-padded.gz", zeros);
    check_rejected(dir / "zero-padded.gz", "unexpected bytes after the end of the gzip stream");
}

TEST_CASE("MNIST images are pixels x count floats in [0, 1], laid out column by column") {
    TempDir dir;
    const Bytes pixels = iota_bytes(3 * 28 * 28);
    write(dir / "imgs", idx({3, 28, 28}, pixels));
    const sn::Matrix<float> X = sn::read_mnist_images(dir / "imgs");
    REQUIRE(X.rows() == 784);
    REQUIRE(X.cols() == 3);
    CHECK(X(0, 0) == 0.0f);
    CHECK(X(5, 1) == doctest::Approx(static_cast<float>((784 + 5) % 256) / 255.0f));
    CHECK(X.maxCoeff() == 1.0f);  // byte 255 maps to exactly 1
    CHECK(X.minCoeff() == 0.0f);
    // The same bits as the conversion fit() applies to each batch of bytes.
    const sn::ByteMatrix B = sn::read_mnist_image_bytes(dir / "imgs");
    CHECK((X.array() == B.cast<float>().array() * (1.0f / 255.0f)).all());
    write(dir / "labels-as-images", idx({3}, {1, 2, 3}));
    CHECK_THROWS_WITH_AS(sn::read_mnist_images(dir / "labels-as-images"),
                         doctest::Contains("expected 3 dimensions (count x rows x cols), the file has 1"), sn::IdxError);
    write(dir / "no-pixels", header(0x08, {5, 0, 28}));
    CHECK_THROWS_WITH_AS(sn::read_mnist_images(dir / "no-pixels"), doctest::Contains("images of 0 x 28 pixels are empty"),
                         sn::IdxError);
}

TEST_CASE("MNIST labels are checked to lie in 0..9") {
    TempDir dir;
    write(dir / "ok", idx({4}, {0, 9, 3, 7}));
    const sn::Labels y = sn::read_mnist_labels(dir / "ok");
    REQUIRE(y.size() == 4);
    CHECK(y[1] == 9);
    write(dir / "bad", idx({4}, {0, 9, 10, 7}));
    CHECK_THROWS_WITH_AS(sn::read_mnist_labels(dir / "bad"), doctest::Contains("label 10 at index 2 is outside 0..9"),
                         sn::IdxError);
}

TEST_CASE("load_mnist finds every usual spelling and checks image and label counts agree") {
    TempDir dir;
    write(dir / "train-images-idx3-ubyte", idx({5, 28, 28}, iota_bytes(5 * 784)));
    write(dir / "train-labels-idx1-ubyte.gz", gzip(idx({5}, {0, 1, 2, 3, 4})));
    write(dir / "t10k-images.idx3-ubyte", idx({2, 28, 28}, iota_bytes(2 * 784)));
    write(dir / "t10k-labels.idx1-ubyte.gz", gzip(idx({2}, {9, 8})));
    const auto m = sn::load_mnist(dir.path);
    CHECK(m.train.images.cols() == 5);
    CHECK(m.train.labels.size() == 5);
    CHECK(m.test.images.rows() == 784);
    CHECK(m.test.labels[0] == 9);
    const auto b = sn::load_mnist_bytes(dir.path);
    CHECK(b.train.images(7, 0) == 7);

    write(dir / "t10k-labels.idx1-ubyte.gz", gzip(idx({3}, {9, 8, 7})));
    CHECK_THROWS_WITH_AS(sn::load_mnist(dir.path), doctest::Contains("holds 2 images but"), sn::IdxError);
    fs::remove(dir / "t10k-labels.idx1-ubyte.gz");
    CHECK_THROWS_WITH_AS(sn::load_mnist(dir.path), doctest::Contains("no t10k-labels-idx1-ubyte"), sn::IdxError);
    // Say what is true: missing is not "not a directory".
    CHECK_THROWS_WITH_AS(sn::load_mnist(dir / "nowhere"), doctest::Contains("nowhere: no such directory"), sn::IdxError);
    CHECK_THROWS_WITH_AS(sn::load_mnist(dir / "train-images-idx3-ubyte"), doctest::Contains("ubyte: not a directory"),
                         sn::IdxError);
}

TEST_CASE("one_hot puts a single 1 per column at the label's row") {
    sn::Labels y(3);
    y << 2, 0, 1;
    const sn::Matrix<float> Y = sn::one_hot(y, 3);
    CHECK(Y(2, 0) == 1.0f);
    CHECK(Y(0, 1) == 1.0f);
    CHECK(Y.sum() == 3.0f);
    CHECK_THROWS_AS(sn::one_hot(y, 2), std::invalid_argument);
}
