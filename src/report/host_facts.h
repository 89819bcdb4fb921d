// Facts about the machine and the source tree that a saved bench is tagged
// with, so a trend across kernels, CPUs or commits can be told apart.
#pragma once

#include <optional>
#include <string>

namespace coldstart::report {

/// What the machine was when a bench ran: read from uname(2), /proc and statfs(2).
struct HostFacts {
  std::string hostname;
  std::string kernel;          // uname release, e.g. "6.1.0-18-amd64"
  std::string cpu_model;       // /proc/cpuinfo "model name", "" if absent
  std::string cgroup_version;  // "v2", "hybrid" (v1 controllers + v2 at unified/) or "v1"
};

/// Reads the running machine's facts; fields it cannot read stay empty.
HostFacts collect_host_facts();

/// The commit checked out in the git work tree containing `dir` (walking up
/// from it), read from .git/HEAD, refs/ and packed-refs without running git.
/// nullopt outside a repository or when HEAD cannot be resolved.
std::optional<std::string> git_revision(const std::string& dir);

}  // namespace coldstart::report
