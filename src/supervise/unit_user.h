// User=, Group=, SupplementaryGroups= and DynamicUser= of a service unit, as
// `run --unit` applies them (systemd.exec(5)).
#pragma once

#include <optional>

#include "core/process.h"
#include "unit/unit_file.h"

namespace coldstart::supervise {

/// The identity the service's processes take, or nullopt when the unit sets
/// none of User=, Group=, SupplementaryGroups=. Names or numeric ids are
/// resolved here (getpwnam/getgrnam). Group= defaults to the user's primary
/// group; the supplementary groups are the user's own (getgrouplist, as
/// systemd does) plus SupplementaryGroups=. Throws UserError with file:line:col
/// for an unknown user or group and for DynamicUser=yes (unsupported).
std::optional<Credentials> unit_credentials(const unit::UnitFile& unit);

}  // namespace coldstart::supervise
