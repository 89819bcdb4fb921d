// BPF maps mmapped into this process (ring buffers, the skeleton's .bss)
// are mapped with VM_MIXEDMAP, and fork() copies the page-table entries of
// such a mapping one by one instead of sharing them lazily: a 16 MiB ring
// buffer is mapped as 8,192 pages of data (twice: its data area is mapped
// back to back for wrap-around reads), and every launch that forks this
// process copies them in clone() and tears them down again in the child's
// exec. Measured on /bin/true under `trace --backend bpf`: the spawn phase
// took 0.83-1.14 ms with a 16 MiB buffer mapped, 0.39-0.61 ms with 1 MiB.
// The child never touches the maps (it only waits, joins its cgroup and
// execs), so they are kept out of it altogether.
#pragma once

namespace coldstart {

/// Marks every BPF-map mapping of this process MADV_DONTFORK, so that a
/// child forked later does not inherit it. Call it after the maps are
/// mmapped (skeleton loaded, ring buffer created) and before launching.
/// Returns how many mappings were marked; a failure to read
/// /proc/self/maps or to advise a range leaves that range inherited (the
/// cost above, not an error).
int keep_bpf_maps_out_of_forks();

}  // namespace coldstart
