// Kubernetes manifests through yaml-cpp.
//
// yaml-cpp keeps a Mark (0-based line and column) on every node it parses;
// positions here are 1-based. Each "---" document is parsed on its own; a syntax
// error (or yaml-cpp's recursion guard on deeply nested input) is a
// YAML::ParserException carrying its Mark. Where the pod template lives:
//   Pod                                     spec
//   Deployment/StatefulSet/DaemonSet/ReplicaSet/Job  spec.template.spec
//   CronJob                                 spec.jobTemplate.spec.template.spec
//   List                                    items[] (each as above)
// Probe and resource fields default as the API server does
// (periodSeconds 10, failureThreshold 3, timeoutSeconds 1, delay 0).
#include "lint/k8s_manifest.h"

#include <cmath>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace coldstart::lint {
namespace {

// Absent keys and explicit nulls read the same: "not given". (A default
// YAML::Node is a *defined* null node, so operator bool cannot tell.)
bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

class ManifestReader {
 public:
  ManifestReader(std::string file, size_t text_size)
      : file_(std::move(file)), limit_(kBudget + static_cast<long>(text_size / 4)), budget_(limit_) {}

  /// Marks count from the document's first line; positions from the file's.
  void set_first_line(int line) { first_line_ = line; }

  SourcePos pos(const YAML::Node& n) const { return pos(n.Mark()); }
  SourcePos pos(const YAML::Mark& m) const {
    if (m.is_null()) return {file_, first_line_ + 1, 1};
    return {file_, first_line_ + m.line + 1, m.column + 1};
  }

  /// The key node of `key` in map `m` (for pointing at "livenessProbe:").
  SourcePos key_pos(const YAML::Node& m, std::string_view key) const {
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return pos(it->first);
    return pos(m);
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& message) const {
    throw InputError(pos(n), message);
  }

  // YAML aliases share nodes: `items: [*a, *a, ...]` over a List that holds
  // aliases of another List expands exponentially (the "billion laughs"), and
  // an anchor may even contain its own alias (a cycle). Every workload,
  // container and env entry read costs one unit of a budget of kBudget
  // plus one per 4 bytes of input: an entry written out takes more than 4
  // bytes, so only aliases can exceed it (a fixed budget refused a real
  // 50 MiB file of 50,000 documents); Lists nest at most kMaxListDepth deep.
  static constexpr long kBudget = 100000;
  static constexpr int kMaxListDepth = 8;
  void spend(const YAML::Node& n) {
    if (--budget_ < 0) fail(n, fmt::format("the manifest expands to more than {} entries (YAML aliases?)", limit_));
  }

  YAML::Node child(const YAML::Node& m, const char* key) const {
    if (!present(m) || !m.IsMap()) return YAML::Node();
    YAML::Node c = m[key];
    return present(c) ? c : YAML::Node();
  }

  YAML::Node map_at(const YAML::Node& m, const char* key) const {
    YAML::Node c = child(m, key);
    if (present(c) && !c.IsMap()) fail(c, fmt::format("'{}' must be a mapping", key));
    return c;
  }

  double number(const YAML::Node& m, const char* key, double fallback) const {
    YAML::Node c = child(m, key);
    if (!present(c)) return fallback;
    if (!c.IsScalar()) fail(c, fmt::format("'{}' must be a number", key));
    const std::string& s = c.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
      fail(c, fmt::format("'{}' must be a non-negative number, not '{}'", key, s));
    return v;
  }

  std::string text(const YAML::Node& m, const char* key) const {
    YAML::Node c = child(m, key);
    if (!present(c)) return "";
    if (!c.IsScalar()) fail(c, fmt::format("'{}' must be a string", key));
    return c.Scalar();
  }

  std::optional<K8sProbe> probe(const YAML::Node& container, const char* key) const {
    YAML::Node p = map_at(container, key);
    if (!present(p)) return std::nullopt;
    K8sProbe out;
    out.initial_delay = number(p, "initialDelaySeconds", 0);
    out.period = number(p, "periodSeconds", 10);
    out.failure_threshold = number(p, "failureThreshold", 3);
    out.timeout = number(p, "timeoutSeconds", 1);
    out.pos = key_pos(container, key);
    return out;
  }

