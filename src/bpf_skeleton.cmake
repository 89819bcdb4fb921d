# coldstart_bpf_skeleton(TARGET NAME [CFLAGS flag...]): the BPF program
# ${CMAKE_CURRENT_SOURCE_DIR}/<dir of TARGET's layer>/bpf/NAME.bpf.c, compiled
# and turned into a libbpf skeleton at build time, never committed:
#   vmlinux.h     <- bpftool btf dump file COLDSTART_VMLINUX_BTF format c (one
#                    dump for every program, in build/bpf/)
#   NAME.bpf.o    <- clang -O2 -g -target bpf (CO-RE: relocated at load time)
#   NAME.skel.h   <- bpftool gen skeleton, struct NAME_bpf (embeds the object;
#                    the layer's loader includes it)
# TARGET (the layer's library) builds after the skeleton and sees its
# directory and the program's headers privately. Used by trace, watch and
# pagecache (prewarm record's page tracer).
find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_CLANG clang REQUIRED)
set(COLDSTART_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF of the kernel whose types vmlinux.h describes")

set(COLDSTART_VMLINUX_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${COLDSTART_VMLINUX_DIR})
add_custom_command(
  OUTPUT ${COLDSTART_VMLINUX_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${COLDSTART_VMLINUX_BTF} format c > ${COLDSTART_VMLINUX_DIR}/vmlinux.h
  COMMENT "bpftool btf dump -> vmlinux.h"
  VERBATIM)
add_custom_target(coldstart_vmlinux_h DEPENDS ${COLDSTART_VMLINUX_DIR}/vmlinux.h)

function(coldstart_bpf_skeleton target name src)
  cmake_parse_arguments(B "" "" "CFLAGS" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}_bpf)
  file(MAKE_DIRECTORY ${out})
  file(GLOB headers CONFIGURE_DEPENDS ${src}/*.h)
  add_custom_command(
    OUTPUT ${out}/${name}.bpf.o
    COMMAND ${BPF_CLANG} -O2 -g -target bpf ${B_CFLAGS} -D__TARGET_ARCH_x86 -Wall -Werror
            -I${COLDSTART_VMLINUX_DIR} -I${src} -c ${src}/${name}.bpf.c -o ${out}/${name}.bpf.o
    DEPENDS ${src}/${name}.bpf.c ${headers} ${COLDSTART_VMLINUX_DIR}/vmlinux.h
    COMMENT "clang -target bpf ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out}/${name}.skel.h
    COMMAND ${BPFTOOL} gen skeleton ${out}/${name}.bpf.o name ${name}_bpf > ${out}/${name}.skel.h
    DEPENDS ${out}/${name}.bpf.o
    COMMENT "bpftool gen skeleton -> ${name}.skel.h"
    VERBATIM)
  add_custom_target(coldstart_${name}_skeleton DEPENDS ${out}/${name}.skel.h)
  add_dependencies(coldstart_${name}_skeleton coldstart_vmlinux_h)
  add_dependencies(${target} coldstart_${name}_skeleton)
  target_include_directories(${target} PRIVATE ${out} ${src})
endfunction()
