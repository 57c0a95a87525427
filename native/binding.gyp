{
  "targets": [
    {
      "target_name": "fplc_libpcap",
      "sources": ["src/libpcap_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node:path').dirname(require.resolve('node-addon-api'))\")"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "libraries": ["-lpcap"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
