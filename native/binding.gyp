{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["udp_batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS != 'linux'", {"type": "none"}]]
    },
    {
      "target_name": "mapped_file",
      "sources": ["mapped_file.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS == 'win'", {"type": "none"}]]
    },
    {
      "target_name": "cpu_slice",
      "sources": ["cpu_slice.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS != 'linux'", {"type": "none"}]]
    }
  ]
}
