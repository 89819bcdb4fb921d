// Manifest reading and writing.
//
// The text is untrusted (a file a user passes, possibly edited or truncated),
// so parsing checks every field's type and range before anything else uses it:
// page_size is a power of two in [512, 1 GiB]; each range is [first, count]
// with count > 0, no overflow, and lies within the file's recorded size, so a
// manifest can never make apply allocate or request more than the recorded
// files hold. Unknown keys are ignored (additions keep version 1); a change
// that old readers would misread bumps "version", and other versions are refused.
#include "pagecache/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/error.h"
#include "core/file.h"

namespace coldstart::pagecache {
namespace {

using nlohmann::json;

// 2^60 bytes: keeps every page * page_size product below 2^64.
constexpr uint64_t kMaxFileSize = uint64_t{1} << 60;

[[noreturn]] void not_ours(std::string_view origin, std::string_view why) {
  throw UserError(fmt::format("{}: not a coldstart prewarm manifest: {}", origin, why));
}

uint64_t get_u64(const json& obj, const char* key, std::string_view origin, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) not_ours(origin, fmt::format("{}: missing \"{}\"", where, key));
  if (!it->is_number_unsigned())
    not_ours(origin, fmt::format("{}: \"{}\" is not a non-negative integer", where, key));
  return it->get<uint64_t>();
}

int64_t get_i64(const json& obj, const char* key, std::string_view origin, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) not_ours(origin, fmt::format("{}: missing \"{}\"", where, key));
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      not_ours(origin, fmt::format("{}: \"{}\" too large", where, key));
    return static_cast<int64_t>(it->get<uint64_t>());
  }
  if (!it->is_number_integer()) not_ours(origin, fmt::format("{}: \"{}\" is not an integer", where, key));
  return it->get<int64_t>();
}

ManifestFile parse_file(const json& f, size_t index, uint64_t page, std::string_view origin) {
  std::string where = fmt::format("files[{}]", index);
  if (!f.is_object()) not_ours(origin, where + " is not an object");
  ManifestFile out;
  auto path = f.find("path");
  if (path == f.end() || !path->is_string()) not_ours(origin, where + ": \"path\" missing or not a string");
  out.path = path->get<std::string>();
  if (out.path.empty() || out.path[0] != '/' || out.path.find('\0') != std::string::npos)
    not_ours(origin, where + ": \"path\" is not an absolute path");
  out.identity.device = get_u64(f, "device", origin, where);
  out.identity.inode = get_u64(f, "inode", origin, where);
  out.identity.size = get_u64(f, "size", origin, where);
  out.identity.mtime_ns = get_i64(f, "mtime_ns", origin, where);
  if (out.identity.size > kMaxFileSize) not_ours(origin, where + ": \"size\" is implausibly large");
  const uint64_t file_pages = out.identity.size / page + (out.identity.size % page != 0);
  auto ranges = f.find("ranges");
  if (ranges == f.end() || !ranges->is_array())
    not_ours(origin, where + ": \"ranges\" missing or not an array");
  for (size_t i = 0; i < ranges->size(); ++i) {
    const json& r = (*ranges)[i];
    std::string rw = fmt::format("{}.ranges[{}]", where, i);
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned())
      not_ours(origin, rw + " is not [first_page, page_count]");
    uint64_t first = r[0].get<uint64_t>(), count = r[1].get<uint64_t>();
    auto end = checked_add(first, count);
    if (count == 0 || !end || *end > file_pages)
      not_ours(origin, fmt::format("{} [{}, {}] is empty or beyond the file's {} pages", rw, first, count,
                                   file_pages));
    out.ranges.push_back({first, count});
  }
  out.ranges = normalize(std::move(out.ranges));
  return out;
}

}  // namespace

uint64_t Manifest::total_pages() const {
  uint64_t n = 0;
  for (const ManifestFile& f : files) n += pagecache::total_pages(f.ranges);
  return n;
}

uint64_t Manifest::total_bytes() const {
  uint64_t n = 0;
  for (const ManifestFile& f : files) {
    for (const PageRange& r : f.ranges) {
      uint64_t begin = r.first * page_size;
      uint64_t end = std::min(r.end() * page_size, f.identity.size);
      if (end > begin) n += end - begin;
    }
  }
  return n;
}

