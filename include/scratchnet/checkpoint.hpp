#pragma once
// Checkpoints: save_checkpoint() and load_checkpoint() of what training needs to
// go on exactly where it stopped: the network (a model file inside), the
// optimizer's state (CheckpointableOptimizer) and learning rate, and the History
// of the epochs so far with its ResumeState. fit() with FitOptions::initial_epoch
// and resume then continues bit for bit as one fit() of all the epochs.
//
// Format, version 1; every integer little-endian:
//    8  magic          89 53 4E 43 0D 0A 1A 0A   ("\x89SNC\r\n\x1a\n")
//    4  version        1
//    8  model length   M, then M bytes: the model file save() writes
//    4  name length    N <= 256, then N bytes: the optimizer's checkpoint name
//    1  has rate       0 or 1, then 8: the learning rate as a double
//    4  field count    F <= 4096, then per field:
//                        4 + L  its name (L <= 256)
//                        1      kind: 0 float vector, 1 double vector, 2 integer, 3 real
//                        8      element count (vectors), then the elements (4 or 8
//                               bytes each); or the value (int64 or double)
//    4  record count   R, then per EpochRecord: epoch (int32), a flags byte (which
//                      optionals are set), then loss, accuracy, validation loss,
//                      validation accuracy, seconds, learning rate (8 bytes each)
//   13  History        best_epoch, stopped_epoch (int32), restored_best (byte),
//                      averaged_epochs (int32)
//       ResumeState    five vectors of doubles (8-byte count, then the values):
//                      training parameters, training state, average, best
//                      parameters, best state; then averaged_epochs (int32),
//                      best_value, plateau factor and best (double), plateau wait
//                      and cooldown (int32), plateau_seen (byte)
//    4  CRC-32         of every byte before it; nothing may follow
// load_checkpoint() reads and checks all of it (every count against the bytes
// left, every number finite, each field's name and kind against the optimizer's
// own) before it touches the network or the optimizer. One concept, the
// checkpoint file; its length is the writer, the bounds-checked reader and the
// field-by-field checks against the optimizer, each of which a hostile file needs.

#include "scratchnet/core.hpp"
#include "scratchnet/optimizers/optimizer.hpp"
#include "scratchnet/path.hpp"
#include "scratchnet/serialize.hpp"
#include "scratchnet/training/history.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <istream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace scratchnet {

