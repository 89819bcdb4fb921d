# libFuzzer targets of src/image: image archives and their JSON documents come
# from wherever the user got the image.
coldstart_fuzzer(image_manifest SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/image_manifest_fuzzer.cc LIBS coldstart_image)
