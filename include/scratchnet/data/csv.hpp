#pragma once
// read_csv(): a table of numbers (and class names) from a delimited text file.
//
//   sn::CsvTable t = sn::read_csv("iris.csv");                  // delimiter detected, header line
//   sn::Matrix<float> X = t.numbers_except({"species"});        // features x samples
//   sn::CsvClasses c = t.classes("species");                    // c.labels, c.names[k] = class k's text
//   sn::Matrix<float> Y = t.numbers({"price"});                 // 1 x samples: regression targets
//
// The format is RFC 4180's, as spreadsheets write it: fields split by one
// delimiter (',' ';' tab or '|', detected from the first lines unless given),
// records ended by LF or CRLF, fields in double quotes may hold delimiters,
// line breaks and doubled quotes (""). Spaces around a field are dropped. A
// UTF-8 byte-order mark is skipped; blank lines and comment lines are skipped.
//
// Hostile files are expected, as in read_idx(): every failure is a CsvError
// naming the file, the line and, where there is one, the column. The file is
// read as it is (never sized by what it claims) up to CsvOptions::max_bytes; the
// table keeps each field's text once plus one offset, so memory stays within
// about nine times the file's size. A NUL byte means a binary file, a record
// longer than max_record_bytes is refused, and a row with another number of
// fields than the first is an error (never padded or cut).
//
// Numbers are parsed only when asked for (numbers(), classes()), so one table
// serves text labels and numeric features. Missing fields (empty, or one of
// CsvOptions::missing_values such as NA) are an error by default; NaN or
// leaving the row out are options. A field that is not a finite number is an
// error naming it: no NaN or infinity enters a matrix unless the user asks.

#include "scratchnet/core.hpp"
#include "scratchnet/detail/quote.hpp"
#include "scratchnet/path.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace scratchnet {

/// Thrown for any unreadable or malformed CSV file or field; the message names
/// the file, the line and the column.
class CsvError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What a missing field (empty, or one of CsvOptions::missing_values) becomes.
enum class CsvMissing {
    error,     ///< a CsvError naming it, when its column is read as numbers or classes
    nan,       ///< NaN in numbers() (classes() still refuses it)
    skip_row,  ///< read_csv leaves out every row with a missing field, in any column
};

struct CsvOptions {
    /// ',' ';' '\t' '|' or any other byte; '\0': detected from the first lines
    /// (the candidate found the same number of times, most often, on each).
    char delimiter = '\0';
    /// The first record names the columns; without one they are named "0", "1", ...
    bool header = true;
    /// Lines skipped before anything else (a title, a licence).
    std::size_t skip_rows = 0;
    /// Lines that start with this byte are skipped ('\0': none; '#' is common).
    char comment = '\0';
    CsvMissing missing = CsvMissing::error;
    /// Field texts that mean "missing" (compared after spaces are dropped).
    std::vector<std::string> missing_values = {"", "NA", "N/A", "NaN", "nan", "?"};
    /// Largest file read.
    std::uint64_t max_bytes = std::uint64_t{1} << 30;
    /// Longest record (a line, or the lines of a quoted field), in bytes.
    std::size_t max_record_bytes = std::size_t{1} << 20;
};

/// A column by name, or by index (0 the first; negative counts from the end, -1 the last).
class CsvColumn {
public:
    CsvColumn(std::string name) : name_(std::move(name)) {}
    CsvColumn(const char* name) : name_(name) {}
    template <std::integral I>
    CsvColumn(I index) : index_(static_cast<Index>(index)), by_index_(true) {}

    bool by_index() const { return by_index_; }
    Index index() const { return index_; }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    Index index_ = 0;
    bool by_index_ = false;
};

/// Class labels read from a column of numbers or of names: labels[j] = k where
/// names[k] is the text of sample j's class. Whole numbers sort numerically
/// (labels 0..K-1 stay themselves), any other texts sort by their bytes.
struct CsvClasses {
    Labels labels;
    std::vector<std::string> names;
};

class CsvTable;
CsvTable read_csv(const Path& path, const CsvOptions& options = {});