namespace detail {

inline constexpr std::array<unsigned char, 8> checkpoint_magic{0x89, 'S', 'N', 'C', 0x0D, 0x0A, 0x1A, 0x0A};
inline constexpr std::uint32_t checkpoint_version = 1;
inline constexpr std::uint32_t max_checkpoint_name = 256;
inline constexpr std::uint32_t max_checkpoint_fields = 4096;

enum class StateKind : unsigned char { float_vector = 0, double_vector = 1, integer = 2, real = 3 };

template <class F>
constexpr StateKind state_kind_of() {
    using V = std::remove_cvref_t<F>;
    if constexpr (std::is_same_v<V, Vector<float>>) return StateKind::float_vector;
    else if constexpr (std::is_same_v<V, Vector<double>>) return StateKind::double_vector;
    else if constexpr (std::is_integral_v<V>) return StateKind::integer;
    else {
        static_assert(std::is_floating_point_v<V>,
                      "scratchnet checkpoint: an optimizer's state field must be a Vector<float>, a Vector<double> or "
                      "an arithmetic value (see CheckpointableOptimizer)");
        return StateKind::real;
    }
}

inline const char* state_kind_name(StateKind k) {
    switch (k) {
        case StateKind::float_vector: return "float vector";
        case StateKind::double_vector: return "double vector";
        case StateKind::integer: return "integer";
        case StateKind::real: return "real number";
    }
    return "unknown kind";
}

inline void put_string(std::vector<unsigned char>& out, std::string_view s) {
    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

inline void put_doubles(std::vector<unsigned char>& out, const Vector<double>& v) {
    put_le<std::uint64_t>(out, static_cast<std::uint64_t>(v.size()));
    for (Index k = 0; k < v.size(); ++k) put_le<double>(out, v[k]);
}

/// Bounds-checked reading of a checkpoint held in memory: every read that would
/// pass the end throws ModelError naming what it was reading.
class CheckpointReader {
public:
    CheckpointReader(const unsigned char* data, std::size_t size, std::string who)
        : p_(data), left_(size), who_(std::move(who)) {}

    const std::string& who() const { return who_; }
    std::size_t left() const { return left_; }

    const unsigned char* take(std::size_t n, const char* what) {
        if (n > left_)
            throw ModelError(who_ + "the file ends inside the " + what + " (" + std::to_string(left_) + " of " +
                             std::to_string(n) + " bytes)");
        const unsigned char* p = p_;
        p_ += n;
        left_ -= n;
        return p;
    }
    template <class U>
    U get(const char* what) {
        return get_le<U>(take(sizeof(U), what));
    }
    double finite(const char* what) {
        const double v = get<double>(what);
        if (!std::isfinite(v)) throw ModelError(who_ + "the " + what + " is NaN or infinite");
        return v;
    }
    /// A count of items of `item_bytes` each, refused where the bytes left cannot hold them.
    std::size_t count(std::size_t item_bytes, const char* what) {
        const auto n = get<std::uint64_t>(what);
        if (n > left_ / item_bytes)
            throw ModelError(who_ + "the " + what + " declares " + std::to_string(n) + " items, more than the " +
                             std::to_string(left_) + " bytes left can hold");
        return static_cast<std::size_t>(n);
    }
    std::string text(std::uint32_t limit, const char* what) {
        const auto n = get<std::uint32_t>(what);
        if (n > limit)
            throw ModelError(who_ + "the " + what + " is " + std::to_string(n) + " bytes long, more than " +
                             std::to_string(limit));
        const unsigned char* p = take(n, what);
        return {reinterpret_cast<const char*>(p), n};
    }
    Vector<double> doubles(const char* what) {
        const std::size_t n = count(8, what);
        Vector<double> v(static_cast<Index>(n));
        for (std::size_t k = 0; k < n; ++k) {
            v[static_cast<Index>(k)] = get<double>(what);
            if (!std::isfinite(v[static_cast<Index>(k)]))
                throw ModelError(who_ + "value " + std::to_string(k) + " of the " + what + " is NaN or infinite");
        }
        return v;
    }

private:
    const unsigned char* p_;
    std::size_t left_;
    std::string who_;
};

/// One optimizer state field as the file holds it.
struct StateField {
    std::string name;
    StateKind kind = StateKind::real;
    Vector<float> floats;
    Vector<double> doubles;
    std::int64_t integer = 0;
    double real = 0.0;
};

/// Reads a model file from memory (load_from's source).
class MemorySource {
public:
    MemorySource(const unsigned char* data, std::size_t size) : p_(data), left_(size) {}
    std::size_t read(unsigned char* p, std::size_t n) {
        const std::size_t got = std::min(n, left_);
        std::copy(p_, p_ + got, p);
        p_ += got;
        left_ -= got;
        return got;
    }
    bool at_end() const { return left_ == 0; }
    bool failed() const { return false; }

private:
    const unsigned char* p_;
    std::size_t left_;
};


template <class Net, class Opt>
std::vector<unsigned char> checkpoint_bytes(const Net& net, const Opt& optimizer, const History& history) {
    std::vector<unsigned char> out(checkpoint_magic.begin(), checkpoint_magic.end());
    put_le<std::uint32_t>(out, checkpoint_version);
    const std::vector<unsigned char> model = model_bytes(net);
    put_le<std::uint64_t>(out, static_cast<std::uint64_t>(model.size()));
    out.insert(out.end(), model.begin(), model.end());

    put_string(out, checkpoint_name_of(optimizer));
    if constexpr (HasLearningRate<Opt>) {
        out.push_back(1);
        put_le<double>(out, static_cast<double>(optimizer.learning_rate()));
    } else {
        out.push_back(0);
    }
    std::vector<unsigned char> fields;
    std::uint32_t field_count = 0;
    optimizer.for_each_state([&](const char* name, const auto& field) {
        using F = std::remove_cvref_t<decltype(field)>;
        constexpr StateKind kind = state_kind_of<F>();
        ++field_count;
        put_string(fields, name);
        fields.push_back(static_cast<unsigned char>(kind));
        if constexpr (kind == StateKind::float_vector || kind == StateKind::double_vector) {
            put_le<std::uint64_t>(fields, static_cast<std::uint64_t>(field.size()));
            for (Index k = 0; k < field.size(); ++k) put_le<typename F::Scalar>(fields, field[k]);
        } else if constexpr (kind == StateKind::integer) {
            put_le<std::int64_t>(fields, static_cast<std::int64_t>(field));
        } else {
            put_le<double>(fields, static_cast<double>(field));
        }
    });
    put_le<std::uint32_t>(out, field_count);
    out.insert(out.end(), fields.begin(), fields.end());

    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(history.size()));
    for (const EpochRecord& r : history) {
        put_le<std::int32_t>(out, r.epoch);
        out.push_back(static_cast<unsigned char>((r.validation_loss ? 1 : 0) | (r.validation_accuracy ? 2 : 0) |
                                                 (r.learning_rate ? 4 : 0)));
        for (const double v : {r.loss, r.accuracy, r.validation_loss.value_or(0.0),
                               r.validation_accuracy.value_or(0.0), r.seconds, r.learning_rate.value_or(0.0)})
            put_le<double>(out, v);
    }
    put_le<std::int32_t>(out, history.best_epoch);
    put_le<std::int32_t>(out, history.stopped_epoch);
    out.push_back(history.restored_best ? 1 : 0);
    put_le<std::int32_t>(out, history.averaged_epochs);
    const ResumeState& s = history.resume_state;
    for (const Vector<double>* v : {&s.training_parameters, &s.training_state, &s.average, &s.best_parameters,
                                    &s.best_state})
        put_doubles(out, *v);
    put_le<std::int32_t>(out, s.averaged_epochs);
    put_le<double>(out, s.best_value);
    put_le<double>(out, s.plateau_factor);
    put_le<double>(out, s.plateau_best);
    put_le<std::int32_t>(out, s.plateau_wait);
    put_le<std::int32_t>(out, s.plateau_cooldown);
    out.push_back(s.plateau_seen ? 1 : 0);
    put_le<std::uint32_t>(out, crc32_of(out.data(), out.size()));
    return out;
}

inline bool read_flag(CheckpointReader& in, const char* what) {
    const auto b = in.get<unsigned char>(what);
    if (b > 1) throw ModelError(in.who() + "the " + what + " byte is " + std::to_string(b) + ", not 0 or 1");
    return b == 1;
}

inline std::vector<StateField> read_state_fields(CheckpointReader& in) {
    const auto n = in.get<std::uint32_t>("optimizer's field count");
    if (n > max_checkpoint_fields)
        throw ModelError(in.who() + "the optimizer's state declares " + std::to_string(n) + " fields, more than " +
                         std::to_string(max_checkpoint_fields));
    std::vector<StateField> fields;
    for (std::uint32_t i = 0; i < n; ++i) {
        StateField f;
        f.name = in.text(max_checkpoint_name, "optimizer's field name");
        const auto kind = in.get<unsigned char>("optimizer's field kind");
        if (kind > 3)
            throw ModelError(in.who() + "optimizer field " + detail::quoted(f.name) + " has unknown kind " +
                             std::to_string(kind));
        f.kind = static_cast<StateKind>(kind);
        const std::string what = "optimizer field " + detail::quoted(f.name);
        const auto nonfinite = [&](std::size_t k) {
            throw ModelError(in.who() + "value " + std::to_string(k) + " of " + what + " is NaN or infinite");
        };
        const auto read_vector = [&]<class U>(Vector<U>& v) {
            const std::size_t size = in.count(sizeof(U), "optimizer field's length");
            v.resize(static_cast<Index>(size));
            for (std::size_t k = 0; k < size; ++k)
                if (!std::isfinite(v[static_cast<Index>(k)] = in.get<U>("optimizer field"))) nonfinite(k);
        };
        if (f.kind == StateKind::float_vector) {
            read_vector(f.floats);
        } else if (f.kind == StateKind::double_vector) {
            read_vector(f.doubles);
        } else if (f.kind == StateKind::integer) {
            f.integer = in.get<std::int64_t>("optimizer field");
        } else if (!std::isfinite(f.real = in.get<double>("optimizer field"))) {
            nonfinite(0);
        }
        fields.push_back(std::move(f));
    }
    return fields;
}

inline History read_history(CheckpointReader& in) {
    History h;
    const auto records = in.get<std::uint32_t>("record count");
    if (records > in.left() / 53)  // 4 + 1 + 6 x 8 bytes each
        throw ModelError(in.who() + "the History declares " + std::to_string(records) +
                         " epochs, more than the bytes left can hold");
    for (std::uint32_t i = 0; i < records; ++i) {
        EpochRecord r;
        r.epoch = in.get<std::int32_t>("epoch record");
        if (r.epoch != static_cast<int>(i) + 1)
            throw ModelError(in.who() + "epoch record " + std::to_string(i + 1) + " is numbered " +
                             std::to_string(r.epoch));
        const auto flags = in.get<unsigned char>("epoch record");
        if (flags > 7) throw ModelError(in.who() + "epoch record " + std::to_string(i + 1) + " has invalid flags");
        r.loss = in.get<double>("epoch record");
        r.accuracy = in.get<double>("epoch record");  // NaN for a regression network
        const double validation_loss = in.get<double>("epoch record");
        const double validation_accuracy = in.get<double>("epoch record");
        r.seconds = in.get<double>("epoch record");
        const double rate = in.get<double>("epoch record");
        if ((flags & 1) != 0) r.validation_loss = validation_loss;
        if ((flags & 2) != 0) r.validation_accuracy = validation_accuracy;
        if ((flags & 4) != 0) r.learning_rate = rate;
        h.push_back(r);
    }
    const auto epochs = static_cast<int>(records);
    const auto epoch_number = [&](const char* what) {
        const auto e = in.get<std::int32_t>(what);
        if (e < 0 || e > epochs)
            throw ModelError(in.who() + "the History's " + what + " " + std::to_string(e) + " is not one of its " +
                             std::to_string(epochs) + " epochs");
        return static_cast<int>(e);
    };
    h.best_epoch = epoch_number("best epoch");
    h.stopped_epoch = epoch_number("stopped epoch");
    h.restored_best = read_flag(in, "restored-best flag");
    h.averaged_epochs = epoch_number("averaged epoch count");
    ResumeState& s = h.resume_state;
    s.training_parameters = in.doubles("training parameters");
    s.training_state = in.doubles("training state");
    s.average = in.doubles("weight average");
    s.best_parameters = in.doubles("best epoch's parameters");
    s.best_state = in.doubles("best epoch's state");
    s.averaged_epochs = epoch_number("averaged epoch count");
    s.best_value = in.get<double>("best value");  // may be NaN where early stopping was off
    s.plateau_factor = in.finite("plateau factor");
    s.plateau_best = in.get<double>("plateau best");
    s.plateau_wait = epoch_number("plateau wait");
    s.plateau_cooldown = in.get<std::int32_t>("plateau cooldown");
    if (s.plateau_cooldown < 0) throw ModelError(in.who() + "the plateau cooldown is negative");
    s.plateau_seen = read_flag(in, "plateau-seen flag");
    return h;
}

/// Whether a stored field can go into an optimizer field of type F (kind and range).
template <class F>
std::string state_mismatch(const StateField& stored, const char* name) {
    using V = std::remove_cvref_t<F>;
    constexpr StateKind kind = state_kind_of<V>();
    if (stored.name != name)
        return "holds field " + detail::quoted(stored.name) + " where the optimizer has " + detail::quoted(name);
    if (stored.kind != kind)
        return "holds field " + detail::quoted(stored.name) + " as a " + state_kind_name(stored.kind) +
               ", the optimizer's is a " + state_kind_name(kind);
    if constexpr (std::is_same_v<V, bool>) {
        if (stored.integer != 0 && stored.integer != 1)
            return "holds field " + detail::quoted(stored.name) + " = " + std::to_string(stored.integer) +
                   ", not a flag";
    } else if constexpr (kind == StateKind::integer) {
        if (!std::in_range<V>(stored.integer))
            return "holds field " + detail::quoted(stored.name) + " = " + std::to_string(stored.integer) +
                   ", out of the optimizer's range";
    } else if constexpr (kind == StateKind::real) {
        if (std::abs(stored.real) > static_cast<double>(std::numeric_limits<V>::max()))
            return "holds field " + detail::quoted(stored.name) + " out of the optimizer's range";
    }
    return {};
}

template <class Opt>
constexpr void require_checkpointable() {
    static_assert(CheckpointableOptimizer<Opt>,
                  "scratchnet checkpoints: the optimizer does not say what its state is: give it a checkpoint_name "
                  "and for_each_state(visit) (CheckpointableOptimizer, optimizers/optimizer.hpp)");
}

/// Every byte a source holds: as many as it really has, whatever a header says.
template <class Source>
std::vector<unsigned char> read_all(Source& in, const std::string& who) {
    std::vector<unsigned char> bytes, chunk(std::size_t{1} << 16);
    for (std::size_t got; (got = in.read(chunk.data(), chunk.size())) > 0;)
        bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
    if (in.failed()) throw ModelError(who + "reading failed");
    return bytes;
}

template <class Net, class Opt>
History load_checkpoint_bytes(Net& net, Opt& optimizer, const std::vector<unsigned char>& bytes,
                              const std::string& name) {
    const std::string who = "scratchnet::load_checkpoint: " + name + ": ";
    if (bytes.empty()) throw ModelError(who + "the file is empty");
    const std::size_t head = std::min<std::size_t>(bytes.size(), 8);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head), checkpoint_magic.begin())) {
        const bool model = std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head),
                                      model_magic.begin());
        throw ModelError(who + (model ? "a model file (save()), not a checkpoint: it holds no optimizer state; "
                                        "read it with load()"
                                      : "not a scratchnet checkpoint (wrong magic number)"));
    }
    if (bytes.size() < 8)
        throw ModelError(who + "the file ends inside the magic number (" + std::to_string(bytes.size()) +
                         " of 8 bytes)");
    if (bytes.size() < 16) throw ModelError(who + "the file ends inside the header");
    const auto version = get_le<std::uint32_t>(bytes.data() + 8);
    if (version != checkpoint_version)
        throw ModelError(who + "checkpoint format version " + std::to_string(version) +
                         " is not supported (this is version " + std::to_string(checkpoint_version) + ")");
    const std::size_t body = bytes.size() - 4;
    if (get_le<std::uint32_t>(bytes.data() + body) != crc32_of(bytes.data(), body))
        throw ModelError(who + "checksum mismatch: the file is corrupt or cut short");

    CheckpointReader in(bytes.data() + 12, body - 12, who);
    const std::size_t model_size = in.count(1, "model length");
    const unsigned char* model = in.take(model_size, "model");
    const std::string optimizer_name = in.text(max_checkpoint_name, "optimizer name");
    const std::string mine(checkpoint_name_of(optimizer));
    if (optimizer_name != mine)
        throw ModelError(who + "the checkpoint holds the state of optimizer " + detail::quoted(optimizer_name) +
                         ", not of " + mine);
    const bool has_rate = read_flag(in, "learning-rate flag");
    double rate = 0.0;
    if (has_rate) {
        rate = in.finite("learning rate");
        if (rate < 0) throw ModelError(who + "the learning rate is negative");
    }
    const std::vector<StateField> fields = read_state_fields(in);
    History history = read_history(in);
    if (in.left() != 0) throw ModelError(who + "unexpected bytes after the History");

    // The optimizer's fields against the file's, before anything changes.
    std::size_t i = 0;
    optimizer.for_each_state([&](const char* field_name, auto& field) {
        if (i >= fields.size())
            throw ModelError(who + "the checkpoint holds " + std::to_string(fields.size()) +
                             " optimizer fields, this " + mine + " has more");
        const std::string why = state_mismatch<decltype(field)>(fields[i], field_name);
        if (!why.empty()) throw ModelError(who + "the checkpoint " + why);
        ++i;
    });
    if (i != fields.size())
        throw ModelError(who + "the checkpoint holds " + std::to_string(fields.size()) + " optimizer fields, this " +
                         mine + " has " + std::to_string(i));
    if constexpr (!HasLearningRate<Opt>) {
        if (has_rate) throw ModelError(who + "the checkpoint holds a learning rate, this optimizer has none");
    }

    // The network last of the checks: load_from checks everything before it writes.
    MemorySource source(model, model_size);
    load_from(net, source, name + " (its model)");

    // Nothing below can fail for a reason of the file's.
    if constexpr (requires { optimizer.reset(); }) optimizer.reset();
    i = 0;
    optimizer.for_each_state([&](const char*, auto& field) {
        using F = std::remove_cvref_t<decltype(field)>;
        const StateField& f = fields[i++];
        if constexpr (std::is_same_v<F, Vector<float>>) field = f.floats;
        else if constexpr (std::is_same_v<F, Vector<double>>) field = f.doubles;
        else if constexpr (std::is_integral_v<F>) field = static_cast<F>(f.integer);
        else field = static_cast<F>(f.real);
    });
    if constexpr (HasLearningRate<Opt>) {
        if (has_rate) optimizer.set_learning_rate(static_cast<float>(rate));
    }
    return history;
}

}  // namespace detail

