#pragma once
// Runs a test body once on every instruction-set path this CPU has (isa.hpp),
// restoring the path that was active before.
#include <scratchnet/isa.hpp>

#include <doctest/doctest.h>

#include <vector>

namespace fixtures {

/// The paths this CPU runs, portable first.
inline std::vector<scratchnet::Isa> available_isas() {
    std::vector<scratchnet::Isa> isas;
    for (const auto isa : {scratchnet::Isa::portable, scratchnet::Isa::avx2, scratchnet::Isa::avx512})
        if (scratchnet::cpu_supports(isa)) isas.push_back(isa);
    return isas;
}

/// Makes `isa` the active path for its lifetime.
class UsingIsa {
public:
    explicit UsingIsa(scratchnet::Isa isa) : previous_(scratchnet::active_isa()) { scratchnet::use_isa(isa); }
    ~UsingIsa() { scratchnet::use_isa(previous_); }
    UsingIsa(const UsingIsa&) = delete;
    UsingIsa& operator=(const UsingIsa&) = delete;

private:
    scratchnet::Isa previous_;
};

/// body() once per available path, each under CAPTURE of its name.
template <class Body>
void on_every_isa(Body&& body) {
    for (const auto isa : available_isas()) {
        const UsingIsa using_isa(isa);
        const char* path = scratchnet::isa_name(isa);
        CAPTURE(path);
        body(isa);
    }
}

}  // namespace fixtures
