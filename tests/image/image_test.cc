// Tests of src/image and of `bench --image` / `inspect IMAGE` end to end.
//
// Two kinds of images: ones written here, layer by layer, with libarchive
// (whiteouts, opaque directories, hard links, a corrupted blob: what podman
// cannot produce FROM scratch), and real ones that the ImageFixtures.build
// test built with podman from the example services (COLDSTART_IMAGE_DIR).
// Each test uses its own XDG_CACHE_HOME under the build tree.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "image/digest.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/tree.h"
#include "test_util.h"

namespace coldstart::image {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

struct Entry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hard link
  std::string data;  // file content, or link target
  mode_t mode = 0644;
};

std::string make_tar(const std::vector<Entry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* buf, const void* data, size_t n) -> la_ssize_t {
        static_cast<std::string*>(buf)->append(static_cast<const char*>(data), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_mode(ae, e.mode);
    archive_entry_set_mtime(ae, 1700000000, 0);
    switch (e.type) {
      case 'd': archive_entry_set_filetype(ae, AE_IFDIR); archive_entry_set_perm(ae, 0755); break;
      case 'l': archive_entry_set_filetype(ae, AE_IFLNK); archive_entry_set_symlink(ae, e.data.c_str()); break;
      case 'h': archive_entry_set_filetype(ae, AE_IFREG); archive_entry_set_hardlink(ae, e.data.c_str()); break;
      default:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, e.mode);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, ae);
    if (e.type == 'f') archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string put_blob(const std::string& dir, const std::string& bytes) {
  std::string d = sha256_of(bytes);
  write_file(dir + "/blobs/sha256/" + digest_hex(d), bytes);
  return d;
}

/// Writes an OCI layout with these layer tars (bottom first); returns the layer digests.
std::vector<std::string> make_layout(const std::string& dir, const std::vector<std::string>& layers,
                                     const nlohmann::json& run_config = nlohmann::json::object()) {
  std::filesystem::create_directories(dir + "/blobs/sha256");
  write_file(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  nlohmann::json diff_ids = nlohmann::json::array(), descs = nlohmann::json::array();
  std::vector<std::string> digests;
  for (const auto& l : layers) {
    std::string d = put_blob(dir, l);
    digests.push_back(d);
    diff_ids.push_back(d);
    descs.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", d}, {"size", l.size()}});
  }
  nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", run_config},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  std::string cfg = config.dump();
  std::string cfg_digest = put_blob(dir, cfg);
  nlohmann::json manifest = {{"schemaVersion", 2}, {"mediaType", kMediaManifest},
                             {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", cfg_digest}, {"size", cfg.size()}}},
                             {"layers", descs}};
  std::string m = manifest.dump();
  std::string m_digest = put_blob(dir, m);
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests", {{{"mediaType", kMediaManifest}, {"digest", m_digest}, {"size", m.size()},
                                          {"annotations", {{"org.opencontainers.image.ref.name", "test"}}},
                                          {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  write_file(dir + "/index.json", index.dump());
  return digests;
}

// Layer 0: a shell and what it loads, copied from the host.
std::string shell_layer() {
  std::vector<Entry> e = {{"bin", 'd', ""}, {"lib", 'd', ""}, {"lib/x86_64-linux-gnu", 'd', ""}, {"lib64", 'd', ""}};
  e.push_back({"bin/sh", 'f', test::read_text("/bin/dash"), 0755});
  e.push_back({"lib/x86_64-linux-gnu/libc.so.6", 'f', test::read_text("/lib/x86_64-linux-gnu/libc.so.6"), 0755});
  e.push_back({"lib64/ld-linux-x86-64.so.2", 'f', test::read_text("/lib64/ld-linux-x86-64.so.2"), 0755});
  return make_tar(e);
}

// Layer 1 adds files; layer 2 deletes /a/file (whiteout) and hides /d's
// lower contents (opaque), adding /d/new.
std::vector<std::string> whiteout_layers() {
  return {make_tar({{"a", 'd', ""}, {"a/file", 'f', "gone"}, {"a/keep", 'f', "kept"}, {"d", 'd', ""}, {"d/x", 'f', "hidden"},
                    {"d/sub", 'd', ""}, {"d/sub/y", 'f', "hidden"}, {"h1", 'f', "hello\n"}, {"h2", 'h', "h1"}}),
          make_tar({{"a", 'd', ""}, {"a/.wh.file", 'f', ""}, {"d", 'd', ""}, {"d/.wh..wh..opq", 'f', ""}, {"d/new", 'f', "new"}})};
}

class ImageLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "unpacking whiteouts and trusted.* xattrs needs root";
    ::setenv("XDG_CACHE_HOME", cache_.path().c_str(), 1);
  }
  std::string layers_dir() const { return cache_.path() + "/coldstart/layers/sha256"; }
  TempDir cache_;
  TempDir work_;
};

TEST_F(ImageLayers, WhiteoutsAndOpaqueDirectoriesHideLowerFiles) {
  make_layout(work_.path() + "/img", whiteout_layers());
  Image img = open_image(work_.path() + "/img");
  ASSERT_EQ(img.layers.size(), 2u);
  auto layers = unpack_layers(img);
  EXPECT_EQ(layers[1].stats.whiteouts, 1u);
  EXPECT_EQ(layers[1].stats.opaque_dirs, 1u);
  // The overlayfs form on disk.
  struct stat st {};
  ASSERT_EQ(::lstat((layers[1].dir + "/a/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  char v[2] = {};
  EXPECT_EQ(::getxattr((layers[1].dir + "/d").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  // The merged view.
  Tree t = merge_layers({layers[0].dir, layers[1].dir});
  EXPECT_FALSE(t.nodes.count("/a/file"));
  EXPECT_TRUE(t.nodes.count("/a/keep"));
  EXPECT_FALSE(t.nodes.count("/d/x"));
  EXPECT_FALSE(t.nodes.count("/d/sub/y"));
  EXPECT_EQ(t.nodes.at("/d/new").layer, 1);
  // Cached: a second unpack reuses it.
  EXPECT_FALSE(unpack_layers(img)[0].unpacked_now);
}

TEST_F(ImageLayers, HardLinksShareAnInode) {
  make_layout(work_.path() + "/img", whiteout_layers());
  auto layers = unpack_layers(open_image(work_.path() + "/img"));
  struct stat a {}, b {};
  ASSERT_EQ(::stat((layers[0].dir + "/h1").c_str(), &a), 0);
  ASSERT_EQ(::stat((layers[0].dir + "/h2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(layers[0].stats.hardlinks, 1u);
}

TEST_F(ImageLayers, DigestMismatchIsAnErrorAndLeavesNothingCached) {
  auto digests = make_layout(work_.path() + "/img", {make_tar({{"f", 'f', "original content"}})});
  // Same size, other bytes: only the digest can tell.
  std::string blob = work_.path() + "/img/blobs/sha256/" + digest_hex(digests[0]);
  std::string bytes = test::read_text(blob);
  bytes[bytes.find("original")] = 'O';
  write_file(blob, bytes);
  Image img = open_image(work_.path() + "/img");
  try {
    unpack_layers(img);
    FAIL() << "no error for a corrupted layer";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not match its content"));
  }
  for (const auto& e : std::filesystem::directory_iterator(layers_dir())) ADD_FAILURE() << "left in the cache: " << e.path();
}

TEST_F(ImageLayers, AWhiteoutThroughASymlinkIsRefused) {
  // "a -> <outside>", then "a/.wh.victim": must not delete the host's file.
  const std::string outside = work_.path() + "/outside";
  std::filesystem::create_directories(outside);
  write_file(outside + "/victim", "keep me");
  make_layout(work_.path() + "/img", {make_tar({{"a", 'l', outside}, {"a/.wh.victim", 'f', ""}})});
  EXPECT_THROW(unpack_layers(open_image(work_.path() + "/img")), UserError);
  EXPECT_TRUE(std::filesystem::exists(outside + "/victim"));
}

TEST(ImageManifest, IndexPicksLinuxAmd64AndRejectsBadDocuments) {
  const std::string a(64, 'a'), b(64, 'b');
  std::string index = R"({"manifests":[{"digest":"sha256:)" + a + R"(","size":1,"platform":{"os":"linux","architecture":"arm64"}},
    {"digest":"sha256:)" + b + R"(","size":2,"platform":{"os":"linux","architecture":"amd64"}}]})";
  EXPECT_EQ(pick_manifest(index, "t").digest, "sha256:" + b);
  EXPECT_THROW(pick_manifest(R"({"manifests":[{"digest":"sha256:)" + a +
                                 R"(","size":1,"platform":{"os":"linux","architecture":"arm64"}}]})", "t"),
               UserError);
  EXPECT_THROW(pick_manifest("{not json", "t"), UserError);
  EXPECT_THROW(pick_manifest(R"({"manifests":[{"digest":"md5:x","size":1}]})", "t"), UserError);
  EXPECT_THROW(parse_oci_manifest(R"({"config":{"digest":"sha256:)" + a + R"(","size":1},"layers":[{"digest":"sha256:)" +
                                      a + R"(","size":1,"mediaType":"application/x-encrypted"}]})", "t"),
               UserError);
  EXPECT_THROW(parse_docker_manifest("[]", "t"), UserError);
}

