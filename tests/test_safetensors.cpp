// safetensors files: layouts checked against files written by hand here (the
// header as a JSON string, the values as raw floats), F16 and BF16 against their
// bit patterns, numeric-aware module order, named modules, round trips, and every
// kind of hostile file rejected with the network untouched. The comparison with
// PyTorch itself is tests/pytorch.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "corpus.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace sn = scratchnet;
namespace fs = std::filesystem;

namespace {

using Tiny = sn::Network<sn::Dense<2, 3>, sn::ReLU, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy>;

/// A safetensors file: the header length, the header, the data.
std::string file_of(const std::string& header, const std::string& data) {
    std::string s(8, '\0');
    const std::uint64_t n = header.size();
    std::memcpy(s.data(), &n, 8);
    return s + header + data;
}

template <class U>
std::string bytes_of(std::initializer_list<U> values) {
    std::string s(values.size() * sizeof(U), '\0');
    std::memcpy(s.data(), std::data(values), s.size());
    return s;
}

fs::path write_file(const std::string& name, const std::string& bytes) {
    const fs::path p = fs::temp_directory_path() / ("scratchnet-test-" + name + ".safetensors");
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
}

/// Tiny's tensors in PyTorch's layout: 0.weight [3, 2], 0.bias [3], 2.weight [2, 3], 2.bias [2].
std::string tiny_header(const std::string& first = "0", const std::string& second = "2") {
    return "{\"" + first + ".weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}," + "\"" + first +
           ".bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}," + "\"" + second +
           ".weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[36,60]}," + "\"" + second +
           ".bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[60,68]}}";
}
std::string tiny_data() {
    return bytes_of<float>({1, 2, 3, 4, 5, 6, 10, 20, 30, 7, 8, 9, 11, 12, 13, 40, 50});
}

/// The error load_safetensors gives for `bytes`, checking that Tiny is untouched.
std::string load_error(const std::string& bytes, const std::string& name = "hostile") {
    test_corpus::add("safetensors", bytes);
    Tiny net(1);
    const sn::Vector<float> before = net.parameters();
    const fs::path p = write_file(name, bytes);
    std::string message = "no error";
    try {
        sn::load_safetensors(net, p);
    } catch (const sn::SafetensorsError& e) {
        message = e.what();
        CHECK(net.parameters() == before);
    }
    fs::remove(p);
    return message;
}

}  // namespace

TEST_CASE("load_safetensors maps PyTorch's row-major [out, in] weights onto Dense") {
    Tiny net(1);
    const fs::path p = write_file("dense", file_of(tiny_header(), tiny_data()));
    test_corpus::add("safetensors", file_of(tiny_header(), tiny_data()));
    sn::load_safetensors(net, p);
    fs::remove(p);
    // PyTorch's weight[o][i] is W(o, i): rows [1 2], [3 4], [5 6].
    sn::Matrix<float> W0(3, 2);
    W0 << 1, 2, 3, 4, 5, 6;
    CHECK(net.layer<0>().weights() == W0);
    CHECK(net.layer<0>().bias() == sn::Vector<float>{{10, 20, 30}});
    sn::Matrix<float> W2(2, 3);
    W2 << 7, 8, 9, 11, 12, 13;
    CHECK(net.layer<2>().weights() == W2);
    CHECK(net.layer<2>().bias() == sn::Vector<float>{{40, 50}});
}

TEST_CASE("load_safetensors orders modules by number, not by text: 2 before 10") {
    Tiny net(1);
    const std::string bytes = file_of(tiny_header("2", "10"), tiny_data());
    const fs::path p = write_file("order", bytes);
    sn::load_safetensors(net, p);  // "10" < "2" as text would give layer 0 a [2, 3] weight
    fs::remove(p);
    CHECK(net.layer<0>().bias() == sn::Vector<float>{{10, 20, 30}});
    CHECK(net.layer<2>().bias() == sn::Vector<float>{{40, 50}});
}

TEST_CASE("load_safetensors with module names takes each layer's tensors by name") {
    Tiny net(1);
    const fs::path p = write_file("named", file_of(tiny_header("fc1", "fc2"), tiny_data()));
    sn::load_safetensors(net, p, {"fc1", "fc2"});
    CHECK(net.layer<2>().bias() == sn::Vector<float>{{40, 50}});
    Tiny other(1);
    const sn::Vector<float> before = other.parameters();
    CHECK_THROWS_WITH_AS(sn::load_safetensors(other, p, {"fc2", "fc1"}),
                         doctest::Contains("tensor 'fc2.weight' has shape [2, 3], but layer 0, Dense<2,3> expects [3, 2]"),
                         sn::SafetensorsError);
    CHECK_THROWS_WITH_AS(sn::load_safetensors(other, p, {"fc1"}),
                         doctest::Contains("1 module names given, but the network has 2 modules with parameters"),
                         sn::SafetensorsError);
    CHECK(other.parameters() == before);
    fs::remove(p);
}

