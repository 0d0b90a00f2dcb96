"""The lab library the tests, the demo (tools/demo.py) and the benchmarks (bench/) share.

- ``hosts``: podman, bringing lab hosts up and down (tests/lab/create.yml, the one way
  hosts come up), commands, Python snippets and Mailman's REST API on a host;
- ``mail``: the one SMTP/IMAPS client of the provider stand-in (standard library only,
  it also runs on lab hosts).
"""