Manifest parse_manifest(std::string_view text, std::string_view origin) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string why = e.what();
    if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
    throw UserError(fmt::format("{}: not JSON: {}", origin, why));
  }
  if (!doc.is_object()) not_ours(origin, "the top level is not an object");
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || format->get<std::string>() != kManifestFormat)
    not_ours(origin, fmt::format("\"format\" is not \"{}\"", kManifestFormat));
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != kManifestVersion)
    not_ours(origin,
             fmt::format("unsupported \"version\" (this coldstart reads version {})", kManifestVersion));
  Manifest m;
  m.page_size = get_u64(doc, "page_size", origin, "top level");
  if (m.page_size < 512 || m.page_size > (uint64_t{1} << 30) || (m.page_size & (m.page_size - 1)) != 0)
    not_ours(origin, fmt::format("page_size {} is not a power of two in [512, 1 GiB]", m.page_size));
  if (auto cmd = doc.find("command"); cmd != doc.end()) {
    if (!cmd->is_array()) not_ours(origin, "\"command\" is not an array of strings");
    for (const json& w : *cmd) {
      if (!w.is_string()) not_ours(origin, "\"command\" is not an array of strings");
      m.command.push_back(w.get<std::string>());
    }
  }
  if (auto rec = doc.find("recorded_with"); rec != doc.end() && rec->is_string())
    m.recorded_with = rec->get<std::string>();
  if (auto rec = doc.find("recording"); rec != doc.end() && rec->is_object()) {
    Manifest::Recording r;
    if (auto v = rec->find("starts"); v != rec->end() && v->is_number_unsigned()) r.starts = v->get<int>();
    if (auto v = rec->find("discovery"); v != rec->end() && v->is_string()) r.discovery = v->get<std::string>();
    if (auto v = rec->find("method"); v != rec->end() && v->is_string()) r.method = v->get<std::string>();
    if (auto v = rec->find("pages_traced_only"); v != rec->end() && v->is_number_unsigned())
      r.pages_traced_only = v->get<uint64_t>();
    if (auto v = rec->find("pages_in_every"); v != rec->end() && v->is_number_unsigned())
      r.pages_in_every = v->get<uint64_t>();
    if (auto v = rec->find("pages_in_some"); v != rec->end() && v->is_number_unsigned())
      r.pages_in_some = v->get<uint64_t>();
    if (auto v = rec->find("gap_fill_pages"); v != rec->end() && v->is_number_unsigned())
      r.gap_fill_pages = v->get<uint64_t>();
    if (auto v = rec->find("pages_gap_filled"); v != rec->end() && v->is_number_unsigned())
      r.pages_gap_filled = v->get<uint64_t>();
    if (auto v = rec->find("pages_table_filled"); v != rec->end() && v->is_number_unsigned())
      r.pages_table_filled = v->get<uint64_t>();
    m.recording = r;
  }
  auto files = doc.find("files");
  if (files == doc.end() || !files->is_array()) not_ours(origin, "\"files\" missing or not an array");
  for (size_t i = 0; i < files->size(); ++i)
    m.files.push_back(parse_file((*files)[i], i, m.page_size, origin));
  return m;
}

Manifest read_manifest(const std::string& path) {
  Mapping map = Mapping::map_file(path);
  return parse_manifest(as_chars(map.bytes()), path);
}

std::string manifest_to_json(const Manifest& m) {
  json cmd = m.command;
  std::string out = fmt::format(
      "{{\n  \"format\": {},\n  \"version\": {},\n  \"page_size\": {},\n  \"command\": {},\n"
      "  \"recorded_with\": {},\n",
      json(kManifestFormat).dump(), kManifestVersion, m.page_size, cmd.dump(), json(m.recorded_with).dump());
  if (m.recording) {
    json r = {{"starts", m.recording->starts},
              {"discovery", m.recording->discovery},
              {"pages_in_every", m.recording->pages_in_every},
              {"pages_in_some", m.recording->pages_in_some},
              {"gap_fill_pages", m.recording->gap_fill_pages},
              {"pages_gap_filled", m.recording->pages_gap_filled},
              {"pages_table_filled", m.recording->pages_table_filled}};
    if (!m.recording->method.empty()) r["method"] = m.recording->method;
    if (!m.recording->method.empty()) r["pages_traced_only"] = m.recording->pages_traced_only;
    out += fmt::format("  \"recording\": {},\n", r.dump());
  }
  out += "  \"files\": [";
  for (size_t i = 0; i < m.files.size(); ++i) {
    const ManifestFile& f = m.files[i];
    json ranges = json::array();
    for (const PageRange& r : f.ranges) ranges.push_back({r.first, r.count});
    out += fmt::format(
        "{}\n    {{\"path\": {}, \"device\": {}, \"inode\": {}, \"size\": {}, \"mtime_ns\": {}, \"ranges\": "
        "{}}}",
        i ? "," : "", json(f.path).dump(), f.identity.device, f.identity.inode, f.identity.size,
        f.identity.mtime_ns, ranges.dump());
  }
  out += m.files.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

void write_manifest(const std::string& path, const Manifest& m) {
  write_file_atomic(path, manifest_to_json(m));
}

std::vector<PageRange> local_ranges(const ManifestFile& file, uint64_t manifest_page_size) {
  const uint64_t local = page_size();
  if (manifest_page_size == local) return file.ranges;
  std::vector<PageRange> out;
  for (const PageRange& r : file.ranges) {
    uint64_t begin = r.first * manifest_page_size,
             end = r.end() * manifest_page_size;  // bounded by size: no overflow
    out.push_back({begin / local, (end + local - 1) / local - begin / local});
  }
  return normalize(std::move(out));
}

Manifest whole_files_manifest(const std::vector<std::string>& paths) {
  Manifest m;
  m.page_size = page_size();
  for (const std::string& path : paths) {
    auto f = open_regular(path);
    if (!f) {
      m.files.push_back({path, {}, {}});
      continue;
    }
    uint64_t pages = (f->identity.size + m.page_size - 1) / m.page_size;
    m.files.push_back({path, f->identity, normalize({{0, pages}})});
  }
  return m;
}

}  // namespace coldstart::pagecache
