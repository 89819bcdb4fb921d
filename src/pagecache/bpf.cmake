# The pagecache layer's BPF program (prewarm record's page tracer), compiled
# and turned into a libbpf skeleton at build time, as trace's and watch's are:
#   vmlinux.h           <- bpftool btf dump (its own copy: trace's directory is
#                          not part of a fuzz build, this layer is)
#   page_trace.bpf.o    <- clang -O2 -g -target bpf (CO-RE)
#   page_trace.skel.h   <- bpftool gen skeleton (page_trace.cc includes it)
# Included from src/CMakeLists.txt right after coldstart_layer(pagecache ...).
find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_CLANG clang REQUIRED)
set(COLDSTART_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF of the kernel whose types vmlinux.h describes")

set(pc_bpf_out ${CMAKE_CURRENT_BINARY_DIR}/pagecache_bpf)
set(pc_bpf_src ${CMAKE_CURRENT_SOURCE_DIR}/pagecache/bpf)
file(MAKE_DIRECTORY ${pc_bpf_out})
add_custom_command(
  OUTPUT ${pc_bpf_out}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${COLDSTART_VMLINUX_BTF} format c > ${pc_bpf_out}/vmlinux.h
  COMMENT "bpftool btf dump -> pagecache vmlinux.h"
  VERBATIM)
add_custom_command(
  OUTPUT ${pc_bpf_out}/page_trace.bpf.o
  COMMAND ${BPF_CLANG} -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
          -I${pc_bpf_out} -I${pc_bpf_src} -c ${pc_bpf_src}/page_trace.bpf.c -o ${pc_bpf_out}/page_trace.bpf.o
  DEPENDS ${pc_bpf_src}/page_trace.bpf.c ${pc_bpf_src}/page_trace_events.h ${pc_bpf_out}/vmlinux.h
  COMMENT "clang -target bpf page_trace.bpf.c"
  VERBATIM)
add_custom_command(
  OUTPUT ${pc_bpf_out}/page_trace.skel.h
  COMMAND ${BPFTOOL} gen skeleton ${pc_bpf_out}/page_trace.bpf.o name page_trace_bpf > ${pc_bpf_out}/page_trace.skel.h
  DEPENDS ${pc_bpf_out}/page_trace.bpf.o
  COMMENT "bpftool gen skeleton -> page_trace.skel.h"
  VERBATIM)
add_custom_target(coldstart_pagecache_skeleton DEPENDS ${pc_bpf_out}/page_trace.skel.h)
add_dependencies(coldstart_pagecache coldstart_pagecache_skeleton)
target_include_directories(coldstart_pagecache PRIVATE ${pc_bpf_out} ${pc_bpf_src})
target_link_libraries(coldstart_pagecache PUBLIC PkgConfig::LIBBPF)
