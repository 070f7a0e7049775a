# Two commands matter: `make demo` and `make test`. Both build .venv on first use, from the lock files
# (every package of the dependency tree pinned with its hashes); `make lock` refreshes them from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
# `make test` runs the suite on this many pytest-xdist workers (most of a test's time is spent waiting on servers and
# subprocesses); worker N uses Redis database <REDIS_URL's> + N. TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 4

.PHONY: demo test install install-test lock clean pubsub-stubs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e . -e ./sandboxes
	scripts/unshadow-redis $(BIN)

install-test: $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e . -e ./sandboxes
	scripts/unshadow-redis $(BIN)
	scripts/ensure-chromium
	scripts/ensure-redis-server
	scripts/ensure-nginx

# The one command that refreshes the lock files (uv, pinned, in a throwaway virtualenv); commit both.
lock:
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet uv==$(UV_VERSION)
	.lock-venv/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) --quiet -o requirements.lock
	.lock-venv/bin/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) --quiet -o requirements-test.lock

# The Pub/Sub API stubs (connectors/salesforce/pubsub/): generated from our pubsub.proto and committed. Only what is used
# is kept: the stub and the servicer (the sandbox's); grpc's unused EXPERIMENTAL static-call class and the type stubs
# are dropped, so the tree holds no generated near-copies.
PUBSUB := connectors/salesforce/pubsub
pubsub-stubs: install-test
	$(BIN)/python -m grpc_tools.protoc -I $(PUBSUB) --python_out=$(PUBSUB) --grpc_python_out=$(PUBSUB) $(PUBSUB)/pubsub.proto
	sed -i 's/^import pubsub_pb2 as/from connectors.salesforce.pubsub import pubsub_pb2 as/' $(PUBSUB)/pubsub_pb2_grpc.py
	sed -i '/^ *# This class is part of an EXPERIMENTAL API/,$$d' $(PUBSUB)/pubsub_pb2_grpc.py

demo: install
	$(BIN)/intermission demo

test: install-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .lock-venv .intermission build *.egg-info