/// The records of a CSV file: column names and each field's text.
class CsvTable {
public:
    const std::string& path() const { return path_; }
    Index rows() const { return static_cast<Index>(lines_.size()); }
    Index cols() const { return static_cast<Index>(names_.size()); }
    const std::vector<std::string>& names() const { return names_; }
    /// The line of the file row `row` starts on (1 the first line).
    std::size_t line(Index row) const { return lines_[static_cast<std::size_t>(row)]; }
    /// Rows left out by CsvMissing::skip_row.
    std::size_t skipped_rows() const { return skipped_; }

    /// The text of a field, unquoted and without surrounding spaces.
    std::string_view field(Index row, Index col) const {
        const std::size_t k = static_cast<std::size_t>(row * cols() + col);
        const std::size_t begin = k == 0 ? 0 : ends_[k - 1];
        return std::string_view(text_).substr(begin, ends_[k] - begin);
    }

    /// The index of a column; a CsvError naming the file if there is none, or if
    /// a name is given to two columns.
    Index column(const CsvColumn& c) const {
        if (c.by_index()) {
            const Index i = c.index() < 0 ? cols() + c.index() : c.index();
            if (i < 0 || i >= cols())
                throw CsvError(path_ + ": no column " + std::to_string(c.index()) + " (the file has " +
                               std::to_string(cols()) + ")");
            return i;
        }
        Index found = -1;
        for (Index i = 0; i < cols(); ++i)
            if (names_[static_cast<std::size_t>(i)] == c.name()) {
                if (found >= 0)
                    throw CsvError(path_ + ": columns " + std::to_string(found + 1) + " and " +
                                   std::to_string(i + 1) + " are both named " + detail::quoted(c.name()) +
                                   "; pick one by index");
                found = i;
            }
        if (found < 0) throw CsvError(path_ + ": no column named " + detail::quoted(c.name()) + list_names());
        return found;
    }

    /// The given columns as numbers: one row per column, one matrix column per
    /// record (scratchnet's layout: features x samples).
    template <class T = float>
    Matrix<T> numbers(const std::vector<CsvColumn>& columns) const {
        return numbers_of<T>(indices(columns));
    }

    /// Every column but the given ones, in file order, as numbers.
    template <class T = float>
    Matrix<T> numbers_except(const std::vector<CsvColumn>& excluded) const {
        std::vector<bool> out(static_cast<std::size_t>(cols()), false);
        for (const Index i : indices(excluded)) out[static_cast<std::size_t>(i)] = true;
        std::vector<Index> kept;
        for (Index i = 0; i < cols(); ++i)
            if (!out[static_cast<std::size_t>(i)]) kept.push_back(i);
        return numbers_of<T>(kept);
    }

    /// The class of every record, from a column of whole numbers or of names.
    CsvClasses classes(const CsvColumn& which) const {
        const Index c = column(which);
        std::vector<std::string_view> texts;
        bool whole = true;
        for (Index r = 0; r < rows(); ++r) {
            const std::string_view f = field(r, c);
            if (missing(f)) fail(r, c, "a missing class label " + detail::quoted(f));
            long long v = 0;
            whole = whole && whole_number(f, v);
            texts.push_back(f);
        }
        std::vector<std::string_view> distinct = texts;
        const auto before = [whole](std::string_view a, std::string_view b) {
            if (!whole) return a < b;
            long long x = 0, y = 0;
            whole_number(a, x);
            whole_number(b, y);
            return x < y || (x == y && a < b);
        };
        std::sort(distinct.begin(), distinct.end(), before);
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        CsvClasses out;
        out.labels.resize(rows());
        for (Index r = 0; r < rows(); ++r)
            out.labels[r] = static_cast<int>(std::lower_bound(distinct.begin(), distinct.end(),
                                                              texts[static_cast<std::size_t>(r)], before) -
                                             distinct.begin());
        for (const std::string_view d : distinct) out.names.emplace_back(d);
        return out;
    }

private:
    friend CsvTable read_csv(const Path&, const CsvOptions&);

    std::vector<Index> indices(const std::vector<CsvColumn>& columns) const {
        std::vector<Index> out;
        for (const CsvColumn& c : columns) out.push_back(column(c));
        return out;
    }

    std::string list_names() const {
        std::string s = " (columns:";
        for (std::size_t i = 0; i < names_.size() && i < 20; ++i) s += (i ? ", " : " ") + detail::quoted(names_[i]);
        if (names_.size() > 20) s += ", ...";
        return s + ")";
    }

