"""A fourth host that lives only in tests: one folder, registered at test time with the registry's `register`.

Nothing outside this folder knows the name "testhost": its settings model, its `tenant add testhost` flags, its metric,
its admin words and its mapping picker all come from here, through the same registry line a built-in host declares
(handlers/hosts/<host>/host.py). Its reads and writes reuse the memo host's in-memory org (tests/memo_host.py).
"""
