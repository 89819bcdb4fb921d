// Cgroup path -> labels. The layouts recognised, as the managers make them:
//
//  systemd            /system.slice/nginx.service, /system.slice/getty@tty1.service,
//                     /user.slice/user-1000.slice/user@1000.service/app.slice/foo.service
//                     (a unit may delegate: /system.slice/foo.service/payload)
//  kubelet cgroupfs   /kubepods/burstable/pod<uid>/<container id>, /kubepods/pod<uid>/<id>
//  kubelet systemd    /kubepods.slice/kubepods-besteffort.slice/
//                     kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<id>.scope
//                     (crio-<id>.scope for CRI-O, docker-<id>.scope for dockershim)
//  docker / podman    /system.slice/docker-<id>.scope, /docker/<id>,
//                     /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>
//  coldstart          /coldstart/<pid>-<n> (bench, trace, run launches)
//
// A container is recognised before a unit because its scope is a unit too.
// Kubernetes QoS: no burstable/besteffort level means guaranteed.
#include "watch/labels.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/strings.h"

namespace coldstart::watch {
namespace {

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  for (std::string& c : split(path, '/'))
    if (!c.empty()) out.push_back(std::move(c));
  return out;
}

bool all_of_chars(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; }

// "cri-containerd-<id>.scope" -> {"containerd", "<id>"}; no match -> {}.
std::pair<std::string, std::string> container_scope(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"cri-containerd-", "containerd"}, {"crio-", "cri-o"}, {"docker-", "docker"}, {"libpod-", "podman"}};
  std::string_view base = name;
  if (ends_with(base, ".scope")) base.remove_suffix(6);
  for (auto [prefix, runtime] : kPrefixes) {
    if (!starts_with(base, prefix)) continue;
    std::string_view id = base.substr(prefix.size());
    if (starts_with(id, "conmon-")) return {std::string(runtime), std::string(id.substr(7))};
    if (all_of_chars(id, is_hex)) return {std::string(runtime), std::string(id)};
  }
  return {};
}

std::string pod_uid_of(std::string_view component) {
  // "pod<uid>" (cgroupfs) or "kubepods-burstable-pod<uid_with_underscores>.slice" (systemd).
  size_t at = component.rfind("pod");
  if (at == std::string_view::npos) return "";
  std::string_view uid = component.substr(at + 3);
  if (ends_with(uid, ".slice")) uid.remove_suffix(6);
  if (!all_of_chars(uid, is_id_char)) return "";
  std::string out(uid);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

bool kubernetes_labels(const std::vector<std::string>& parts, std::string_view exe, StartLabels& out) {
  auto root = std::find_if(parts.begin(), parts.end(),
                           [](const std::string& c) { return c == "kubepods" || c == "kubepods.slice"; });
  if (root == parts.end()) return false;
  out.kind = "kubernetes";
  out.service = exe_basename(exe);
  out.qos = "guaranteed";
  for (auto it = root + 1; it != parts.end(); ++it) {
    const std::string& c = *it;
    if (c == "burstable" || c == "kubepods-burstable.slice") out.qos = "burstable";
    if (c == "besteffort" || c == "kubepods-besteffort.slice") out.qos = "besteffort";
    bool pod_dir = starts_with(c, "pod") || (starts_with(c, "kubepods-") && c.find("-pod") != std::string::npos);
    if (pod_dir && out.pod_uid.empty()) {
      out.pod_uid = pod_uid_of(c);
      continue;
    }
    if (out.pod_uid.empty()) continue;
    auto [runtime, id] = container_scope(c);
    if (!id.empty()) {
      out.runtime = runtime;
      out.container_id = id;
    } else if (all_of_chars(c, is_hex) && c.size() >= 12) {
      out.container_id = c;  // cgroupfs driver: the bare container ID
    }
  }
  return true;
}

bool container_labels(const std::vector<std::string>& parts, std::string_view exe, StartLabels& out) {
  for (size_t i = parts.size(); i-- > 0;) {
    auto [runtime, id] = container_scope(parts[i]);
    bool bare = i > 0 && (parts[i - 1] == "docker" || parts[i - 1] == "libpod_parent") &&
                all_of_chars(parts[i], is_hex) && parts[i].size() >= 12;
    if (id.empty() && !bare) continue;
    out.kind = "container";
    out.service = exe_basename(exe);
    out.runtime = !runtime.empty() ? runtime : (parts[i - 1] == "docker" ? "docker" : "podman");
    out.container_id = !id.empty() ? id : parts[i];
    return true;
  }
  return false;
}

bool systemd_labels(const std::vector<std::string>& parts, StartLabels& out) {
  for (size_t i = parts.size(); i-- > 0;) {
    const std::string& c = parts[i];
    if (!ends_with(c, ".service") && !ends_with(c, ".scope")) continue;
    auto [name, instance] = bounded_unit_name(c);
    out.service = name;
    out.unit = c;
    out.instance = instance;
    out.kind = "systemd";
    // Below a user manager (user@1000.service/...) the unit is the user's own.
    for (size_t j = 0; j < i; ++j)
      if (starts_with(parts[j], "user@") && ends_with(parts[j], ".service")) out.kind = "systemd-user";
    return true;
  }
  return false;
}

}  // namespace

std::string exe_basename(std::string_view exe) {
  size_t slash = exe.rfind('/');
  std::string_view base = slash == std::string_view::npos ? exe : exe.substr(slash + 1);
  return std::string(base.substr(0, 64));
}

std::pair<std::string, std::string> bounded_unit_name(std::string_view unit) {
  size_t dot = unit.rfind('.');
  if (dot == std::string_view::npos) return {std::string(unit), ""};
  std::string_view stem = unit.substr(0, dot), suffix = unit.substr(dot);
  if (size_t at = stem.find('@'); at != std::string_view::npos)
    return {std::string(stem.substr(0, at + 1)) + std::string(suffix), std::string(stem.substr(at + 1))};
  // Scopes and transient units carry a counter or random tail: session-3.scope,
  // run-r0123abcd.scope, run-u12.service.
  if (size_t dash = stem.rfind('-'); dash != std::string_view::npos && dash + 1 < stem.size()) {
    std::string_view tail = stem.substr(dash + 1);
    bool counter = all_of_chars(tail, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    bool transient = (tail[0] == 'r' || tail[0] == 'u') && tail.size() > 1 &&
                     all_of_chars(tail.substr(1), is_hex) && starts_with(stem, "run-");
    if (counter || transient)
      return {std::string(stem.substr(0, dash)) + std::string(suffix), std::string(tail)};
  }
  return {std::string(unit), ""};
}

StartLabels labels_from_cgroup(std::string_view path, std::string_view exe) {
  StartLabels out;
  std::vector<std::string> parts = components(path);
  if (kubernetes_labels(parts, exe, out)) return out;
  if (container_labels(parts, exe, out)) return out;
  if (systemd_labels(parts, out)) return out;
  out.service = exe_basename(exe);
  out.kind = !parts.empty() && parts[0] == "coldstart" ? "coldstart" : "cgroup";
  return out;
}

StartLabels labels_for_match(std::string_view exe) {
  StartLabels out;
  out.service = exe_basename(exe);
  out.kind = "match";
  return out;
}

}  // namespace coldstart::watch
