# The two commands a newcomer needs: `make run` and `make test`.
SWIFT ?= swift
DEMO_DIR ?= .demo
DEMO_DB ?= $(DEMO_DIR)/opsdeck.db
DEMO_CONFIG ?= $(DEMO_DIR)/opsdeck.toml
RELEASE_BIN = .build/release/opsdeck
LINT_PATHS = Package.swift Sources Tests

.PHONY: all deps build release run test bench lint format docs clean

all: build

deps: .deps-installed

# Re-checked whenever the script changes; `make deps` after a manual removal.
.deps-installed: scripts/install-deps.sh
	@scripts/install-deps.sh
	@touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product opsdeck

# Builds in release mode, creates or reuses the demo database and opens the
# console on it with a simulated business running (q quits). The demo's
# lifecycle e-mails land in $(DEMO_DIR)/mail/new, a maildir.
run: release
	@mkdir -p $(DEMO_DIR)
	@test -f $(DEMO_CONFIG) || $(RELEASE_BIN) config example | sed \
		-e 's|^file = "opsdeck.log"|file = "$(DEMO_DIR)/opsdeck.log"|' \
		-e 's|^transport = "smtp"|transport = "file"|' \
		-e 's|^url = "smtp://localhost:25"|url = "file://$(CURDIR)/$(DEMO_DIR)/mail"|' > $(DEMO_CONFIG)
	$(RELEASE_BIN) --db $(DEMO_DB) --config $(DEMO_CONFIG) demo --scenario data/demo/scenario.json

# Unit and end-to-end tests. The end-to-end tests run the debug binary that
# this build produces.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: deps
	$(SWIFT) build -c release --product opsdeck
	$(SWIFT) build -c release --product opsdeck-bench
	.build/release/opsdeck-bench

lint:
	$(SWIFT) format lint --strict --recursive $(LINT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(LINT_PATHS)

# Regenerates the example configuration from the schema in the code.
docs: build
	.build/debug/opsdeck config example > data/opsdeck.example.toml
	.build/debug/opsdeck console --print-keys > .build/keys.md
	scripts/update-readme-config.sh

clean:
	rm -rf .build $(DEMO_DIR) .deps-installed
