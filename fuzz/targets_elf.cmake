# libFuzzer targets of src/elf: every byte of a binary handed to `inspect`, its
# Go build info blob and the ld.so.cache it consults is untrusted input.
coldstart_fuzzer(elf_file SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/elf_file_fuzzer.cc LIBS coldstart_elf)
coldstart_fuzzer(elf_buildinfo SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/elf_buildinfo_fuzzer.cc LIBS coldstart_elf)
coldstart_fuzzer(elf_ldcache SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/elf_ldcache_fuzzer.cc LIBS coldstart_elf)
coldstart_fuzzer(elf_pclntab SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/elf_pclntab_fuzzer.cc LIBS coldstart_elf)
