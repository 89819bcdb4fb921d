// SHA-256 content digests ("sha256:<64 hex>") as OCI descriptors name blobs.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace coldstart::image {

/// Sha256 hashes a stream fed in pieces (a blob copied out of an archive, a
/// layer decompressed on the fly); digest() gives the OCI spelling.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  /// "sha256:<hex>"; the hasher is finished afterwards.
  std::string digest();

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

/// "sha256:<hex>" of `bytes`.
std::string sha256_of(std::string_view bytes);

/// True for "sha256:" followed by exactly 64 lower-case hex digits (the only
/// digests we accept: they become cache paths).
bool valid_digest(std::string_view digest);

/// The hex part of a valid digest.
inline std::string digest_hex(std::string_view digest) { return std::string(digest.substr(7)); }

}  // namespace coldstart::image