    bool missing(std::string_view f) const {
        return std::find(missing_values_.begin(), missing_values_.end(), f) != missing_values_.end();
    }

    static bool whole_number(std::string_view f, long long& v) {
        if (!f.empty() && f.front() == '+') f.remove_prefix(1);
        const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        return ec == std::errc() && end == f.data() + f.size() && !f.empty();
    }

    [[noreturn]] void fail(Index row, Index col, const std::string& what) const {
        const std::string& name = names_[static_cast<std::size_t>(col)];
        throw CsvError(path_ + ":" + std::to_string(line(row)) + ": column " + std::to_string(col + 1) +
                       (name.empty() ? std::string() : " (" + detail::quoted(name) + ")") + ": " + what);
    }

    template <class T>
    Matrix<T> numbers_of(const std::vector<Index>& columns) const {
        Matrix<T> out(static_cast<Index>(columns.size()), rows());
        for (Index r = 0; r < rows(); ++r)
            for (std::size_t k = 0; k < columns.size(); ++k)
                out(static_cast<Index>(k), r) = number<T>(r, columns[k]);
        return out;
    }

    template <class T>
    T number(Index row, Index col) const {
        std::string_view f = field(row, col);
        if (missing(f)) {
            if (policy_ == CsvMissing::nan) return std::numeric_limits<T>::quiet_NaN();
            fail(row, col, "a missing value " + detail::quoted(f) + " (CsvOptions::missing says what to do with it)");
        }
        const std::string_view text = f;
        if (f.front() == '+') f.remove_prefix(1);
        double v = 0;
        const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        if (ec == std::errc::result_out_of_range)
            fail(row, col, detail::quoted(text) + " is out of the range of a double");
        if (ec != std::errc() || end != f.data() + f.size() || f.empty())
            fail(row, col, detail::quoted(text) + " is not a number");
        if (!std::isfinite(v)) fail(row, col, detail::quoted(text) + " is not a finite number");
        if (std::abs(v) > static_cast<double>(std::numeric_limits<T>::max()))
            fail(row, col, detail::quoted(text) + " is out of the range of a float");
        return static_cast<T>(v);
    }

    std::string path_;
    std::vector<std::string> names_;
    std::string text_;                // every field's text, one after another
    std::vector<std::size_t> ends_;   // where each field's text ends, row by row
    std::vector<std::size_t> lines_;  // the line each row starts on
    std::vector<std::string> missing_values_;
    CsvMissing policy_ = CsvMissing::error;
    std::size_t skipped_ = 0;
};

namespace detail {

/// The bytes of a file, as many as it holds, up to `max_bytes`.
inline std::string read_text_file(const Path& path, std::uint64_t max_bytes) {
    const std::string who = path.string() + ": ";
    const FileStatus status = file_status(path);
    if (status.kind == FileKind::missing) throw CsvError(who + "no such file");
    if (status.kind == FileKind::directory) throw CsvError(who + "is a directory, not a CSV file");
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) throw CsvError(who + "cannot open the file");
    std::string out;
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
        if (out.size() + n > max_bytes) {
            std::fclose(file);
            throw CsvError(who + "larger than CsvOptions::max_bytes (" + std::to_string(max_bytes) + " bytes)");
        }
        out.append(buffer, n);
    }
    const bool error = std::ferror(file) != 0;
    std::fclose(file);
    if (error) throw CsvError(who + "read error");
    return out;
}

/// Reads records off a CSV text, tracking the line each starts on.
class CsvReader {
public:
    CsvReader(const std::string& path, std::string_view text, const CsvOptions& o)
        : path_(path), s_(text), o_(o) {}

    /// Skips lines up to the next record (blank and comment lines); false at the end.
    bool next_record() {
        while (pos_ < s_.size()) {
            std::size_t p = pos_;
            while (p < s_.size() && (s_[p] == ' ' || (s_[p] == '\t' && delimiter_ != '\t'))) ++p;
            const bool blank = p == s_.size() || s_[p] == '\n' || s_[p] == '\r';
            if (!blank && !(o_.comment != '\0' && s_[pos_] == o_.comment)) return true;
            skip_line();
        }
        return false;
    }

    /// Skips to the start of the next line.
    void skip_line() {
        while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
        end_line();
    }

