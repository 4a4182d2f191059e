#pragma once
// Weights from PyTorch and back: safetensors files mapped onto the typed network.
//
//   load_safetensors(net, path)            tensors matched to the network's layers
//   load_safetensors(net, path, names)     the same, one module name per layer
//   save_safetensors(net, path[, names])   names and layouts load_state_dict takes
//
// The format and its checks against the file: weights/safetensors_file.hpp; the
// JSON header: weights/safetensors_header.hpp. The file's order of tensors means
// nothing, so matching goes by name.
//
// Matching. The network's tensors (Net::tensors(), tensors.hpp) are grouped into
// modules: one per layer with parameters, or per inner layer of a Residual block.
// Without names, the file's modules (a tensor's name up to its last dot: "3" of
// "3.weight", "4.main.0" of "4.main.0.weight") are put in numeric-aware order
// ("2" before "10") and matched to the network's modules in order, so the indices
// PyTorch gives modules without parameters (ReLU, pooling, Flatten, Dropout) do
// not matter. With names, module k of the network is names[k] and each tensor is
// looked up by its full name. Within a module the tensors go by their attribute
// names (weight, bias, running_mean, running_var; num_batches_tracked may be
// absent); each shape is checked against the layer's.
//
// Reading checks the whole file before the first value is copied (sizes against
// the real file, offsets that overlap, leave gaps or run past the end, dtypes,
// shapes, names missing or extra, values that are not finite) and throws
// SafetensorsError naming the file and what is wrong; the network is unchanged
// after any failure. F32, F64, F16 and BF16 are read, converted to the network's
// scalar; I64 only where PyTorch keeps a counter (num_batches_tracked), which is
// read and ignored. Writing uses the network's scalar (F32 or F64) and writes the
// counter as 0.

#include "scratchnet/core.hpp"
#include "scratchnet/path.hpp"
#include "scratchnet/serialize.hpp"
#include "scratchnet/tensors.hpp"
#include "scratchnet/weights/safetensors_file.hpp"
#include "scratchnet/weights/safetensors_header.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scratchnet {

