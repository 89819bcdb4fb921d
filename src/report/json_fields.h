// Type-checked access to fields of untrusted JSON for report/'s readers:
// a missing or null field is "absent"; a field of the wrong type is one
// UserError naming the file and the JSON path ("a.json: results[2].times is
// not an array").
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace coldstart::report {

/// JsonAt names a value for error messages: the file and the path inside it.
struct JsonAt {
  std::string_view source;
  std::string path;
  JsonAt key(std::string_view k) const { return {source, path.empty() ? std::string(k) : path + "." + std::string(k)}; }
  JsonAt index(size_t i) const { return {source, path + "[" + std::to_string(i) + "]"}; }
};

[[noreturn]] void json_error(const JsonAt& at, std::string_view what);

/// The string at obj[key], "" when absent.
std::string opt_string(const nlohmann::json& obj, std::string_view key, const JsonAt& at);

/// The finite number at the first of `keys` present, nullopt when none is.
std::optional<double> opt_number(const nlohmann::json& obj, std::initializer_list<std::string_view> keys,
                                 const JsonAt& at);

/// The array at obj[key], nullptr when absent.
const nlohmann::json* opt_array(const nlohmann::json& obj, std::string_view key, const JsonAt& at);

/// The object at obj[key], nullptr when absent.
const nlohmann::json* opt_object(const nlohmann::json& obj, std::string_view key, const JsonAt& at);

/// Requires obj to be an object.
void expect_object(const nlohmann::json& obj, const JsonAt& at);

}  // namespace coldstart::report
