// PyTorch's epochs for the README's table, in the same run: runs
// examples/benchmark_pytorch.py --records (its docstring defines the records) on
// the same data, the same samples and the same number of repetitions, and adds
// its epoch times as rows beside scratchnet's, with the ratio of scratchnet's
// 2-thread epoch to PyTorch's better thread count.
//
// Torch is optional: CI has none. A missing python3, torch or script ends here
// as a sentence for the table's caption, never as a failure.
#include "benchmark/benchmark.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace bench {
namespace {

struct Epoch {
    std::string network;
    int threads;
    long samples;
    double seconds;  // median, scaled to 60,000 samples
};

/// What one run of the script said.
struct Outcome {
    std::string version;  // torch's, once it imported
    std::vector<Epoch> epochs;
    std::string missing;     // what could not be imported
    std::string error;       // any other failure
    bool not_found = false;  // the shell found no such interpreter
};

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, '\t');) fields.push_back(f);
    return fields;
}

void read_record(const std::string& line, Outcome& out) {
    const std::vector<std::string> f = split_tabs(line);
    if (f.empty()) return;
    if (f[0] == "torch" && f.size() >= 2) {
        out.version = f[1];
    } else if (f[0] == "missing" && f.size() >= 2) {
        out.missing = f[1];
    } else if (f[0] == "error" && f.size() >= 2) {
        out.error = f[1];
    } else if (f[0] == "epoch" && f.size() >= 6) {
        try {
            out.epochs.push_back({f[1], std::stoi(f[3]), std::stol(f[4]), std::stod(f[5])});
        } catch (const std::exception&) {
            out.error = "unreadable record: " + line;
        }
    }
}

Outcome run_script(const std::string& python, const PytorchRun& run) {
    std::string networks, samples;
    for (const auto& n : kTableNetworks) {
        if (!networks.empty()) networks += ',';
        networks += n.label;
        if (n.samples == kTrainSamples) continue;
        if (!samples.empty()) samples += ',';
        samples += std::string(n.label) + "=" + std::to_string(n.samples);
    }
    std::string command = shell_quote(python) + " " + shell_quote(run.script.string()) +
                          " --records --threads 1,2 --reps " + std::to_string(run.reps) + " --networks " + networks;
    if (!samples.empty()) command += " --samples " + samples;
    command += run.synthetic ? std::string(" --synthetic") : " --data " + shell_quote(run.data_dir.string());
    std::cout << "pytorch: " << command << "\n" << std::flush;

    Outcome out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        out.error = "cannot start a shell";
        return out;
    }
    std::string line;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        line += buffer;
        if (line.back() != '\n') continue;  // a longer line: read on
        line.pop_back();
        read_record(line, out);
        line.clear();
    }
    if (!line.empty()) read_record(line, out);
    const int status = pclose(pipe);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127 && out.version.empty() && out.missing.empty())
        out.not_found = true;
    else if (status != 0 && out.error.empty() && out.missing.empty())
        out.error = "the script exited with status " +
                    std::to_string(status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : status);
    return out;
}

void add_rows(const std::vector<Epoch>& epochs, std::vector<Row>& rows) {
    for (const auto& n : kTableNetworks) {
        const std::string p = std::string(n.label) + ": ";
        std::optional<double> best;
        for (const auto& e : epochs) {
            if (e.network != n.label) continue;
            const std::string timed_on =
                e.samples != kTrainSamples ? " (timed on " + std::to_string(e.samples) + " samples)" : "";
            rows.push_back({p + "epoch, PyTorch, " + std::to_string(e.threads) + (e.threads == 1 ? " thread" : " threads") +
                                timed_on,
                            e.seconds, "s"});
            best = best ? std::min(*best, e.seconds) : e.seconds;
        }
        if (!best) continue;
        rows.push_back({p + "epoch, PyTorch, its best thread count", *best, "s"});
        if (const std::optional<double> two = scratchnet_epoch(rows, n.label, 2))
            rows.push_back({p + "ratio scratchnet 2 threads / PyTorch", *two / *best, "x"});
    }
}

}  // namespace

Pytorch pytorch(const PytorchRun& run, std::vector<Row>& rows) {
    if (!fs::exists(run.script)) return {false, "PyTorch: n/a (no script at " + run.script.string() + ")"};
    // Debian's python3-torch serves /usr/bin/python3 only, which a python3 earlier
    // on PATH (pyenv, a virtual environment) hides: try it next.
    const std::vector<std::string> pythons =
        run.python.empty() ? std::vector<std::string>{"python3", "/usr/bin/python3"} : std::vector<std::string>{run.python};
    std::string why;
    for (const auto& python : pythons) {
        const Outcome o = run_script(python, run);
        if (!o.epochs.empty()) {
            add_rows(o.epochs, rows);
            std::string about = "PyTorch " + o.version + " under " + python + ", the better of its 1- and 2-thread times";
            if (const char* core = std::getenv("OPENBLAS_CORETYPE"); core != nullptr && *core != '\0')
                about += " (OPENBLAS_CORETYPE=" + std::string(core) + " in the environment)";
            if (!o.error.empty()) about += "; then it failed: " + o.error;
            return {true, about};
        }
        why += (why.empty() ? "" : "; ") + python + ": " +
               (o.not_found          ? std::string("not found")
                : !o.missing.empty() ? o.missing
                : !o.error.empty()   ? o.error
                                     : std::string("no epoch measured"));
        if (!o.not_found && o.missing.empty()) break;  // the script itself failed: another python would too
    }
    return {false, "PyTorch: n/a (" + why + ")"};
}

}  // namespace bench
