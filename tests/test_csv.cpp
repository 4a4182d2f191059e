// CSV tables, scalers and the train/test split, on small files the tests write:
// each format feature, each kind of bad file (with its message), every
// truncation and damaged byte of a good file, and scaled values checked against
// hand computations.
#include <doctest/doctest.h>
#include <scratchnet/data/csv.hpp>
#include <scratchnet/data/scalers.hpp>
#include <scratchnet/data/split.hpp>

#include "support/temp_dir.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <string>

namespace sn = scratchnet;

namespace {

struct CsvFile : fixtures::TempDir {
    CsvFile() : fixtures::TempDir("csv") {}
    std::string write(const std::string& bytes, const std::string& name = "data.csv") const {
        const std::string p = (path / name).string();
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
};

const std::string kIris = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n";

}  // namespace

TEST_CASE("read_csv reads names, numbers as features x samples, and classes by name") {
    CsvFile dir;
    const sn::CsvTable t = sn::read_csv(dir.write(kIris));
    CHECK(t.rows() == 4);
    CHECK(t.cols() == 3);
    CHECK(t.names() == std::vector<std::string>{"sepal", "petal", "species"});
    const sn::Matrix<float> X = t.numbers_except({"species"});
    REQUIRE(X.rows() == 2);
    REQUIRE(X.cols() == 4);
    CHECK(X(0, 0) == 5.1f);
    CHECK(X(1, 2) == 6.0f);
    CHECK(t.numbers<double>({-2})(0, 1) == 4.7);  // -2: the second column from the end
    const sn::CsvClasses c = t.classes("species");
    CHECK(c.names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(c.labels == (sn::Labels(4) << 0, 1, 2, 0).finished());
    CHECK(t.line(3) == 5);
}

TEST_CASE("read_csv detects ';', tab and '|' and takes quotes, CRLF, a BOM, comments and blank lines") {
    CsvFile dir;
    for (const char d : {';', '\t', '|'}) {
        CAPTURE(d);
        const std::string s = std::string("a") + d + "b\n1" + d + "2\n3" + d + "4\n";
        const sn::CsvTable t = sn::read_csv(dir.write(s));
        CHECK(t.cols() == 2);
        CHECK(t.numbers({"b"})(0, 1) == 4.0f);
    }
    // Quoted names and fields: a delimiter, a line break and a doubled quote inside.
    const std::string quoted = "\xEF\xBB\xBF\"name, full\",\"x\"\r\n# a comment\r\n\r\n\"a \"\"b\"\",\nc\", 1.5 \r\n  d  ,-2\r\n";
    sn::CsvOptions o;
    o.comment = '#';
    const sn::CsvTable t = sn::read_csv(dir.write(quoted), o);
    CHECK(t.names() == std::vector<std::string>{"name, full", "x"});
    REQUIRE(t.rows() == 2);
    CHECK(t.field(0, 0) == "a \"b\",\nc");
    CHECK(t.field(1, 0) == "d");
    CHECK(t.line(1) == 6);  // the quoted field's line break counts
    CHECK(t.numbers({"x"}) == (sn::Matrix<float>(1, 2) << 1.5f, -2.0f).finished());
}

TEST_CASE("read_csv: no header, skipped lines, a given delimiter, and classes from whole numbers") {
    CsvFile dir;
    sn::CsvOptions o;
    o.header = false;
    o.skip_rows = 2;
    o.delimiter = ' ';
    const sn::CsvTable t = sn::read_csv(dir.write("a title\nand a licence, with, commas\n0.5 10\n1.5 9\n2.5 10\n-1 2\n"), o);
    CHECK(t.names() == std::vector<std::string>{"0", "1"});
    CHECK(t.rows() == 4);
    // Whole numbers sort as numbers: 2 < 9 < 10.
    const sn::CsvClasses c = t.classes(1);
    CHECK(c.names == std::vector<std::string>{"2", "9", "10"});
    CHECK(c.labels == (sn::Labels(4) << 2, 1, 2, 0).finished());
}

TEST_CASE("missing fields are an error naming line and column, or NaN, or leave their row out") {
    CsvFile dir;
    const std::string s = "a,b\n1,2\n3,NA\n5,\n7,8\n";
    const std::string p = dir.write(s);
    const sn::CsvTable strict = sn::read_csv(p);
    CHECK_THROWS_WITH_AS(strict.numbers({"b"}), doctest::Contains((p + ":3: column 2 (\"b\"): a missing value \"NA\"").c_str()),
                         sn::CsvError);
    CHECK(strict.numbers({"a"}) == (sn::Matrix<float>(1, 4) << 1, 3, 5, 7).finished());

    sn::CsvOptions o;
    o.missing = sn::CsvMissing::nan;
    const sn::Matrix<double> b = sn::read_csv(p, o).numbers<double>({"b"});
    CHECK(b(0, 0) == 2.0);
    CHECK(std::isnan(b(0, 1)));
    CHECK(std::isnan(b(0, 2)));
    CHECK_THROWS_WITH_AS(sn::read_csv(p, o).classes("b"), doctest::Contains(":3: column 2 (\"b\"): a missing class label"),
                         sn::CsvError);

    o.missing = sn::CsvMissing::skip_row;
    const sn::CsvTable kept = sn::read_csv(p, o);
    CHECK(kept.rows() == 2);
    CHECK(kept.skipped_rows() == 2);
    CHECK(kept.numbers({"b"}) == (sn::Matrix<float>(1, 2) << 2, 8).finished());
    CHECK(kept.line(1) == 5);
    CHECK_THROWS_WITH_AS(sn::read_csv(dir.write("a\nNA\n\n"), o), doctest::Contains("every row has a missing field"),
                         sn::CsvError);
}

TEST_CASE("fields that are not finite numbers, or too large, are errors naming them") {
    CsvFile dir;
    const std::string p = dir.write("x,y\n1,abc\n1e999,2\n1e39,inf\n0x10,+3\n");
    const sn::CsvTable t = sn::read_csv(p);
    CHECK_THROWS_WITH_AS(t.numbers({"y"}), doctest::Contains((p + ":2: column 2 (\"y\"): \"abc\" is not a number").c_str()),
                         sn::CsvError);
    CHECK_THROWS_WITH_AS(t.numbers<double>({"x"}), doctest::Contains(":3: column 1 (\"x\"): \"1e999\" is out of the range of a double"),
                         sn::CsvError);
    // 1e39 is a double but not a float.
    const sn::CsvTable t2 = sn::read_csv(dir.write("x\n1e39\n"));
    CHECK(t2.numbers<double>({"x"})(0, 0) == 1e39);
    CHECK_THROWS_WITH_AS(t2.numbers<float>({"x"}), doctest::Contains("\"1e39\" is out of the range of a float"), sn::CsvError);
    const sn::CsvTable t3 = sn::read_csv(dir.write("y\ninf\n"));
    CHECK_THROWS_WITH_AS(t3.numbers({"y"}), doctest::Contains("\"inf\" is not a finite number"), sn::CsvError);
    const sn::CsvTable t4 = sn::read_csv(dir.write("x,y\n0x10,+3\n"));
    CHECK_THROWS_WITH_AS(t4.numbers({"x"}), doctest::Contains("\"0x10\" is not a number"), sn::CsvError);
    CHECK(t4.numbers({"y"})(0, 0) == 3.0f);
    // A hostile field reaches the message escaped and cut short.
    const sn::CsvTable t5 = sn::read_csv(dir.write("x\n\"\x1b[31mred\n" + std::string(100, 'z') + "\"\n"));
    CHECK_THROWS_WITH_AS(t5.numbers({"x"}), doctest::Contains("\"\\x1b[31mred\\nzzz"), sn::CsvError);
    CHECK_THROWS_WITH_AS(t5.numbers({"x"}), doctest::Contains("... (109 bytes) is not a number"), sn::CsvError);
}

TEST_CASE("bad CSV files are CsvErrors naming the file, the line and what is wrong") {
    CsvFile dir;
    const auto fails = [&](const std::string& bytes, const std::string& message, sn::CsvOptions o = {}) {
        CAPTURE(bytes.substr(0, 60));
        const std::string p = dir.write(bytes);
        CHECK_THROWS_WITH_AS(sn::read_csv(p, o), doctest::Contains((p + message).c_str()), sn::CsvError);
    };
    fails("", ": an empty file");
    fails("\n\n  \n", ": no records (only blank or skipped lines)");
    fails("a,b,c\n", ":1: a header and no rows of data");
    fails("a,b\n1,2\n3,4,5\n", ":3: 3 fields, but the header has 2 names");
    fails("a,b\n1,2\n3\n", ":3: 1 fields, but the header has 2 names");
    fails("a,b\n1,\"2\n3,4\n", ":2: a quoted field opened on this line is never closed");
    fails("a,b\n1,\"2\"x\n", ":2: text after the closing quote of a quoted field: \"x\\n\"");
    fails(std::string("a,b\n1,2\n\x7f" "ELF\x01\x00\x00\x02\n", 17), ":3: a NUL byte: a binary file, not CSV text");
    sn::CsvOptions small;
    small.max_record_bytes = 1000;
    fails("a\n" + std::string(5000, '7') + "\n", ":2: a record longer than CsvOptions::max_record_bytes (1000 bytes)", small);
    fails("a\n\"" + std::string(5000, '7') + "\"\n", ":2: a record longer than CsvOptions::max_record_bytes (1000 bytes)", small);
    small.max_bytes = 100;
    fails(std::string(200, '1'), ": larger than CsvOptions::max_bytes (100 bytes)", small);
    sn::CsvOptions skip;
    skip.skip_rows = 5;
    fails("a\n1\n", ": the file has 2 lines, fewer than skip_rows (5)", skip);
    CHECK_THROWS_WITH_AS(sn::read_csv((dir / "absent.csv").string()), doctest::Contains("absent.csv: no such file"), sn::CsvError);
    CHECK_THROWS_WITH_AS(sn::read_csv(dir.path.string()), doctest::Contains("is a directory, not a CSV file"), sn::CsvError);

    const sn::CsvTable t = sn::read_csv(dir.write("a,b,a\n1,2,3\n"));
    CHECK_THROWS_WITH_AS(t.column("a"), doctest::Contains("columns 1 and 3 are both named \"a\"; pick one by index"), sn::CsvError);
    CHECK_THROWS_WITH_AS(t.column("z"), doctest::Contains("no column named \"z\" (columns: \"a\", \"b\", \"a\")"), sn::CsvError);
    CHECK_THROWS_WITH_AS(t.column(3), doctest::Contains("no column 3 (the file has 3)"), sn::CsvError);
    CHECK_THROWS_WITH_AS(t.column(-4), doctest::Contains("no column -4 (the file has 3)"), sn::CsvError);
    CHECK(t.column(-1) == 2);
}

TEST_CASE("every truncation and every damaged byte of a CSV file gives a table or a CsvError, never a crash") {
    CsvFile dir;
    const std::string good = "\"x\",y,label\n1.5,\"2,5\",a\n-3,4e2,\"b\"\"c\"\r\n7,8,a\n";
    std::size_t tables = 0, errors = 0;
    const auto attempt = [&](const std::string& bytes) {
        try {
            const sn::CsvTable t = sn::read_csv(dir.write(bytes));
            for (sn::Index c = 0; c < t.cols(); ++c) {
                try {
                    (void)t.numbers<double>({c});
                } catch (const sn::CsvError&) {
                }
                (void)t.classes(c);
            }
            ++tables;
        } catch (const sn::CsvError&) {
            ++errors;
        }
    };
    for (std::size_t n = 0; n < good.size(); ++n) attempt(good.substr(0, n));
    for (std::size_t i = 0; i < good.size(); ++i)
        for (const char c : {'\0', '"', ',', '\n', '\r', 'x', '\xff'}) {
            std::string bad = good;
            bad[i] = c;
            attempt(bad);
        }
    CHECK(tables > 0);
    CHECK(errors > 0);
}

TEST_CASE("Standardizer: mean 0 and std 1 per feature from the training data, a constant feature 0, saved exactly") {
    // Feature 0: 1 2 3 4 (mean 2.5, population std sqrt(1.25)); feature 1 constant.
    const sn::Matrix<double> X = (sn::Matrix<double>(2, 4) << 1, 2, 3, 4, 10, 10, 10, 10).finished();
    sn::Standardizer s;
    const sn::Matrix<double> Z = s.fit_transform(X);
    CHECK(s.mean()[0] == 2.5);
    CHECK(s.scale()[0] == doctest::Approx(std::sqrt(1.25)).epsilon(1e-15));
    CHECK(s.scale()[1] == 1.0);
    CHECK(Z(0, 0) == doctest::Approx(-1.5 / std::sqrt(1.25)).epsilon(1e-15));
    CHECK(Z.row(1).isZero());
    CHECK(std::abs(Z.row(0).mean()) < 1e-15);
    // New data takes the training part's statistics.
    const sn::Matrix<float> T = (sn::Matrix<float>(2, 1) << 5.0f, 12.0f).finished();
    const sn::Matrix<float> t = s.transform(T);
    CHECK(t(0, 0) == doctest::Approx(2.5 / std::sqrt(1.25)).epsilon(1e-6));
    CHECK(t(1, 0) == 2.0f);
    CHECK((s.inverse_transform(Z) - X).cwiseAbs().maxCoeff() < 1e-14);

    fixtures::TempDir dir("scaler");
    s.save((dir / "s.scaler").string());
    sn::Standardizer back;
    back.load((dir / "s.scaler").string());
    CHECK(back.mean() == s.mean());
    CHECK(back.scale() == s.scale());

    CHECK_THROWS_WITH_AS(s.transform(sn::Matrix<double>(3, 2)), doctest::Contains("the data has 3 features (rows), the scaler was fitted on 2"),
                         std::invalid_argument);
    sn::Matrix<double> bad = X;
    bad(1, 2) = std::nan("");
    CHECK_THROWS_WITH_AS(sn::Standardizer().fit(bad), doctest::Contains("feature 1 of sample 2 is not finite"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::Standardizer().transform(X), doctest::Contains("fit() it first"), std::logic_error);
}

TEST_CASE("MinMaxScaler maps each feature onto its range; scaler files are checked") {
    const sn::Matrix<float> X = (sn::Matrix<float>(2, 3) << 1, 3, 5, 7, 7, 7).finished();
    sn::MinMaxScaler m;
    const sn::Matrix<float> Z = m.fit_transform(X);
    CHECK(Z == (sn::Matrix<float>(2, 3) << 0, 0.5f, 1, 0, 0, 0).finished());
    sn::MinMaxScaler wide(-1, 1);
    CHECK(wide.fit_transform(X).row(0) == (sn::Matrix<float>(1, 3) << -1, 0, 1).finished());
    CHECK(wide.transform(X).row(1) == (sn::Matrix<float>(1, 3) << -1, -1, -1).finished());
    CHECK_THROWS_AS(sn::MinMaxScaler(1, 1), std::invalid_argument);

    fixtures::TempDir dir("scaler");
    const auto file = [&](const std::string& bytes) {
        const std::string p = (dir / "x.scaler").string();
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    };
    const auto fails = [&](const std::string& bytes, const std::string& message) {
        CAPTURE(bytes);
        sn::MinMaxScaler s;
        CHECK_THROWS_WITH_AS(s.load(file(bytes)), doctest::Contains(message.c_str()), sn::ScalerError);
        CHECK_FALSE(s.fitted());
    };
    m.save((dir / "m.scaler").string());
    sn::Standardizer other;
    CHECK_THROWS_WITH_AS(other.load((dir / "m.scaler").string()), doctest::Contains("a scaler of another kind (this is a Standardizer)"),
                         sn::ScalerError);
    fails("", "truncated");
    fails("scratchnet model 1\n", "not a scratchnet scaler file");
    fails("scratchnet scaler 1\nMinMaxScaler 2\n1 2\n1", "truncated");
    fails("scratchnet scaler 1\nMinMaxScaler 2\n1 2\n1\n", "1 values where the file says 2 features");
    fails("scratchnet scaler 1\nMinMaxScaler 99999999999\n1 2\n1 2\n", "values where the file says 99999999999 features");
    fails("scratchnet scaler 1\nMinMaxScaler 2\n1 nan\n1 2\n", "a value that is not a finite number");
    fails("scratchnet scaler 1\nMinMaxScaler 2\n1 2\n1 0\n", "a scale that is not positive");
    fails("scratchnet scaler 1\nMinMaxScaler -1\n\n\n", "a bad feature count");
    fails("scratchnet scaler 1\nMinMaxScaler 1\n1\n1\nmore", "unexpected bytes after the values");
}

TEST_CASE("train_test_split is stratified, keeps the samples' order, and its seed decides the draw") {
    // 10 samples of class 0, 30 of class 1; a test part of ceil(0.25 * 40) = 10:
    // shares 2.5 and 7.5, floored to 2 and 7, the sample left to class 0 (tie, first).
    sn::Matrix<float> X(2, 40);
    sn::Labels y(40);
    for (int j = 0; j < 40; ++j) {
        X(0, j) = static_cast<float>(j);
        X(1, j) = static_cast<float>(-j);
        y[j] = j % 4 == 0 ? 0 : 1;
    }
    const auto [X_train, X_test, y_train, y_test] = sn::train_test_split(X, y, 0.25, 7);
    CHECK(X_test.cols() == 10);
    CHECK(X_train.cols() == 30);
    CHECK((y_test.array() == 0).count() == 3);
    CHECK((y_test.array() == 1).count() == 7);
    std::set<float> seen;
    for (const auto* part : {&X_train, &X_test})
        for (sn::Index j = 0; j < part->cols(); ++j) {
            seen.insert((*part)(0, j));
            CHECK((*part)(1, j) == -(*part)(0, j));  // whole columns move
            if (j > 0) CHECK((*part)(0, j) > (*part)(0, j - 1));  // in X's order
        }
    CHECK(seen.size() == 40);
    for (sn::Index j = 0; j < y_test.size(); ++j) CHECK(y_test[j] == (static_cast<int>(X_test(0, j)) % 4 == 0 ? 0 : 1));

    CHECK(sn::train_test_split(X, y, 0.25, 7).X_test == X_test);
    CHECK(sn::train_test_split(X, y, 0.25, 8).X_test != X_test);

    // Targets: not stratified, same counts.
    const sn::Matrix<float> Y = X.row(0);
    const auto r = sn::train_test_split(X, Y, 0.1, 3);
    CHECK(r.X_test.cols() == 4);
    CHECK(r.y_test == r.X_test.row(0));

    CHECK_THROWS_WITH_AS(sn::train_test_split(X, y, 1.0, 1), doctest::Contains("test_fraction 1.000000 is not between 0 and 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::train_test_split(X, sn::Labels(3), 0.2, 1), doctest::Contains("40 samples but 3 labels"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sn::train_test_split(X.leftCols(1).eval(), y.head(1).eval(), 0.5, 1),
                         doctest::Contains("1 samples cannot give a test part"), std::invalid_argument);
}