/// Writes a checkpoint: net (as save() does), the optimizer's state and learning
/// rate, and `history` (what fit() returned: its records and resume_state), so
/// that fit() can go on with FitOptions::initial_epoch and resume exactly where
/// it stopped. Without a History, the checkpoint holds the network and the
/// optimizer only (enough unless weight averaging, early stopping or
/// reduce_on_plateau are on). The file is written beside its name and renamed
/// into place, so a checkpoint interrupted halfway never replaces a whole one.
/// Throws ModelError naming the file if it cannot be written.
template <class Net, class Opt>
void save_checkpoint(const Net& net, const Opt& optimizer, const Path& path, const History& history = {}) {
    detail::require_checkpointable<Opt>();
    const std::vector<unsigned char> bytes = detail::checkpoint_bytes(net, optimizer, history);
    const std::string partial = path.string() + ".partial";
    {
        detail::CFile file(partial, "wb");
        if (file.get() == nullptr)
            throw ModelError("scratchnet::save_checkpoint: " + partial + ": cannot open for writing: " +
                             detail::system_reason());
        const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
        if (!file.close() || !written) {
            const std::string reason = detail::system_reason();
            std::remove(partial.c_str());
            throw ModelError("scratchnet::save_checkpoint: " + partial + ": writing failed: " + reason);
        }
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        const std::string reason = detail::system_reason();
        std::remove(partial.c_str());
        throw ModelError("scratchnet::save_checkpoint: " + path.string() + ": cannot replace it: " + reason);
    }
}

