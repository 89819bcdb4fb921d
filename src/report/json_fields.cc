#include "report/json_fields.h"

#include <cmath>

#include "core/error.h"

namespace coldstart::report {

using nlohmann::json;

void json_error(const JsonAt& at, std::string_view what) {
  throw UserError(std::string(at.source) + ": " + (at.path.empty() ? std::string("the document") : at.path) + " " +
                  std::string(what));
}

namespace {
const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

std::string opt_string(const json& obj, std::string_view key, const JsonAt& at) {
  const json* v = find(obj, key);
  if (!v) return {};
  if (!v->is_string()) json_error(at.key(key), "is not a string");
  return v->get<std::string>();
}

std::optional<double> opt_number(const json& obj, std::initializer_list<std::string_view> keys, const JsonAt& at) {
  for (std::string_view key : keys) {
    const json* v = find(obj, key);
    if (!v) continue;
    if (!v->is_number()) json_error(at.key(key), "is not a number");
    double d = v->get<double>();
    if (!std::isfinite(d)) json_error(at.key(key), "is not finite");
    return d;
  }
  return std::nullopt;
}

const json* opt_array(const json& obj, std::string_view key, const JsonAt& at) {
  const json* v = find(obj, key);
  if (v && !v->is_array()) json_error(at.key(key), "is not an array");
  return v;
}

const json* opt_object(const json& obj, std::string_view key, const JsonAt& at) {
  const json* v = find(obj, key);
  if (v && !v->is_object()) json_error(at.key(key), "is not an object");
  return v;
}

void expect_object(const json& obj, const JsonAt& at) {
  if (!obj.is_object()) json_error(at, "is not an object");
}

}  // namespace coldstart::report