  std::optional<K8sQuantity> quantity(const YAML::Node& m, const char* key) const {
    YAML::Node c = child(m, key);
    if (!present(c)) return std::nullopt;
    if (!c.IsScalar()) fail(c, fmt::format("'{}' must be a quantity", key));
    auto v = parse_quantity(c.Scalar());
    if (!v) fail(c, fmt::format("'{}' is not a Kubernetes quantity: '{}'", key, c.Scalar()));
    if (*v < 0) fail(c, fmt::format("'{}' must not be negative: '{}'", key, c.Scalar()));
    return K8sQuantity{*v, c.Scalar(), pos(c)};
  }

  K8sContainer container(const YAML::Node& c, bool init) {
    spend(c);
    if (!c.IsMap()) fail(c, "a container must be a mapping");
    K8sContainer out;
    out.init = init;
    out.name = text(c, "name");
    out.pos = pos(c);
    YAML::Node ports = child(c, "ports");
    if (present(ports) && !ports.IsSequence()) fail(ports, "'ports' must be a sequence");
    out.has_ports = present(ports) && ports.size() > 0;
    out.liveness = probe(c, "livenessProbe");
    out.readiness = probe(c, "readinessProbe");
    out.startup = probe(c, "startupProbe");
    YAML::Node resources = map_at(c, "resources");
    YAML::Node limits = map_at(resources, "limits"), requests = map_at(resources, "requests");
    out.cpu_limit = quantity(limits, "cpu");
    out.memory_limit = quantity(limits, "memory");
    out.cpu_request = quantity(requests, "cpu");
    out.memory_request = quantity(requests, "memory");
    YAML::Node env = child(c, "env");
    if (present(env) && !env.IsSequence()) fail(env, "'env' must be a sequence");
    if (present(env)) {
      for (const YAML::Node& e : env) {
        spend(e);
        if (!e.IsMap()) fail(e, "an env entry must be a mapping");
        out.env_names.push_back(text(e, "name"));
      }
    }
    out.env_from = present(child(c, "envFrom"));
    return out;
  }

  void workload(const YAML::Node& doc, std::vector<K8sWorkload>& out, int list_depth = 0) {
    if (!present(doc)) return;
    spend(doc);
    if (!doc.IsMap()) fail(doc, "a manifest document must be a mapping");
    std::string kind = text(doc, "kind");
    if (kind == "List") {
      YAML::Node items = child(doc, "items");
      if (present(items) && !items.IsSequence()) fail(items, "'items' must be a sequence");
      if (present(items) && list_depth >= kMaxListDepth)
        fail(items, fmt::format("Lists nested more than {} deep", kMaxListDepth));
      if (present(items))
        for (const YAML::Node& item : items) workload(item, out, list_depth + 1);
      return;
    }
    YAML::Node spec = map_at(doc, "spec");
    YAML::Node pod;
    if (kind == "Pod") {
      pod = spec;
    } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" ||
               kind == "Job" || kind == "ReplicationController") {
      pod = map_at(map_at(spec, "template"), "spec");
    } else if (kind == "CronJob") {
      pod = map_at(map_at(map_at(map_at(spec, "jobTemplate"), "spec"), "template"), "spec");
    } else {
      return;  // Service, ConfigMap, ...: nothing about starting containers
    }
    K8sWorkload w;
    w.kind = kind;
    w.name = text(map_at(doc, "metadata"), "name");
    w.pos = key_pos(doc, "kind");
    for (const char* key : {"initContainers", "containers"}) {
      YAML::Node list = child(pod, key);
      if (!present(list)) continue;
      if (!list.IsSequence()) fail(list, fmt::format("'{}' must be a sequence", key));
      for (const YAML::Node& c : list) w.containers.push_back(container(c, key[0] == 'i'));
    }
    out.push_back(std::move(w));
  }

 private:
  std::string file_;
  int first_line_ = 0;
  long limit_;
  long budget_;
};

/// One document of a stream and the 0-based file line it starts on.
struct Document {
  std::string text;
  int first_line = 0;
};

