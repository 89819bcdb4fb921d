// Printers of `coldstart inspect IMAGE` (the model is image::ImageReport).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "image/inspect.h"

namespace coldstart::cli {

nlohmann::ordered_json image_report_json(const image::ImageReport& r);
std::string image_report_text(const image::ImageReport& r);

}  // namespace coldstart::cli
