"""The Nuanxin sync protocol: wire types, hybrid logical clock, merge rules, ledger, client.

Nothing in this package does I/O except `client.py` (HTTP); the rest is pure and takes `now`
and ids as arguments. The written protocol is docs/sync-protocol.md; comments cite its steps.
"""
