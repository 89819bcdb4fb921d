// What a failed launch said last, for the failure message: a server that
// cannot start often writes why to stdout (redis: "Could not create server
// TCP listening socket ... bind: Address already in use"), so both streams
// are shown, each labelled.
#pragma once

#include <string>

#include "launch/launcher.h"

namespace coldstart::launch {

/// "stdout ends with:\n  LINE\n...stderr ends with:\n  LINE\n" for the
/// captured streams that wrote anything; "" when neither did.
std::string output_tails(const RunRecord& record);

}  // namespace coldstart::launch
