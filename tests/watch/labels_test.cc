// labels_from_cgroup over the paths systemd, kubelet (both cgroup drivers),
// containerd, CRI-O, Docker and podman really make.
#include "watch/labels.h"

#include <gtest/gtest.h>

namespace coldstart::watch {
namespace {

TEST(WatchLabels, SystemdServiceUnit) {
  StartLabels l = labels_from_cgroup("/system.slice/nginx.service", "/usr/sbin/nginx");
  EXPECT_EQ(l.service, "nginx.service");
  EXPECT_EQ(l.kind, "systemd");
  EXPECT_EQ(l.unit, "nginx.service");
  EXPECT_EQ(l.instance, "");
}

TEST(WatchLabels, TemplatedUnitKeepsTheInstanceOutOfTheLabel) {
  StartLabels l = labels_from_cgroup("/system.slice/system-getty.slice/getty@tty1.service", "/sbin/agetty");
  EXPECT_EQ(l.service, "getty@.service");
  EXPECT_EQ(l.unit, "getty@tty1.service");
  EXPECT_EQ(l.instance, "tty1");
  StartLabels ssh = labels_from_cgroup(
      "/system.slice/system-sshd.slice/sshd@12-10.0.0.1:22-10.0.0.2:51514.service", "/usr/sbin/sshd");
  EXPECT_EQ(ssh.service, "sshd@.service");
}

TEST(WatchLabels, DelegatedSubcgroupBelongsToItsUnit) {
  StartLabels l = labels_from_cgroup("/system.slice/foo.service/payload", "/opt/foo/bin/foo");
  EXPECT_EQ(l.service, "foo.service");
  EXPECT_EQ(l.kind, "systemd");
}

TEST(WatchLabels, UserSliceUnits) {
  StartLabels app = labels_from_cgroup(
      "/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service", "/usr/bin/syncthing");
  EXPECT_EQ(app.service, "syncthing.service");
  EXPECT_EQ(app.kind, "systemd-user");
  StartLabels manager = labels_from_cgroup("/user.slice/user-1000.slice/user@1000.service/init.scope",
                                           "/lib/systemd/systemd");
  EXPECT_EQ(manager.service, "init.scope");
  EXPECT_EQ(manager.kind, "systemd-user");
  StartLabels session = labels_from_cgroup("/user.slice/user-1000.slice/session-3.scope", "/bin/bash");
  EXPECT_EQ(session.service, "session.scope");
  EXPECT_EQ(session.instance, "3");
  EXPECT_EQ(session.kind, "systemd");
  StartLabels transient = labels_from_cgroup("/system.slice/run-r3f2a9c81b2f54a6b.scope", "/bin/sleep");
  EXPECT_EQ(transient.service, "run.scope");
}

TEST(WatchLabels, KubernetesCgroupfsDriver) {
  StartLabels l = labels_from_cgroup(
      "/kubepods/burstable/pod0f4c6a4e-4a53-4b8e-9d3c-7e1e2a5b9c10/"
      "3b1f0c2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef",
      "/usr/local/bin/api");
  EXPECT_EQ(l.kind, "kubernetes");
  EXPECT_EQ(l.service, "api");
  EXPECT_EQ(l.qos, "burstable");
  EXPECT_EQ(l.pod_uid, "0f4c6a4e-4a53-4b8e-9d3c-7e1e2a5b9c10");
  EXPECT_EQ(l.container_id, "3b1f0c2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef");
  StartLabels g = labels_from_cgroup("/kubepods/pod11111111-2222-3333-4444-555555555555/abcdef0123456789",
                                     "/app");
  EXPECT_EQ(g.qos, "guaranteed");
  EXPECT_EQ(g.pod_uid, "11111111-2222-3333-4444-555555555555");
}

TEST(WatchLabels, KubernetesSystemdDriverWithEachRuntime) {
  const std::string pod = "/kubepods.slice/kubepods-besteffort.slice/"
                          "kubepods-besteffort-pod0f4c6a4e_4a53_4b8e_9d3c_7e1e2a5b9c10.slice/";
  StartLabels c = labels_from_cgroup(pod + "cri-containerd-3b1f0c2d4e5f6071.scope", "/bin/redis-server");
  EXPECT_EQ(c.kind, "kubernetes");
  EXPECT_EQ(c.qos, "besteffort");
  EXPECT_EQ(c.pod_uid, "0f4c6a4e-4a53-4b8e-9d3c-7e1e2a5b9c10");
  EXPECT_EQ(c.runtime, "containerd");
  EXPECT_EQ(c.container_id, "3b1f0c2d4e5f6071");
  EXPECT_EQ(c.service, "redis-server");
  EXPECT_EQ(labels_from_cgroup(pod + "crio-aa11bb22cc33.scope", "/x").runtime, "cri-o");
  EXPECT_EQ(labels_from_cgroup(pod + "docker-aa11bb22cc33.scope", "/x").runtime, "docker");
  StartLabels guaranteed = labels_from_cgroup(
      "/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/crio-aa11bb22cc33.scope", "/x");
  EXPECT_EQ(guaranteed.qos, "guaranteed");
  EXPECT_EQ(guaranteed.pod_uid, "11111111-2222-3333-4444-555555555555");
}

TEST(WatchLabels, DockerAndPodmanOutsideKubernetes) {
  StartLabels d = labels_from_cgroup("/system.slice/docker-4f2a1b3c5d6e7f8091a2b3c4d5e6f708.scope", "/usr/sbin/nginx");
  EXPECT_EQ(d.kind, "container");
  EXPECT_EQ(d.runtime, "docker");
  EXPECT_EQ(d.service, "nginx");
  EXPECT_EQ(d.container_id, "4f2a1b3c5d6e7f8091a2b3c4d5e6f708");
  StartLabels dfs = labels_from_cgroup("/docker/4f2a1b3c5d6e7f8091a2b3c4d5e6f708", "/app");
  EXPECT_EQ(dfs.kind, "container");
  EXPECT_EQ(dfs.runtime, "docker");
  StartLabels p = labels_from_cgroup("/machine.slice/libpod-9e8d7c6b5a4f3e2d.scope", "/usr/bin/memcached");
  EXPECT_EQ(p.runtime, "podman");
  EXPECT_EQ(p.service, "memcached");
  StartLabels rootless = labels_from_cgroup(
      "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-9e8d7c6b5a4f3e2d.scope", "/app");
  EXPECT_EQ(rootless.kind, "container");
  EXPECT_EQ(labels_from_cgroup("/libpod_parent/libpod-9e8d7c6b5a4f3e2d", "/app").runtime, "podman");
}

TEST(WatchLabels, OtherCgroupsNameTheExecutable) {
  StartLabels c = labels_from_cgroup("/coldstart/1234-7", "/usr/bin/redis-server");
  EXPECT_EQ(c.kind, "coldstart");
  EXPECT_EQ(c.service, "redis-server");
  StartLabels other = labels_from_cgroup("/batch/job42", "/opt/job/run");
  EXPECT_EQ(other.kind, "cgroup");
  EXPECT_EQ(other.service, "run");
  EXPECT_EQ(labels_for_match("/usr/bin/python3").service, "python3");
  EXPECT_EQ(labels_for_match("/usr/bin/python3").kind, "match");
}

TEST(WatchLabels, LabelsStayBounded) {
  // A scope that is not a container ID, a long executable name: nothing unbounded leaks through.
  EXPECT_EQ(exe_basename(std::string(300, 'x')).size(), 64u);
  EXPECT_EQ(labels_from_cgroup("/system.slice/docker-notanid.scope", "/x").kind, "systemd");
  EXPECT_EQ(bounded_unit_name("plain.service").first, "plain.service");
  EXPECT_EQ(bounded_unit_name("run-u12.service").first, "run.service");
}

}  // namespace
}  // namespace coldstart::watch