// ---- end to end through the CLI ----

// The podman-built images: the first test process to ask builds them (under
// an flock, so parallel tests wait for it), later ones find the stamp.
std::string images() {
  static bool ready = false;
  const std::string dir = COLDSTART_IMAGE_DIR;
  if (ready) return dir;
  int lock = ::open((dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) std::abort();
  if (!std::filesystem::exists(dir + "/stamp")) {
    auto r = test::run_shell(std::string(COLDSTART_BUILD_IMAGES) + " " + COLDSTART_FIXTURE_DIR + " " + dir +
                             " && touch " + dir + "/stamp");
    if (r.exit_code != 0) ADD_FAILURE() << "building the images failed: " << r.err;
  }
  ::close(lock);
  ready = true;
  return dir;
}

test::CommandResult coldstart(const std::string& cache, const std::string& args) {
  return test::run_shell("XDG_CACHE_HOME=" + cache + " " + test::coldstart_binary() + " " + args);
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// Nothing of ours is mounted in our namespace (mounts live in the launches' own).
void expect_nothing_mounted(const std::string& cache) {
  std::string mounts = test::read_text("/proc/self/mountinfo");
  EXPECT_THAT(mounts, ::testing::Not(HasSubstr(cache))) << mounts;
}

TEST_F(ImageLayers, WhiteoutsHoldInTheMountedImage) {
  auto l = whiteout_layers();
  l.insert(l.begin(), shell_layer());
  make_layout(work_.path() + "/img", l, {{"Entrypoint", {"/bin/sh", "-c"}}, {"WorkingDir", "/d"}});
  // Each check names itself on stderr when it fails (the run's failure shows it).
  std::string script;
  for (const char* check : {"test ! -e /a/file", "test -e /a/keep", "test ! -e /d/x", "test ! -e /d/sub", "test -e new",
                            "read x < /h2", "test \\$x = hello", "test ! -e /upper-only", ": > /upper-only"}) {
    script += std::string(script.empty() ? "" : " && ") + "{ " + check + " || { echo failed: " + check + " >&2; exit 1; }; }";
  }
  auto r = coldstart(cache_.path(), "bench --runs 2 --warmup 0 --ready exit --image " + work_.path() + "/img \"/bin/sh -c '" +
                                        script + "'\" --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = nlohmann::json::parse(r.out);
  for (const auto& run : j["results"][0]["runs"]) {
    EXPECT_TRUE(run["ready"].get<bool>());
    EXPECT_GT(run["mount_time"].get<double>(), 0);
  }
  // The upper layer was a per-run tmpfs: the second run did not see the
  // first one's /upper-only, and nothing was written to the cache.
  EXPECT_FALSE(std::filesystem::exists(cache_.path() + "/coldstart/mnt/upper-only"));
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageLayers, BrokenImagesAreOneErrorLine) {
  const std::string dir = work_.path() + "/img";
  make_layout(dir, {make_tar({{"f", 'f', "x"}})});
  write_file(dir + "/index.json", "{\"manifests\": [");
  auto r = coldstart(cache_.path(), "bench --image " + dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("coldstart: error: ")) << r.err;

  const std::string dir2 = work_.path() + "/img2";
  auto digests = make_layout(dir2, {make_tar({{"f", 'f', "x"}})});
  std::filesystem::remove(dir2 + "/blobs/sha256/" + digest_hex(digests[0]));
  r = coldstart(cache_.path(), "inspect " + dir2);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing layer blob")) << r.err;

  write_file(work_.path() + "/trunc.tar", test::read_text(images() + "/go.oci.tar").substr(0, 30000));
  r = coldstart(cache_.path(), "bench --image " + work_.path() + "/trunc.tar");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

class ImageRun : public ImageLayers {};

// An independent unpacker (umoci) must see the same files, with the same
// content and mode, as our merged view of the layer cache.
void expect_same_as_umoci(const std::string& layout, const std::string& ref, const std::string& work) {
  const std::string bundle = work + "/umoci-rootfs";
  std::filesystem::create_directories(work);
  auto r = test::run_shell("umoci raw unpack --image '" + layout + ":" + ref + "' " + bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> dirs;
  for (const auto& l : unpack_layers(open_image(layout))) dirs.push_back(l.dir);
  Tree t = merge_layers(dirs);
  std::map<std::string, std::string> theirs, ours;
  auto describe = [](const std::string& host) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return std::string("missing");
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
    if (S_ISREG(st.st_mode)) d += " " + sha256_of(test::read_text(host));
    if (S_ISLNK(st.st_mode)) d += " -> " + std::filesystem::read_symlink(host).string();
    return d;
  };
  for (const auto& e : std::filesystem::recursive_directory_iterator(bundle)) {
    std::string path = e.path().string().substr(bundle.size());
    if (!e.is_directory() || e.is_symlink()) theirs[path] = describe(e.path().string());
  }
  for (const auto& [path, node] : t.nodes) {
    if (node.type != Node::Type::kDir) ours[path] = describe(t.host_path(path));
  }
  EXPECT_FALSE(theirs.empty());
  EXPECT_EQ(ours, theirs);
}

TEST_F(ImageRun, UnpackedLayersMatchUmoci) {
  // A podman image as an OCI layout directory (the third input form).
  const std::string layout = work_.path() + "/cpp-layout";
  std::filesystem::create_directories(layout);
  ASSERT_EQ(test::run_shell("tar xf " + images() + "/cpp.oci.tar -C " + layout).exit_code, 0);
  expect_same_as_umoci(layout, "localhost/coldstart-test/cpp:1", work_.path() + "/a");
  // Whiteouts, an opaque directory and hard links.
  make_layout(work_.path() + "/wh", whiteout_layers());
  expect_same_as_umoci(work_.path() + "/wh", "test", work_.path() + "/b");
  EXPECT_TRUE(std::filesystem::exists(work_.path() + "/b/umoci-rootfs/a/keep"));
  EXPECT_FALSE(std::filesystem::exists(work_.path() + "/b/umoci-rootfs/a/file"));
}

TEST_F(ImageRun, GoImageInBothFormatsAgainstTheSameBinaryOutside) {
  for (const char* format : {"oci", "docker"}) {
    auto r = coldstart(cache_.path(), std::string("bench --runs 3 --warmup 1 --ready notify --env ADDR=127.0.0.1:0 --json ") +
                                          "--image " + images() + "/go." + format + ".tar --outside " +
                                          test::fixture("go-user-service-static"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["results"].size(), 2u);
    for (const auto& run : j["results"][0]["runs"]) {
      EXPECT_TRUE(run["ready"].get<bool>());
      EXPECT_GT(run["mount_time"].get<double>(), 0);
      EXPECT_GT(run["overlay_mount_time"].get<double>(), 0);
      EXPECT_LT(run["mount_time"].get<double>(), run["time_to_ready"].get<double>());
      EXPECT_GT(run["exec_to_ready"].get<double>(), 0);
    }
    for (const auto& run : j["results"][1]["runs"]) EXPECT_FALSE(run.contains("mount_time"));
  }
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageRun, CppImageWithItsLibrariesInLayersOfTheirOwn) {
  auto r = coldstart(cache_.path(), "inspect --json " + images() + "/cpp.oci.tar");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto img = nlohmann::json::parse(r.out)["images"][0];
  ASSERT_GE(img["layers"].size(), 4u);
  EXPECT_EQ(img["entrypoint"][0], "/usr/local/bin/user-service");
  bool libc = false;
  for (const auto& f : img["needed_files"]) {
    EXPECT_GE(f["layer"].get<int>(), 0) << f;
    if (f["path"].get<std::string>().ends_with("/libc.so.6")) libc = f["layer"].get<int>() < static_cast<int>(img["layers"].size()) - 1;
  }
  EXPECT_TRUE(libc) << img.dump(1);
  r = coldstart(cache_.path(), "bench --runs 2 --warmup 0 --cold --ready notify --json --image " + images() + "/cpp.docker.tar");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& run : nlohmann::json::parse(r.out)["results"][0]["runs"]) EXPECT_TRUE(run["ready"].get<bool>());
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageRun, ManySmallLayersAndRelayering) {
  const std::pair<std::string, std::string> cases[] = {{"", "25"}, {" --relayer 1", "1"}, {" --relayer 128:top", "128"}};
  for (const auto& [relayer, expect] : cases) {
    auto r = coldstart(cache_.path(), std::string("bench --runs 1 --warmup 0 --ready notify --json --image ") + images() +
                                          "/many.oci.tar" + relayer);
    ASSERT_EQ(r.exit_code, 0) << relayer << r.err;
    auto c = nlohmann::json::parse(r.out)["results"][0];
    EXPECT_TRUE(c["runs"][0]["ready"].get<bool>());
    EXPECT_THAT(c["notes"].dump(), HasSubstr(expect + " layers mounted")) << c["notes"];
  }
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageRun, PrewarmRecordSaysWhichShareOfTheImageTheStartRead) {
  const std::string manifest = work_.path() + "/go.manifest";
  auto r = coldstart(cache_.path(), "prewarm record --ready notify -o " + manifest + " --image " + images() + "/cpp.oci.tar");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("of the image's bytes")) << r.out;
  auto m = nlohmann::json::parse(test::read_text(manifest));
  ASSERT_FALSE(m["files"].empty());
  // The manifest names layer files in the cache (what prewarm apply loads), libc among them.
  bool libc = false;
  for (const auto& f : m["files"]) {
    EXPECT_THAT(f["path"].get<std::string>(), HasSubstr(cache_.path() + "/coldstart/layers/sha256/"));
    libc = libc || f["path"].get<std::string>().ends_with("/libc.so.6");
  }
  EXPECT_TRUE(libc);
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageRun, TraceInsideTheImage) {
  auto r = coldstart(cache_.path(), "trace --ready notify --image " + images() + "/go.oci.tar");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("ready after")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("entering it")) << r.out;
  expect_nothing_mounted(cache_.path());
}

TEST_F(ImageRun, WithoutRootOneErrorLine) {
  auto r = test::run_shell("XDG_CACHE_HOME=" + cache_.path() + " setpriv --reuid=65534 --regid=65534 --clear-groups " +
                           test::coldstart_binary() + " bench --image " + images() + "/go.oci.tar");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs root")) << r.err;
}

}  // namespace
}  // namespace coldstart::image
