// Model files: bit-exact round trips, a golden file from format version 1, and
// every kind of damaged or mismatched file rejected with the network untouched.
#include <doctest/doctest.h>
#include <scratchnet/scratchnet.hpp>

#include "corpus.hpp"

#include <cstring>
#include <limits>
#include <zlib.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sn = scratchnet;
namespace fs = std::filesystem;

namespace {
using Small = sn::Network<sn::Dense<3, 4>, sn::Tanh, sn::Dense<4, 2>, sn::Softmax, sn::CrossEntropy>;

std::string saved(const Small& net) {
    std::ostringstream out;
    sn::save(net, out);
    return out.str();
}

std::string load_error(const std::string& bytes) {
    Small net(1);
    const sn::Vector<float> before = net.parameters();
    test_corpus::add("model", bytes);
    std::istringstream in(bytes);
    try {
        sn::load(net, in, "model.snm");
    } catch (const sn::ModelError& e) {
        CHECK(net.parameters() == before);  // untouched
        return e.what();
    }
    return "no error";
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) { std::memcpy(s.data() + at, &v, 4); }
}  // namespace

TEST_CASE("save then load is bit-exact, for float and double") {
    Small a(5), b(6);
    a.parameters()[0] = std::nextafter(1.0f, 2.0f);  // a value that text formats tend to round
    std::stringstream io;
    sn::save(a, io);
    sn::load(b, io);
    CHECK(b.parameters() == a.parameters());

    using D = sn::BasicNetwork<double, sn::Dense<2, 3>, sn::ReLU, sn::Dense<3, 1>, sn::Sigmoid, sn::BinaryCrossEntropy>;
    D c(1), d(2);
    const fs::path file = fs::temp_directory_path() / "scratchnet-roundtrip.snm";
    sn::save(c, file);
    sn::load(d, file);
    CHECK(d.parameters() == c.parameters());
    fs::remove(file);
}

TEST_CASE("the golden file written by format version 1 still loads") {
    // tests/data/golden_v1.snm holds Small with parameter k = (k - 10) / 16, saved
    // by scratchnet 0.1 (format version 1). Every value is exact in binary.
    Small net(1);
    sn::load(net, fs::path(SCRATCHNET_TEST_DATA) / "golden_v1.snm");
    for (sn::Index k = 0; k < Small::parameter_count; ++k)
        CHECK(net.parameters()[k] == static_cast<float>(k - 10) / 16.0f);
    // And today's save() writes the same bytes.
    Small same(1);
    for (sn::Index k = 0; k < Small::parameter_count; ++k) same.parameters()[k] = static_cast<float>(k - 10) / 16.0f;
    std::ifstream golden(fs::path(SCRATCHNET_TEST_DATA) / "golden_v1.snm", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(golden)), std::istreambuf_iterator<char>());
    CHECK(saved(same) == bytes);
}

TEST_CASE("load rejects each kind of damaged file and leaves the network unchanged") {
    const std::string good = saved(Small(3));
    CHECK(load_error(good) == "no error");
    CHECK(load_error("") == "scratchnet::load: model.snm: the file is empty");
    CHECK(load_error("hello, world, this is text") ==
          "scratchnet::load: model.snm: not a scratchnet model file (wrong magic number)");
    CHECK(load_error(good.substr(0, 12)) == "scratchnet::load: model.snm: the file ends inside the header");
    // A model file cut inside its magic number is truncated, not some other file.
    CHECK(load_error(good.substr(0, 5)) == "scratchnet::load: model.snm: the file ends inside the magic number (5 of 8 bytes)");
    std::string v3 = good;
    put_u32(v3, 8, 3);
    CHECK(load_error(v3).find("format version 3 is not supported") != std::string::npos);
    std::string v2 = good;  // version 2 carries state: not for a network whose layers keep none
    put_u32(v2, 8, 2);
    CHECK(load_error(v2).find("format version 2 holds state, but this network's layers keep none") !=
          std::string::npos);
    std::string scalar = good;
    put_u32(scalar, 12, 5);
    CHECK(load_error(scalar).find("invalid scalar size 5") != std::string::npos);
    std::string long_arch = good;
    put_u32(long_arch, 16, 0xFFFFFFF0u);
    CHECK(load_error(long_arch).find("implausibly long") != std::string::npos);
    CHECK(load_error(good.substr(0, 40)).find("ends inside the architecture") != std::string::npos);
    CHECK(load_error(good.substr(0, good.size() - 1)).find("ends inside the parameters and checksum") !=
          std::string::npos);
    CHECK(load_error(good + "x").find("unexpected bytes after the checksum") != std::string::npos);
    std::string flipped = good;
    flipped[flipped.size() - 10] ^= 0x01;  // one bit of one parameter
    CHECK(load_error(flipped).find("checksum mismatch") != std::string::npos);
}