    std::size_t line() const { return line_; }
    bool at_end() const { return pos_ >= s_.size(); }
    char delimiter() const { return delimiter_; }
    void set_delimiter(char d) { delimiter_ = d; }
    std::size_t position() const { return pos_; }
    void rewind(std::size_t pos, std::size_t line) {
        pos_ = pos;
        line_ = line;
    }

    /// Reads one record's fields, appending their texts to `text` and their ends to `ends`.
    void read_record(std::string& text, std::vector<std::size_t>& ends) {
        const std::size_t start = pos_, first_line = line_;
        for (;;) {
            if (pos_ - start > o_.max_record_bytes)
                fail(first_line, "a record longer than CsvOptions::max_record_bytes (" +
                                     std::to_string(o_.max_record_bytes) + " bytes)");
            skip_spaces();
            if (pos_ < s_.size() && s_[pos_] == '"') {
                quoted_field(text, start, first_line);
            } else {
                std::size_t end = pos_;
                while (end < s_.size() && s_[end] != delimiter_ && s_[end] != '\n' && s_[end] != '\r') ++end;
                if (end - start > o_.max_record_bytes)
                    fail(first_line, "a record longer than CsvOptions::max_record_bytes (" +
                                         std::to_string(o_.max_record_bytes) + " bytes)");
                std::size_t last = end;
                while (last > pos_ && (s_[last - 1] == ' ' || (s_[last - 1] == '\t' && delimiter_ != '\t'))) --last;
                text.append(s_.substr(pos_, last - pos_));
                pos_ = end;
            }
            ends.push_back(text.size());
            if (pos_ < s_.size() && s_[pos_] == delimiter_) {
                ++pos_;
                continue;
            }
            end_line();
            return;
        }
    }

    /// Moves past the next record without reading it: to the first line break
    /// outside quotes (a malformed record is reported when it is read for real).
    void skip_record() {
        bool quoted = false;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c == '"') quoted = !quoted;
            else if (!quoted && (c == '\n' || c == '\r')) break;
            else if (c == '\n' || (c == '\r' && (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '\n'))) ++line_;
            ++pos_;
        }
        end_line();
    }

    /// How often each candidate occurs outside quotes on the next record's line(s).
    std::size_t count_outside_quotes(char d) const {
        std::size_t count = 0;
        bool quoted = false;
        for (std::size_t p = pos_; p < s_.size() && p - pos_ <= o_.max_record_bytes; ++p) {
            const char c = s_[p];
            if (c == '"') quoted = !quoted;
            else if (!quoted && (c == '\n' || c == '\r')) break;
            else if (!quoted && c == d) ++count;
        }
        return count;
    }

    [[noreturn]] void fail(std::size_t at_line, const std::string& what) const {
        throw CsvError(path_ + ":" + std::to_string(at_line) + ": " + what);
    }

private:
    void skip_spaces() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || (s_[pos_] == '\t' && delimiter_ != '\t'))) ++pos_;
    }

    void end_line() {
        if (pos_ < s_.size() && s_[pos_] == '\r') ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '\n') ++pos_;
        ++line_;
    }

    void quoted_field(std::string& text, std::size_t start, std::size_t first_line) {
        const std::size_t opened = line_;
        ++pos_;
        for (;;) {
            if (pos_ - start > o_.max_record_bytes)
                fail(first_line, "a record longer than CsvOptions::max_record_bytes (" +
                                     std::to_string(o_.max_record_bytes) + " bytes)");
            if (pos_ >= s_.size()) fail(opened, "a quoted field opened on this line is never closed");
            const char c = s_[pos_++];
            if (c == '"') {
                if (pos_ < s_.size() && s_[pos_] == '"') {
                    text += '"';
                    ++pos_;
                    continue;
                }
                break;
            }
            if (c == '\n' || (c == '\r' && (pos_ >= s_.size() || s_[pos_] != '\n'))) ++line_;
            text += c;
        }
        skip_spaces();
        if (pos_ < s_.size() && s_[pos_] != delimiter_ && s_[pos_] != '\n' && s_[pos_] != '\r')
            fail(line_, "text after the closing quote of a quoted field: " + quoted(s_.substr(pos_, 20)));
    }

    std::string path_;
    std::string_view s_;
    const CsvOptions& o_;
    std::size_t pos_ = 0, line_ = 1;
    char delimiter_ = ',';
};