/// Reads a checkpoint written by save_checkpoint() into net and optimizer (an
/// optimizer of the same kind: its options are the caller's, its state and rate
/// come from the file) and returns the History it holds, for FitOptions::resume
/// (initial_epoch = its size()). Checks all of it first: magic, version,
/// checksum, the network's architecture and scalar type, the optimizer's kind and
/// fields, every count and number; on any error throws ModelError saying what is
/// wrong, and net and optimizer are unchanged.
template <class Net, class Opt>
History load_checkpoint(Net& net, Opt& optimizer, std::istream& in, const std::string& name = "<stream>") {
    detail::require_checkpointable<Opt>();
    detail::StreamSource source(in);
    const std::vector<unsigned char> bytes = detail::read_all(source, "scratchnet::load_checkpoint: " + name + ": ");
    return detail::load_checkpoint_bytes(net, optimizer, bytes, name);
}

/// Reads a checkpoint file (see the stream overload). Memory is bounded by the
/// file's real size, never by what its header declares.
template <class Net, class Opt>
History load_checkpoint(Net& net, Opt& optimizer, const Path& path) {
    detail::require_checkpointable<Opt>();
    const std::string who = "scratchnet::load_checkpoint: " + path.string() + ": ";
    const detail::FileStatus status = detail::file_status(path);
    if (status.kind == detail::FileKind::missing) throw ModelError(who + "no such file");
    if (status.kind == detail::FileKind::directory) throw ModelError(who + "is a directory, not a file");
    detail::CFile file(path, "rb");
    if (file.get() == nullptr) throw ModelError(who + "cannot open the file: " + detail::system_reason());
    detail::FileSource source(file.get());
    const std::vector<unsigned char> bytes = detail::read_all(source, who);
    return detail::load_checkpoint_bytes(net, optimizer, bytes, path.string());
}

}  // namespace scratchnet