TEST_CASE("load says how the file's architecture differs from the network's") {
    using Wider = sn::Network<sn::Dense<3, 5>, sn::Tanh, sn::Dense<5, 2>, sn::Softmax, sn::CrossEntropy>;
    std::ostringstream out;
    sn::save(Wider(1), out);
    CHECK(load_error(out.str()) ==
          "scratchnet::load: model.snm: file holds \"Dense<3,5>,Tanh,Dense<5,2>,Softmax,CrossEntropy\" (float), this "
          "network is Dense<3,4>,Tanh,Dense<4,2>,Softmax,CrossEntropy (float)");
    using Double = Small::rebind<double>;
    std::ostringstream d;
    sn::save(Double(1), d);
    CHECK(load_error(d.str()).find("(double), this network is") != std::string::npos);
}

TEST_CASE("load of a missing file or a directory names it") {
    Small net(1);
    CHECK_THROWS_WITH_AS(sn::load(net, fs::path("/nonexistent/model.snm")),
                         "scratchnet::load: /nonexistent/model.snm: cannot open the file: No such file or directory",
                         sn::ModelError);
    CHECK_THROWS_WITH_AS(sn::load(net, fs::temp_directory_path()), doctest::Contains("is a directory"), sn::ModelError);
    CHECK_THROWS_WITH_AS(sn::save(net, fs::path("/nonexistent/model.snm")),
                         "scratchnet::save: /nonexistent/model.snm: cannot open for writing: No such file or directory",
                         sn::ModelError);
}

TEST_CASE("load from a file rejects truncation and trailing bytes as the stream overload does") {
    const fs::path file = fs::temp_directory_path() / "scratchnet-damaged.snm";
    const auto error_from_file = [&](const std::string& bytes) -> std::string {
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
        Small net(1);
        const sn::Vector<float> before = net.parameters();
        try {
            sn::load(net, file);
        } catch (const sn::ModelError& e) {
            CHECK(net.parameters() == before);
            return e.what();
        }
        return "no error";
    };
    const std::string good = saved(Small(3));
    const std::string name = "scratchnet::load: " + file.string() + ": ";
    CHECK(error_from_file(good) == "no error");
    CHECK(error_from_file("") == name + "the file is empty");
    CHECK(error_from_file(good.substr(0, 12)) == name + "the file ends inside the header");
    // 26 float parameters (3*4+4 + 4*2+2) and a 4-byte CRC: 108 bytes after the header.
    CHECK(error_from_file(good.substr(0, good.size() - 1)) ==
          name + "the file ends inside the parameters and checksum (107 of 108 bytes)");
    CHECK(error_from_file(good + "x") == name + "unexpected bytes after the checksum");
    fs::remove(file);
}

namespace {
/// `bytes` with its CRC-32 (the last 4 bytes) recomputed over the rest, as a writer would.
std::string with_checksum(std::string bytes) {
    const auto n = static_cast<uInt>(bytes.size() - 4);
    put_u32(bytes, bytes.size() - 4, static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), n)));
    return bytes;
}
}  // namespace

TEST_CASE("load refuses NaN and infinite parameters behind a valid checksum, naming the index and layer") {
    const std::string good = saved(Small(3));
    const std::size_t arch = Small::architecture().size(), first = 20 + arch + 8;
    std::string bad = good;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(bad.data() + first + 4 * 17, &nan, 4);  // parameter 17: layer 2's (Dense<4,2> starts at 16)
    CHECK(load_error(with_checksum(bad)) == "scratchnet::load: model.snm: parameter 17 (layer 2, Dense<4,2>) is NaN or infinite");
    const float inf = std::numeric_limits<float>::infinity();
    bad = good;
    std::memcpy(bad.data() + first, &inf, 4);
    CHECK(load_error(with_checksum(bad)).find("parameter 0 (layer 0, Dense<3,4>) is NaN or infinite") != std::string::npos);
}

TEST_CASE("load quotes a file's architecture escaped and cut short: no control bytes or NULs reach the message") {
    const std::string good = saved(Small(3));
    std::string bad = good;
    const std::string arch = Small::architecture();
    std::string hostile = "\x1b[2J" + std::string(1, '\0') + "\r" + std::string(arch.size() - 6, 'A');
    bad.replace(20, arch.size(), hostile);
    const std::string message = load_error(bad);
    CHECK(message.find("file holds \"\\x1b[2J\\x00\\rAAAA") != std::string::npos);
    for (const char c : message) CHECK((static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f));
    // A 65,536-byte architecture is shown as its start and its length.
    std::string huge = good.substr(0, 16);
    put_u32(huge, 12, 4);
    huge.resize(20);
    put_u32(huge, 16, 65536);
    huge += std::string(65536, 'Z') + std::string(8, '\0') + std::string(4, '\0');
    const std::string cut = load_error(huge);
    CHECK(cut.find("... (65536 bytes) (float), this network is") != std::string::npos);
    CHECK(cut.size() < 400);
}