namespace detail {

/// "4.main.0" of "4.main.0.weight"; "" for a name without a dot.
inline std::string module_of(const std::string& name) {
    const auto dot = name.rfind('.');
    return dot == std::string::npos ? std::string() : name.substr(0, dot);
}
inline std::string attribute_of(const std::string& name) {
    const auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

/// Numeric-aware order of dotted module paths: segment by segment, numbers by
/// value (before words), words by bytes, a path before its extensions.
inline bool module_before(std::string_view a, std::string_view b) {
    const auto digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const auto strip = [](std::string_view s) {
        while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
        return s;
    };
    for (;;) {
        if (a.empty() || b.empty()) return a.empty() && !b.empty();
        const auto da = a.find('.'), db = b.find('.');
        const std::string_view sa = a.substr(0, da), sb = b.substr(0, db);
        if (sa != sb) {
            const bool na = digits(sa), nb = digits(sb);
            if (na && nb) {
                const std::string_view ta = strip(sa), tb = strip(sb);
                if (ta.size() != tb.size()) return ta.size() < tb.size();
                if (ta != tb) return ta < tb;
            } else if (na != nb) {
                return na;
            } else {
                return sa < sb;
            }
        }
        a = da == std::string_view::npos ? std::string_view() : a.substr(da + 1);
        b = db == std::string_view::npos ? std::string_view() : b.substr(db + 1);
    }
}

/// A module of the network: its tensors (full Sequential-style names) and the layer it is in.
struct NetworkModule {
    std::string path;  // Sequential-style: "3", "4.main.0"
    std::vector<TensorLayout> tensors;
};

inline std::vector<NetworkModule> network_modules(const std::vector<TensorLayout>& tensors) {
    std::vector<NetworkModule> modules;
    for (const TensorLayout& t : tensors) {
        const std::string m = module_of(t.name);
        if (modules.empty() || modules.back().path != m) modules.push_back({m, {}});
        modules.back().tensors.push_back(t);
    }
    return modules;
}

/// Where each of the network's tensors comes from in the file.
struct TensorMatch {
    const TensorLayout* layout;
    const SafetensorsEntry* entry;  // null: an optional counter the file lacks
};

template <class Net>
std::vector<TensorMatch> match_tensors(const std::vector<NetworkModule>& modules, const SafetensorsHeader& h,
                                       const std::vector<std::string>* names, const std::string& who) {
    const auto layer_text = [](const std::string& path) {
        const std::size_t top = static_cast<std::size_t>(std::stoul(path.substr(0, path.find('.'))));
        return "layer " + std::to_string(top) + ", " + Net::layer_name(top);
    };
    const auto expected_text = [&](const std::string& name, const TensorLayout& t) {
        return "'" + name + "' " + shape_text(unsigned_shape(t.shape));
    };
    // The file's modules in numeric-aware order, each with its entries.
    std::vector<std::pair<std::string, std::vector<const SafetensorsEntry*>>> file_modules;
    for (const SafetensorsEntry& e : h.tensors) {
        const std::string m = module_of(e.name);
        auto it = std::find_if(file_modules.begin(), file_modules.end(), [&](const auto& f) { return f.first == m; });
        if (it == file_modules.end()) {
            file_modules.push_back({m, {}});
            it = file_modules.end() - 1;
        }
        it->second.push_back(&e);
    }
    std::sort(file_modules.begin(), file_modules.end(),
              [](const auto& a, const auto& b) { return module_before(a.first, b.first); });

    if (names != nullptr && names->size() != modules.size())
        throw SafetensorsError(who + std::to_string(names->size()) + " module names given, but the network has " +
                               std::to_string(modules.size()) + " modules with parameters");
    std::vector<TensorMatch> matches;
    std::vector<bool> used(h.tensors.size(), false);
    const auto index_of = [&](const SafetensorsEntry* e) { return static_cast<std::size_t>(e - h.tensors.data()); };
    for (std::size_t k = 0; k < modules.size(); ++k) {
        const NetworkModule& m = modules[k];
        // The file's module for network module k: by name, or the k-th in order.
        std::string file_module;
        const std::vector<const SafetensorsEntry*>* entries = nullptr;
        if (names != nullptr) {
            file_module = (*names)[k];
            for (const auto& f : file_modules)
                if (f.first == file_module) entries = &f.second;
        } else if (k < file_modules.size()) {
            file_module = file_modules[k].first;
            entries = &file_modules[k].second;
        } else {
            file_module = m.path;
        }
        for (const TensorLayout& t : m.tensors) {
            const std::string attribute = attribute_of(t.name);
            const std::string name = file_module.empty() ? attribute : file_module + "." + attribute;
            const SafetensorsEntry* found = nullptr;
            if (entries != nullptr)
                for (const SafetensorsEntry* e : *entries)
                    if (e->name == name) found = e;
            if (found == nullptr) {
                if (t.role == TensorRole::counter) {
                    matches.push_back({&t, nullptr});
                    continue;
                }
                throw SafetensorsError(who + "missing tensor " + expected_text(name, t) + " for " + layer_text(m.path) +
                                       (names == nullptr ? " (the file's module " + std::to_string(k + 1) + " in order)"
                                                         : std::string()));
            }
            if (found->shape != unsigned_shape(t.shape))
                throw SafetensorsError(who + "tensor '" + name + "' has shape " + shape_text(found->shape) + ", but " +
                                       layer_text(m.path) + " expects " + shape_text(unsigned_shape(t.shape)));
            if (t.role == TensorRole::counter ? found->dtype != "I64"
                                              : found->dtype != "F32" && found->dtype != "F64" &&
                                                    found->dtype != "F16" && found->dtype != "BF16")
                throw SafetensorsError(who + "tensor '" + name + "' has dtype " + found->dtype + ", which " +
                                       (t.role == TensorRole::counter ? "this counter is not (I64)"
                                                                      : "cannot be read as a parameter (F32, F64, F16 or BF16)"));
            used[index_of(found)] = true;
            matches.push_back({&t, found});
        }
    }
    for (std::size_t i = 0; i < h.tensors.size(); ++i)
        if (!used[i])
            throw SafetensorsError(who + "extra tensor '" + h.tensors[i].name + "' " + shape_text(h.tensors[i].shape) +
                                   ": the network has no place for it");
    return matches;
}

template <class Net>
void load_safetensors_bytes(Net& net, const unsigned char* bytes, std::uint64_t size, const std::string& name,
                            const std::vector<std::string>* names) {
    using T = typename Net::Scalar;
    const std::string who = "scratchnet::load_safetensors: " + name + ": ";
    std::uint64_t data_start = 0;
    const SafetensorsHeader h = check_safetensors(bytes, size, who, data_start);
    const std::vector<TensorLayout> layouts = Net::tensors();
    const std::vector<NetworkModule> modules = network_modules(layouts);
    const std::vector<TensorMatch> matches = match_tensors<Net>(modules, h, names, who);

    // Everything checked but the values: convert into copies, then commit.
    Vector<T> parameters = net.parameters();
    Vector<T> state = net.state();
    for (const TensorMatch& m : matches) {
        if (m.layout->role == TensorRole::counter) continue;
        // Offsets in the layouts are the whole network's: pack_tensors added each layer's.
        T* out = (m.layout->role == TensorRole::parameter ? parameters.data() : state.data()) + m.layout->offset;
        const unsigned char* in = bytes + data_start + m.entry->begin;
        const auto count = static_cast<Index>((m.entry->end - m.entry->begin) / safetensors_dtype_size(m.entry->dtype));
        const Index rows = m.layout->shape.empty() ? 1 : m.layout->shape.front();
        const Index cols = rows > 0 ? count / rows : 0;
        for (Index i = 0; i < count; ++i) {
            const double v = safetensors_value(m.entry->dtype, in, static_cast<std::uint64_t>(i));
            if (!std::isfinite(v))
                throw SafetensorsError(who + "tensor '" + m.entry->name + "' holds " + (std::isnan(v) ? "a NaN" : "an infinity") +
                                       " at element " + std::to_string(i));
            // Element i is (r, c) of the row-major rows x cols view PyTorch has.
            const Index at = m.layout->column_major ? (i % cols) * rows + i / cols : i;
            out[at] = static_cast<T>(v);
        }
    }
    net.parameters() = parameters;
    net.state() = state;
}

/// The header and data of net's tensors under the given module names.
template <class Net>
std::vector<unsigned char> safetensors_bytes(const Net& net, const std::vector<std::string>* names, const std::string& who) {
    using T = typename Net::Scalar;
    const std::vector<TensorLayout> layouts = Net::tensors();
    const std::vector<NetworkModule> modules = network_modules(layouts);
    if (names != nullptr && names->size() != modules.size())
        throw SafetensorsError(who + std::to_string(names->size()) + " module names given, but the network has " +
                               std::to_string(modules.size()) + " modules with parameters");
    const auto quoted = [](const std::string& s) {
        std::string q = "\"";
        for (const char c : s) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                q += '\\';
                q += c;
            } else if (u < 0x20) {
                const char digits[] = "0123456789abcdef";
                q += "\\u00";
                q += digits[u >> 4];
                q += digits[u & 15];
            } else {
                q += c;
            }
        }
        return q + "\"";
    };
    std::string header = "{\"__metadata__\":{\"format\":\"pt\",\"scratchnet_architecture\":" + quoted(Net::architecture()) + "}";
    std::vector<unsigned char> data;
    const char* dtype = sizeof(T) == 4 ? "F32" : "F64";
    for (std::size_t k = 0; k < modules.size(); ++k) {
        const std::string module = names != nullptr ? (*names)[k] : modules[k].path;
        for (const TensorLayout& t : modules[k].tensors) {
            const std::string attribute = attribute_of(t.name);
            const std::string name = module.empty() ? attribute : module + "." + attribute;
            const std::uint64_t begin = data.size();
            Index count = 1;
            for (const Index d : t.shape) count *= d;
            if (t.role == TensorRole::counter) {
                for (Index i = 0; i < count; ++i) put_le<std::int64_t>(data, 0);
            } else {
                const T* in = (t.role == TensorRole::parameter ? net.parameters().data() : net.state().data()) + t.offset;
                const Index rows = t.shape.empty() ? 1 : t.shape.front();
                const Index cols = rows > 0 ? count / rows : 0;
                for (Index i = 0; i < count; ++i) put_le<T>(data, in[t.column_major ? (i % cols) * rows + i / cols : i]);
            }
            std::string shape;
            for (const Index d : t.shape) {
                if (!shape.empty()) shape += ',';
                shape += std::to_string(d);
            }
            // Appended piece by piece: g++ 12 takes "," + a temporary string for an overlapping copy.
            header += ',';
            header += quoted(name);
            header += ":{\"dtype\":\"";
            header += t.role == TensorRole::counter ? "I64" : dtype;
            header += "\",\"shape\":[";
            header += shape;
            header += "],\"data_offsets\":[";
            header += std::to_string(begin);
            header += ',';
            header += std::to_string(data.size());
            header += "]}";
        }
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    std::vector<unsigned char> bytes;
    bytes.reserve(8 + header.size() + data.size());
    put_le<std::uint64_t>(bytes, header.size());
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return bytes;
}

template <class Net>
void save_safetensors_to(const Net& net, const Path& path, const std::vector<std::string>* names) {
    const std::string who = "scratchnet::save_safetensors: " + path.string() + ": ";
    const std::vector<unsigned char> bytes = safetensors_bytes(net, names, who);
    CFile file(path, "wb");
    if (file.get() == nullptr) throw SafetensorsError(who + "cannot open for writing: " + system_reason());
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
    if (!file.close() || !written) throw SafetensorsError(who + "writing failed: " + system_reason());
}

template <class Net>
void load_safetensors_from(Net& net, const Path& path, const std::vector<std::string>* names) {
    const std::string who = "scratchnet::load_safetensors: " + path.string() + ": ";
    const FileStatus status = file_status(path);
    if (status.kind == FileKind::directory) throw SafetensorsError(who + "is a directory, not a file");
    if (status.kind == FileKind::other) throw SafetensorsError(who + "is not a regular file");
    CFile file(path, "rb");
    if (file.get() == nullptr) throw SafetensorsError(who + "cannot open the file: " + system_reason());
    // The real size, not anything the file claims, bounds what is allocated.
    std::vector<unsigned char> bytes(static_cast<std::size_t>(status.size));
    if (std::fread(bytes.data(), 1, bytes.size(), file.get()) != bytes.size() || std::ferror(file.get()) != 0)
        throw SafetensorsError(who + "reading the file failed");
    if (std::fgetc(file.get()) != EOF) throw SafetensorsError(who + "the file grew while it was read");
    load_safetensors_bytes(net, bytes.data(), bytes.size(), path.string(), names);
}

template <class Net>
constexpr void check_tensors_declared() {
    static_assert(requires { Net::tensors(); },
                  "scratchnet safetensors: a layer of this network owns parameters or state but declares no "
                  "tensors() (tensors.hpp says how a layer names its tensors)");
}

}  // namespace detail

