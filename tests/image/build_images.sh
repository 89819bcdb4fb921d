#!/bin/sh
# ctest fixture setup of the image tests: builds real images with podman
# (FROM scratch + COPY, offline) from the example services and saves each in
# both archive formats. podman's storage is a temporary --root/--runroot of
# its own (vfs driver), removed before this script ends, on every path.
#
#   build_images.sh FIXTURE_DIR OUT_DIR
#     OUT_DIR/go.oci.tar, go.docker.tar         one layer: the static Go service
#     OUT_DIR/cpp.oci.tar, cpp.docker.tar       the C++ service + each shared library in a layer of its own
#     OUT_DIR/many.oci.tar, many.docker.tar     24 small layers, then the static Go service
set -eu
FIXTURES=${1:?fixture dir}
OUT=${2:?output dir}
command -v podman >/dev/null || { echo "build_images: podman is not installed (scripts/setup)" >&2; exit 1; }
rm -rf "$OUT"
# A test that finds no stamp rebuilds: write it only when all is saved.
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coldstart-images-XXXXXX")
trap 'podman --root "$WORK/root" --runroot "$WORK/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT INT TERM
P="podman --root $WORK/root --runroot $WORK/run --storage-driver vfs --cgroup-manager cgroupfs --events-backend none"

build() {  # build NAME CONTEXT
  $P build -q --layers -t "coldstart-test/$1:1" -f "$2/Containerfile" "$2" >/dev/null
  $P save -q --format oci-archive -o "$OUT/$1.oci.tar" "coldstart-test/$1:1"
  $P save -q --format docker-archive -o "$OUT/$1.docker.tar" "coldstart-test/$1:1"
}

# 1. Go, one layer.
mkdir -p "$WORK/go"
cp "$FIXTURES/go-user-service-static" "$WORK/go/server"
printf 'FROM scratch\nCOPY server /app/server\nENV ADDR=127.0.0.1:0\nWORKDIR /app\nENTRYPOINT ["/app/server"]\n' > "$WORK/go/Containerfile"
build go "$WORK/go"

# 2. C++: the binary and, one layer each, the shared libraries it loads on this host.
mkdir -p "$WORK/cpp"
cp "$FIXTURES/user-service" "$WORK/cpp/user-service"
printf 'FROM scratch\n' > "$WORK/cpp/Containerfile"
n=0
for lib in $(ldd "$FIXTURES/user-service" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
  n=$((n + 1))
  cp -L "$lib" "$WORK/cpp/lib$n"
  printf 'COPY lib%s %s\n' "$n" "$lib" >> "$WORK/cpp/Containerfile"
done
printf 'COPY user-service /usr/local/bin/user-service\nENV ADDR=127.0.0.1:0\nENTRYPOINT ["user-service"]\n' >> "$WORK/cpp/Containerfile"
build cpp "$WORK/cpp"

# 3. Many small layers.
mkdir -p "$WORK/many"
printf 'FROM scratch\n' > "$WORK/many/Containerfile"
for i in $(seq 1 24); do
  printf 'config %s\n' "$i" > "$WORK/many/c$i"
  printf 'COPY c%s /etc/app/conf.d/%02d.conf\n' "$i" "$i" >> "$WORK/many/Containerfile"
done
cp "$FIXTURES/go-user-service-static" "$WORK/many/server"
printf 'COPY server /server\nENV ADDR=127.0.0.1:0\nENTRYPOINT ["/server"]\n' >> "$WORK/many/Containerfile"
build many "$WORK/many"
echo "build_images: $(ls "$OUT" | wc -l) archives in $OUT"
