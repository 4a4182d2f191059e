// The benchmark's one table: each row's name, value and unit, in the order the
// suites measured them, printed and written to benchmark.csv and benchmark.json.
#include "benchmark/benchmark.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>

namespace bench {

void report(const std::vector<Row>& rows, const std::string& source, int reps, const fs::path& out) {
    std::cout << "\n";
    for (const auto& r : rows)
        std::cout << std::left << std::setw(62) << r.name << std::right << std::setw(12) << std::setprecision(4)
                  << r.value << " " << r.unit << "\n";
    fs::create_directories(out);
    std::ofstream csv(out / "benchmark.csv");
    csv << "measurement,value,unit\n";
    for (const auto& r : rows) csv << '"' << r.name << "\"," << r.value << "," << r.unit << "\n";
    std::ofstream json(out / "benchmark.json");
    json << "{\n  \"data\": \"" << (source.find("synthetic") == 0 ? "synthetic" : "mnist") << "\",\n  \"reps\": " << reps
         << ",\n  \"results\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i)
        json << "    {\"name\": \"" << rows[i].name << "\", \"value\": " << rows[i].value << ", \"unit\": \""
             << rows[i].unit << "\"}" << (i + 1 < rows.size() ? ",\n" : "\n");
    json << "  ]\n}\n";
    std::cout << "\nwrote " << (out / "benchmark.csv").string() << " and " << (out / "benchmark.json").string() << "\n";
}

}  // namespace bench