// Splits a multi-document stream the way kubectl does (a line that is "---",
// possibly followed by blanks or, YAML allows, by the document's first
// content). Each document keeps its own lines only; the reader adds its
// first line to yaml-cpp's marks. (Padding each document with the newlines
// before it kept the marks right but made a file of many documents
// quadratic: 10 MiB of Helm output became gigabytes for yaml-cpp to scan.)
// We do not call YAML::LoadAll: in yaml-cpp 0.7 it never returns (spinning
// and allocating) on a document whose first token is unexpected, e.g. ','
// (yaml-cpp PR #1319; found by fuzz_lint_k8s_yaml); YAML::Load parses one
// document and returns. Chunks holding only blanks, comments or directives
// are skipped. `each` gets the documents in order.
template <typename Fn>
void for_each_document(std::string_view text, Fn&& each) {
  Document cur;
  int line_no = 0;
  bool has_content = false;
  auto flush = [&] {
    if (has_content) each(cur);
    cur.text.clear();
    has_content = false;
  };
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    bool separator = line.starts_with("---") && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' ||
                                                 line[3] == '\r');
    if (separator) {
      flush();
      cur.first_line = line_no;
    } else if (cur.text.empty() && !has_content) {
      cur.first_line = line_no;
    }
    size_t first = line.find_first_not_of(" \t\r");
    bool directive = first == 0 && line[0] == '%';
    if (first != std::string::npos && line[first] != '#' && !directive) has_content = true;
    if (separator) {
      cur.text.append(3, ' ');  // keep the columns of content after "---"
      cur.text.append(line.substr(3));
    } else if (!directive) {  // a directive is not part of the document's content
      cur.text.append(line);
    }
    cur.text += '\n';
    ++line_no;
  }
  flush();
}

}  // namespace

bool K8sContainer::env_has(std::string_view name) const {
  for (const std::string& n : env_names)
    if (n == name) return true;
  return false;
}

std::vector<K8sWorkload> read_manifests(std::string_view text, const std::string& file) {
  ManifestReader reader(file, text.size());
  std::vector<K8sWorkload> out;
  // One document at a time: memory stays that of the largest document.
  for_each_document(text, [&](const Document& doc) {
    reader.set_first_line(doc.first_line);
    YAML::Node node;
    try {
      node = YAML::Load(doc.text);
    } catch (const YAML::Exception& e) {
      throw InputError(reader.pos(e.mark), "YAML: " + e.msg);
    }
    try {
      reader.workload(node, out);
    } catch (const YAML::Exception& e) {
      // Defensive: a node conversion yaml-cpp refuses (should not happen, as
      // every access above checks the node type first).
      throw InputError(reader.pos(e.mark), "YAML: " + e.msg);
    }
  });
  return out;
}

std::optional<double> parse_quantity(std::string_view s) {
  // <sign><digits>[.<digits>][(e|E)<sign><digits> | suffix]
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string number(s.substr(0, i));
  std::string_view suffix = s.substr(i);
  double scale = 1;
  bool exponent = suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E') &&
                  (std::isdigit(static_cast<unsigned char>(suffix[1])) ||
                   ((suffix[1] == '+' || suffix[1] == '-') && suffix.size() >= 3));
  if (exponent) {
    size_t j = (suffix[1] == '+' || suffix[1] == '-') ? 2 : 1;
    if (j >= suffix.size()) return std::nullopt;
    for (size_t k = j; k < suffix.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(suffix[k]))) return std::nullopt;
    if (suffix.size() - j > 3) return std::nullopt;
    scale = std::pow(10.0, std::atof(std::string(suffix.substr(1)).c_str()));
  } else {
    static const std::pair<std::string_view, double> kSuffixes[] = {
        {"", 1},      {"n", 1e-9},  {"u", 1e-6},  {"m", 1e-3},  {"k", 1e3},   {"M", 1e6},
        {"G", 1e9},   {"T", 1e12},  {"P", 1e15},  {"E", 1e18},  {"Ki", 1024.0}, {"Mi", 1048576.0},
        {"Gi", 1073741824.0}, {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
    };
    bool found = false;
    for (const auto& [name, factor] : kSuffixes) {
      if (suffix == name) {
        scale = factor;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  double v = std::strtod(number.c_str(), nullptr) * scale;
  // The API server stores quantities as int64 (milli-units at most): beyond
  // that it rejects them, and the rules' integer conversions could not hold them.
  if (!std::isfinite(v) || std::fabs(v) > 9.2e18) return std::nullopt;
  return v;
}

}  // namespace coldstart::lint
