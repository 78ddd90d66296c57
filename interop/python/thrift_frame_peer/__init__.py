"""Python peer of thrift-frame: a ping server and a reconnecting ping client.

Both follow the CLI contract in interop/SPEC.md. Run them through bin/ping-server
and bin/ping-client after `make -C interop/python`.
"""
