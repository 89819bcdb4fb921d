// Fuzzes what an image hands us before any layer is unpacked: the first byte
// picks the parser, the rest is its input.
//   0: an OCI index (pick_manifest)     1: an OCI manifest
//   2: an image config                  3: docker-archive's manifest.json
//   4+: an archive (in a memfd): listed, then opened as an image (index,
//       manifest and config read from it, digests checked)
// Every input either parses or throws UserError; nothing else may escape.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "image/image.h"
#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coldstart::image;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0]) {
      case 0: (void)pick_manifest(text, "fuzz"); break;
      case 1: (void)parse_oci_manifest(text, "fuzz"); break;
      case 2: (void)parse_config(text, "fuzz"); break;
      case 3: (void)parse_docker_manifest(text, "fuzz"); break;
      default: {
        int fd = ::memfd_create("image", MFD_CLOEXEC);
        if (fd < 0) return 0;
        if (::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
          try {
            (void)open_image("/proc/self/fd/" + std::to_string(fd));
          } catch (const coldstart::UserError&) {
          }
        }
        ::close(fd);
      }
    }
  } catch (const coldstart::UserError&) {
  }
  return 0;
}