/// Reads a safetensors file into net, its modules matched in numeric-aware order
/// (PyTorch's nn.Sequential names: "0.weight", "0.bias", "3.weight", ...). Throws
/// SafetensorsError, leaving net unchanged, if anything does not fit.
template <class Net>
void load_safetensors(Net& net, const Path& path) {
    detail::check_tensors_declared<Net>();
    detail::load_safetensors_from(net, path, nullptr);
}

/// The same with each module of the network named: names[k] for the k-th layer
/// with parameters (inner layers of Residual blocks each count), so "conv1" takes
/// "conv1.weight" and "conv1.bias".
template <class Net>
void load_safetensors(Net& net, const Path& path, const std::vector<std::string>& names) {
    detail::check_tensors_declared<Net>();
    detail::load_safetensors_from(net, path, &names);
}
template <class Net>
void load_safetensors(Net& net, const Path& path, std::initializer_list<std::string> names) {
    load_safetensors(net, path, std::vector<std::string>(names));
}

/// Writes net's parameters and state as safetensors under the names of the
/// equivalent nn.Sequential, which PyTorch's load_state_dict takes (the file is
/// replaced if it exists).
template <class Net>
void save_safetensors(const Net& net, const Path& path) {
    detail::check_tensors_declared<Net>();
    detail::save_safetensors_to(net, path, nullptr);
}

/// The same under the given module names, one per layer with parameters.
template <class Net>
void save_safetensors(const Net& net, const Path& path, const std::vector<std::string>& names) {
    detail::check_tensors_declared<Net>();
    detail::save_safetensors_to(net, path, &names);
}
template <class Net>
void save_safetensors(const Net& net, const Path& path, std::initializer_list<std::string> names) {
    save_safetensors(net, path, std::vector<std::string>(names));
}

}  // namespace scratchnet
