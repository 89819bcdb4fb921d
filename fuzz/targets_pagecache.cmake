# libFuzzer targets of src/pagecache: the prewarm manifest is read from a file a
# user passes (possibly edited, truncated or not ours).
coldstart_fuzzer(manifest SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/pagecache_manifest.cc LIBS coldstart_pagecache)
