// report --history LABEL: the trend of median and p95 over the sessions saved
// under one label, one line pair per command.
#pragma once

#include <string>
#include <vector>

#include "report/history.h"

namespace coldstart::report {

/// The HTML of the trend (id history-trend; class "trend"). Sessions oldest first.
std::string trend_html(const std::string& label, const std::vector<Session>& sessions);

}  // namespace coldstart::report
