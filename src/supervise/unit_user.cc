// Resolving a unit's User=/Group=/SupplementaryGroups= into Credentials.
//
// systemd.exec(5): User= takes a name or a numeric uid; with User= set and no
// Group=, the user's primary group is used; the user's supplementary groups
// from the group database (initgroups) are always set, and SupplementaryGroups=
// adds more (an empty assignment resets the list). Group= alone changes the
// group and leaves the user root. DynamicUser= allocates a transient uid,
// which coldstart does not do: it is refused rather than silently ignored
// (the service would otherwise run as root).
#include "supervise/unit_user.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "unit/unit_file_values.h"

namespace coldstart::supervise {
// The unit layer's syntax tree and value grammars, read throughout.
using namespace unit;
namespace {

[[noreturn]] void refuse(const UnitEntry& e, const std::string& msg) {
  throw UserError(fmt::format("{}: {}", to_string(e.value_pos), msg));
}

std::optional<unsigned> numeric(const std::string& v) {
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

gid_t resolve_group(const UnitEntry& e, const std::string& name) {
  if (auto n = numeric(name)) return static_cast<gid_t>(*n);
  const group* g = ::getgrnam(name.c_str());
  if (g == nullptr) refuse(e, fmt::format("{}={}: no such group", e.key, name));
  return g->gr_gid;
}

}  // namespace

std::optional<Credentials> unit_credentials(const UnitFile& unit) {
  if (const UnitEntry* d = unit.last("Service", "DynamicUser")) {
    Result<bool> on = parse_boolean(d->value);
    if (!on) refuse(*d, "DynamicUser=" + d->value + ": " + on.error());
    if (*on)
      refuse(*d, "DynamicUser=yes is not supported by coldstart run (set User= to an existing user)");
  }
  const UnitEntry* user = unit.last("Service", "User");
  const UnitEntry* group = unit.last("Service", "Group");
  std::vector<const UnitEntry*> extra = unit.all("Service", "SupplementaryGroups");
  if ((user == nullptr || user->value.empty()) && (group == nullptr || group->value.empty()) && extra.empty())
    return std::nullopt;

  Credentials c;
  std::string user_name;
  if (user != nullptr && !user->value.empty()) {
    const passwd* pw = nullptr;
    if (auto n = numeric(user->value)) pw = ::getpwuid(static_cast<uid_t>(*n));
    else pw = ::getpwnam(user->value.c_str());
    if (pw == nullptr) {
      if (auto n = numeric(user->value)) {
        c.uid = static_cast<uid_t>(*n);  // a uid without a passwd entry: its group is its uid
        c.gid = static_cast<gid_t>(*n);
      } else {
        refuse(*user, "User=" + user->value + ": no such user");
      }
    } else {
      c.uid = pw->pw_uid;
      c.gid = pw->pw_gid;
      user_name = pw->pw_name;
    }
  }
  if (group != nullptr && !group->value.empty()) c.gid = resolve_group(*group, group->value);
  if (!user_name.empty()) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    while (::getgrouplist(user_name.c_str(), c.gid, groups.data(), &n) < 0) groups.resize(static_cast<size_t>(n));
    groups.resize(static_cast<size_t>(n));
    c.groups = groups;
  }
  for (const UnitEntry* e : extra) {
    for (const std::string& name : split(e->value, ' '))
      if (!trim(name).empty()) c.groups.push_back(resolve_group(*e, std::string(trim(name))));
  }
  std::sort(c.groups.begin(), c.groups.end());
  c.groups.erase(std::unique(c.groups.begin(), c.groups.end()), c.groups.end());
  return c;
}

}  // namespace coldstart::supervise
