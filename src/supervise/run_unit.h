// `run --unit FILE.service`: what a systemd service unit (and the .socket
// unit beside it) means for coldstart's supervisor. The unit syntax and the
// value grammars are the unit layer's (src/unit, shared with lint); this file only maps
// the settings onto SupervisorOptions and lists the keys it does not act on.
#pragma once

#include <string>
#include <vector>

#include "supervise/supervisor.h"
#include "unit/unit_file_service.h"

namespace coldstart::supervise {

/// A unit read for `run`.
struct UnitRunConfig {
  SupervisorOptions options;
  /// "Section.Key" of every assignment coldstart run does not act on, once each.
  std::vector<std::string> unsupported;
};

/// Reads FILE.service (with drop-ins) and, if present, FILE.socket beside it.
/// Throws UserError (with file:line:col) for values systemd would reject, an
/// unsupported Type=, Accept=yes, or a missing ExecStart=.
UnitRunConfig read_unit_for_run(const std::string& path);

/// Maps an already parsed service (and optional socket) unit; `read_unit_for_run`
/// without the file system, for tests.
UnitRunConfig unit_to_options(const unit::UnitFile& service, const unit::UnitFile* socket);

/// systemd's ListenStream= forms: "8080", "127.0.0.1:8080", "[::1]:80",
/// "/run/x.sock", "@name". Throws UserError.
ListenAddress listen_stream_address(const std::string& value);

/// An EnvironmentFile= as systemd reads it (KEY=VALUE lines, '#'/';'
/// comments, optional single/double quotes, "export " ignored, backslash
/// line continuation). Throws UserError naming file:line for a bad line.
std::vector<std::string> read_environment_file(const std::string& path);

/// The same over text already read; `origin` names it in errors (fuzzed:
/// fuzz/targets_supervise.cmake).
std::vector<std::string> parse_environment_text(std::string_view text, const std::string& origin);

}  // namespace coldstart::supervise