TEST_CASE("load_safetensors reads F64, F16 and BF16 into float, and F32 into double") {
    // 1, -2, 1/3 rounded to half, the smallest subnormal half (2^-24).
    const std::string half = bytes_of<std::uint16_t>({0x3C00, 0xC000, 0x3555, 0x0001, 0x3800, 0x4200});
    // 1, 3.140625, -0.5, 2 in bfloat16.
    const std::string bf16 = bytes_of<std::uint16_t>({0x3F80, 0x4049, 0xBF00, 0x4000});
    const std::string f64 = bytes_of<double>({0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
    const std::string header =
        "{\"0.weight\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,12]},"
        "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]},"
        "\"2.weight\":{\"dtype\":\"F64\",\"shape\":[2,3],\"data_offsets\":[24,72]},"
        "\"2.bias\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[72,76]}}";
    const std::string data = half + bytes_of<float>({1.5f, -2.5f, 0.25f}) + f64 + bf16.substr(0, 4);
    const fs::path p = write_file("dtypes", file_of(header, data));
    Tiny net(1);
    sn::load_safetensors(net, p);
    const auto W = net.layer<0>().weights();
    CHECK(W(0, 0) == 1.0f);
    CHECK(W(0, 1) == -2.0f);
    CHECK(W(1, 0) == 0.333251953125f);  // 0x3555: 1365/4096
    CHECK(W(1, 1) == 5.9604644775390625e-8f);
    CHECK(W(2, 0) == 0.5f);
    CHECK(W(2, 1) == 3.0f);
    CHECK(net.layer<2>().weights()(1, 2) == 0.6f);
    CHECK(net.layer<2>().bias() == sn::Vector<float>{{1.0f, 3.140625f}});

    sn::BasicNetwork<double, sn::Dense<2, 3>, sn::ReLU, sn::Dense<3, 2>, sn::Softmax, sn::CrossEntropy> d(1);
    const fs::path q = write_file("into-double", file_of(tiny_header(), tiny_data()));
    sn::load_safetensors(d, q);
    CHECK(d.layer<2>().weights()(1, 0) == 11.0);
    fs::remove(p);
    fs::remove(q);
}

TEST_CASE("save_safetensors then load_safetensors gives the same bits, state included") {
    using Net = sn::Network<sn::Input<1, 6, 6>, sn::Conv2D<1, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU,
                            sn::Residual<sn::Conv2D<4, 4, 3, 1, 1>, sn::BatchNorm, sn::ReLU, sn::Conv2D<4, 4, 3, 1, 1>>,
                            sn::ReLU, sn::GlobalAvgPool2D, sn::Dense<4, 3>, sn::Softmax, sn::CrossEntropy>;
    Net a(1);
    sn::Matrix<float> X = sn::Matrix<float>::Random(36, 32);
    sn::Labels y(32);
    for (Eigen::Index j = 0; j < 32; ++j) y[j] = static_cast<int>(j % 3);
    sn::Adam adam(0.01f);
    sn::fit(a, adam, X, y, {.epochs = 2, .batch_size = 8, .seed = 1});
    CHECK(a.state() != Net(1).state());  // the running statistics moved
    const fs::path p = fs::temp_directory_path() / "scratchnet-test-roundtrip.safetensors";
    sn::save_safetensors(a, p);
    Net b(2);
    sn::load_safetensors(b, p);
    CHECK(b.parameters() == a.parameters());
    CHECK(b.state() == a.state());
    // The names of the equivalent nn.Sequential, a Residual's inner modules under
    // main.<i>, and BatchNorm's four tensors and counter.
    std::ifstream in(p, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* name : {"\"0.weight\"", "\"1.running_var\"", "\"1.num_batches_tracked\"", "\"3.main.0.weight\"",
                             "\"3.main.1.running_mean\"", "\"3.main.3.bias\"", "\"6.weight\""})
        CHECK_MESSAGE(text.find(name) != std::string::npos, name);
    std::uint64_t n = 0;
    std::memcpy(&n, text.data(), 8);
    CHECK(n % 8 == 0);  // the data starts 8-byte aligned
    fs::remove(p);

    sn::save_safetensors(a, p, {"stem", "stem_bn", "block.conv1", "block.bn1", "block.conv2", "head"});
    Net c(3);
    sn::load_safetensors(c, p, {"stem", "stem_bn", "block.conv1", "block.bn1", "block.conv2", "head"});
    CHECK(c.parameters() == a.parameters());
    CHECK(c.state() == a.state());
    fs::remove(p);
}

TEST_CASE("load_safetensors rejects each kind of hostile file and leaves the network unchanged") {
    const std::string good = file_of(tiny_header(), tiny_data());
    CHECK(load_error(good) == "no error");

    CHECK(load_error("").find("the file is empty") != std::string::npos);
    CHECK(load_error("abc").find("ends inside the 8-byte header length") != std::string::npos);
    std::string lie = good;
    const std::uint64_t huge = 1ull << 40;
    std::memcpy(lie.data(), &huge, 8);
    CHECK(load_error(lie).find("header length 1099511627776 runs past the end of the file") != std::string::npos);
    CHECK(load_error(file_of("not json", "")).find("expected the header to be a JSON object") != std::string::npos);
    CHECK(load_error(file_of(tiny_header() + "x", tiny_data())).find("bytes after the header's closing brace") !=
          std::string::npos);
    CHECK(load_error(file_of(tiny_header() + "   ", tiny_data())) == "no error");  // padding is allowed

    const auto with_first = [&](const std::string& entry) {  // the first tensor replaced
        const std::string h = tiny_header();
        const auto start = h.find("\"0.weight\"");
        const auto end = h.find("},", start) + 1;
        return h.substr(0, start) + entry + h.substr(end);
    };
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("has shape [3], but layer 0, Dense<2,3> expects [3, 2]") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"I16\",\"shape\":[3,4],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("has shape [3, 4]") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"Q4\",\"shape\":[3,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("unknown dtype 'Q4'") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"I32\",\"shape\":[3,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("has dtype I32, which cannot be read as a parameter") != std::string::npos);
    std::string overlapping = tiny_header();
    overlapping.replace(overlapping.find("[24,36]"), 7, "[20,32]");  // 0.bias starts inside 0.weight
    CHECK(load_error(file_of(overlapping, tiny_data())).find("tensors '0.weight' and '0.bias' overlap") !=
          std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,12]}"),
                             tiny_data()))
              .find("gap of 12 bytes before tensor '0.bias'") != std::string::npos);
    CHECK(load_error(file_of(tiny_header(), tiny_data() + "xxxx")).find("4 bytes after the last tensor belong to none") !=
          std::string::npos);
    CHECK(load_error(file_of(tiny_header(), tiny_data().substr(0, 60)))
              .find("data_offsets [60, 68] run past the end of the data (60 bytes)") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[24,0]}"),
                             tiny_data()))
              .find("end before they begin") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                                        "\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("has more elements than 2^64") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[-3,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("expected a non-negative integer") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3.0,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("a number that is not an integer") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2]}"), tiny_data()))
              .find("tensor '0.weight' lacks its data_offsets") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24],"
                                        "\"extra\":1}"),
                             tiny_data()))
              .find("unknown key 'extra'") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("tensor '0.bias' appears twice") != std::string::npos);
    CHECK(load_error(file_of(with_first("\"0.w\\u00e9ight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}"),
                             tiny_data()))
              .find("missing tensor '0.weight' [3, 2] for layer 0, Dense<2,3>") != std::string::npos);
    CHECK(load_error(file_of("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}," + tiny_header().substr(1), tiny_data()))
              .find("__metadata__ values must be strings") != std::string::npos);
    CHECK(load_error(file_of("{\"__metadata__\":{\"format\":\"pt\"}," + tiny_header().substr(1), tiny_data())) ==
          "no error");

    // A tensor too many, and one too few.
    const std::string extra = tiny_header().substr(0, tiny_header().size() - 1) +
                              ",\"4.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[68,72]}}";
    CHECK(load_error(file_of(extra, tiny_data() + bytes_of<float>({1}))).find("extra tensor '4.weight' [1]") !=
          std::string::npos);
    const std::string utf8 = tiny_header().substr(0, tiny_header().size() - 1) +
                             ",\"\xc3\xa9t\xc3\xa9.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[68,72]}}";
    CHECK(load_error(file_of(utf8, tiny_data() + bytes_of<float>({1}))).find("extra tensor '\xc3\xa9t\xc3\xa9.weight' [1]") !=
          std::string::npos);
    const std::string fewer = tiny_header().substr(0, tiny_header().find(",\"2.bias\"")) + "}";
    CHECK(load_error(file_of(fewer, tiny_data().substr(0, 60))).find("missing tensor '2.bias' [2] for layer 2, Dense<3,2>") !=
          std::string::npos);

    // A value that is not a number.
    std::string nan_data = tiny_data();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(nan_data.data() + 8, &nan, 4);
    CHECK(load_error(file_of(tiny_header(), nan_data)).find("tensor '0.weight' holds a NaN at element 2") !=
          std::string::npos);

    // Every truncation of the good file, and every byte flipped: a SafetensorsError
    // or a load, never anything else.
    for (std::size_t n = 0; n < good.size(); ++n) CHECK(load_error(good.substr(0, n), "cut") != "no error");
    for (std::size_t i = 0; i < good.size(); ++i) {
        std::string flipped = good;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
        Tiny net(1);
        const fs::path p = write_file("flip", flipped);
        try {
            sn::load_safetensors(net, p);
        } catch (const sn::SafetensorsError&) {
            CHECK(net.parameters() == Tiny(1).parameters());
        }
        fs::remove(p);
    }
}

TEST_CASE("load_safetensors of a missing file or a directory names it") {
    Tiny net(1);
    CHECK_THROWS_WITH_AS(sn::load_safetensors(net, "/nonexistent/model.safetensors"),
                         doctest::Contains("/nonexistent/model.safetensors: cannot open the file"), sn::SafetensorsError);
    CHECK_THROWS_WITH_AS(sn::load_safetensors(net, fs::temp_directory_path()), doctest::Contains("is a directory"),
                         sn::SafetensorsError);
}