/// The delimiter of the records ahead: of ',' ';' tab '|', the one found on each
/// of the first lines the same number of times, the most often; else the one
/// most often on the first line; else ',' (one column).
inline char detect_delimiter(CsvReader& reader) {
    const std::size_t pos = reader.position(), line = reader.line();
    constexpr char kCandidates[] = {',', ';', '\t', '|'};
    std::size_t first[4] = {}, agree[4] = {1, 1, 1, 1};
    for (int n = 0; n < 20 && reader.next_record(); ++n) {
        for (int k = 0; k < 4; ++k) {
            const std::size_t c = reader.count_outside_quotes(kCandidates[k]);
            if (n == 0) first[k] = c;
            else if (c != first[k]) agree[k] = 0;
        }
        reader.skip_record();
    }
    reader.rewind(pos, line);
    int best = -1;
    for (int k = 0; k < 4; ++k)
        if (agree[k] && first[k] > 0 && (best < 0 || first[k] > first[best])) best = k;
    if (best < 0)
        for (int k = 0; k < 4; ++k)
            if (first[k] > 0 && (best < 0 || first[k] > first[best])) best = k;
    return best < 0 ? ',' : kCandidates[best];
}

}  // namespace detail

/// Reads a CSV file (see the top of this file); throws CsvError naming the file,
/// line and column of anything wrong.
inline CsvTable read_csv(const Path& path, const CsvOptions& options) {
    CsvTable t;
    t.path_ = path.string();
    t.missing_values_ = options.missing_values;
    t.policy_ = options.missing;
    const std::string content = detail::read_text_file(path, options.max_bytes);
    std::string_view text = content;
    if (text.empty()) throw CsvError(t.path_ + ": an empty file");
    if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
        const auto at = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
        const auto line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
        throw CsvError(t.path_ + ":" + std::to_string(line) + ": a NUL byte: a binary file, not CSV text");
    }
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

    detail::CsvReader reader(t.path_, text, options);
    for (std::size_t i = 0; i < options.skip_rows; ++i) {
        if (reader.at_end())
            throw CsvError(t.path_ + ": the file has " + std::to_string(i) + " lines, fewer than skip_rows (" +
                           std::to_string(options.skip_rows) + ")");
        reader.skip_line();
    }
    reader.set_delimiter(options.delimiter != '\0' ? options.delimiter : detail::detect_delimiter(reader));
    if (!reader.next_record()) throw CsvError(t.path_ + ": no records (only blank or skipped lines)");

    std::size_t fields = 0;
    const std::size_t first_line = reader.line();
    if (options.header) {
        std::string names;
        std::vector<std::size_t> ends;
        reader.read_record(names, ends);
        std::size_t begin = 0;
        for (const std::size_t end : ends) {
            t.names_.push_back(names.substr(begin, end - begin));
            begin = end;
        }
        fields = ends.size();
    }
    while (reader.next_record()) {
        const std::size_t line = reader.line(), text_size = t.text_.size(), count = t.ends_.size();
        reader.read_record(t.text_, t.ends_);
        const std::size_t got = t.ends_.size() - count;
        if (fields == 0) fields = got;
        if (got != fields)
            reader.fail(line, std::to_string(got) + " fields, but the " +
                                  (options.header ? "header has " : "first row has ") + std::to_string(fields) +
                                  (options.header ? " names" : ""));
        bool drop = false;
        if (options.missing == CsvMissing::skip_row)
            for (std::size_t k = count; k < t.ends_.size() && !drop; ++k) {
                const std::size_t begin = k == 0 ? 0 : t.ends_[k - 1];
                drop = t.missing(std::string_view(t.text_).substr(begin, t.ends_[k] - begin));
            }
        if (drop) {
            t.text_.resize(text_size);
            t.ends_.resize(count);
            ++t.skipped_;
            continue;
        }
        t.lines_.push_back(line);
    }
    if (t.lines_.empty())
        throw CsvError(t.path_ + ":" + std::to_string(first_line) + ": " +
                       (t.skipped_ > 0 ? "every row has a missing field (CsvMissing::skip_row left out all " +
                                             std::to_string(t.skipped_) + ")"
                                       : std::string("a header and no rows of data")));
    if (!options.header)
        for (std::size_t i = 0; i < fields; ++i) t.names_.push_back(std::to_string(i));
    return t;
}

}  // namespace scratchnet
