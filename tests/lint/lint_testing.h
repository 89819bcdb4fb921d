// Helpers of the lint tests: the corpus in tests/lint/data/, copied into a
// temporary directory with @FIXTURES@ replaced by the built fixtures' folder
// (the units' ExecStart= must name real binaries).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace coldstart::test {

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

/// tests/lint/data/<sub> copied to `dir`/<sub>, placeholders filled in.
inline std::string materialize_corpus(const TempDir& dir, const std::string& sub) {
  namespace fs = std::filesystem;
  fs::path from = source_path("tests/lint/data/" + sub), to = fs::path(dir.path()) / sub;
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    fs::path target = to / fs::relative(e.path(), from);
    if (e.is_directory()) {
      fs::create_directories(target);
      continue;
    }
    fs::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary)
        << replace_all(read_text(e.path().string()), "@FIXTURES@", COLDSTART_FIXTURE_DIR);
  }
  return to.string();
}

/// The words after "# <tag>:" on the first line that has it ("" if none).
inline std::vector<std::string> header_words(const std::string& path, const std::string& tag) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::string prefix = "# " + tag + ":";
    if (!line.starts_with(prefix)) continue;
    std::istringstream words(line.substr(prefix.size()));
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    std::sort(out.begin(), out.end());
    return out;
  }
  return {"<no header>"};
}

}  // namespace coldstart::test
