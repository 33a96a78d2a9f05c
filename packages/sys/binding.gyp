{
  "targets": [
    {
      "target_name": "ebpf_sys",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/bound.cc",
        "src/bpf.cc",
        "src/maps.cc",
        "src/testrun.cc",
        "src/mmap.cc",
        "src/ringbuf.cc",
        "src/perf.cc",
        "src/poll.cc",
        "src/socket.cc",
        "src/limits.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    }
  ]
}
